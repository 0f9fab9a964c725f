"""What the chief judge needs before signing a skill off: completeness per
ranked entry, discrepancies, scheme problems (``marking_status``).

Completeness and discrepancy flags come from ``scoring.results.compute_skill``
(one definition for results, the sign-off page and the sign-off rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from . import schemes
from .models import AspectKind, DiscrepancyAcknowledgement, Mark, SkillMarking

if TYPE_CHECKING:
    from competitions.models import Skill


@dataclass
class Discrepancy:
    entry_id: int
    competitor_no: str
    aspect_id: int
    aspect_code: str
    scores: list[tuple[str, Decimal]]  # (judge code, score), by judge code
    spread: Decimal
    acknowledged: bool
    note: str = ""


@dataclass
class EntryStatus:
    entry_id: int
    competitor_no: str
    missing: list[str] = field(default_factory=list)  # "A1" (M) or "B2/J0007" (J)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class MarkingStatus:
    """What the chief judge needs before signing off: ranked entries with what
    they miss, flagged judgement aspects with their scores, scheme problems.
    Completeness and discrepancy flags come from ``scoring.results.compute_skill``
    (one definition for results, the sign-off page and the sign-off rule)."""

    signed_off: bool
    entries: list[EntryStatus]
    discrepancies: list[Discrepancy]
    scheme_problems: list[str]

    @property
    def incomplete(self) -> list[EntryStatus]:
        return [e for e in self.entries if not e.complete]

    @property
    def unacknowledged(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if not d.acknowledged]

    @property
    def can_sign_off(self) -> bool:
        return (
            not self.signed_off
            and not self.scheme_problems
            and bool(self.entries)
            and not self.incomplete
            and not self.unacknowledged
        )


def marking_status(skill: Skill) -> MarkingStatus:
    """Completeness per ranked entry and the skill's discrepancies."""
    # Imported here: results imports panels, and panels must stay importable alone.
    from .results import compute_skill

    results = compute_skill(skill)
    marking = SkillMarking.objects.filter(skill_id=skill.pk).first()
    statuses = [
        EntryStatus(o.entry_id, o.competitor_no, [str(m) for m in o.missing])
        for o in results.entries
        if o.ranked
    ]
    numbers = {o.entry_id: o.competitor_no for o in results.entries}
    flagged = results.discrepancies
    discrepancies: list[Discrepancy] = []
    if flagged:
        pairs = set(flagged)
        entry_ids = {e for e, _a in flagged}
        aspect_ids = {a for _e, a in flagged}
        scores: dict[tuple[int, int], list[tuple[str, Decimal]]] = {}
        for entry_id, aspect_id, code, value in (
            Mark.objects.filter(
                entry_id__in=entry_ids, aspect_id__in=aspect_ids, kind=AspectKind.JUDGEMENT
            )
            .order_by("judge__code")
            .values_list("entry_id", "aspect_id", "judge__code", "value")
        ):
            if (entry_id, aspect_id) in pairs:
                scores.setdefault((entry_id, aspect_id), []).append((code, value))
        notes = {
            (e, a): note
            for e, a, note in DiscrepancyAcknowledgement.objects.filter(
                entry_id__in=entry_ids, aspect_id__in=aspect_ids
            ).values_list("entry_id", "aspect_id", "note")
        }
        for entry_id, aspect_id in flagged:
            got = scores.get((entry_id, aspect_id), [])
            values = [v for _c, v in got]
            discrepancies.append(
                Discrepancy(
                    entry_id=entry_id,
                    competitor_no=numbers[entry_id],
                    aspect_id=aspect_id,
                    aspect_code=results.aspect_codes.get(aspect_id, str(aspect_id)),
                    scores=got,
                    spread=(max(values) - min(values)) if values else Decimal(0),
                    acknowledged=(entry_id, aspect_id) in notes,
                    note=notes.get((entry_id, aspect_id), ""),
                )
            )
    return MarkingStatus(
        signed_off=bool(marking and marking.is_signed_off),
        entries=statuses,
        discrepancies=discrepancies,
        scheme_problems=schemes.scheme_problems(skill.pk),
    )
