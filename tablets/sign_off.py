"""What stops sign-off, by competitor number and judge code (docs/chief-board.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scoring import services as scoring
from scoring.models import Aspect, AspectKind

if TYPE_CHECKING:
    from competitions.models import Skill


@dataclass
class Blocker:
    """One entry that stops sign-off: measurement aspects without a mark,
    judgement scores missing by judge code, unacknowledged discrepancies."""

    competitor_no: str
    measurement: list[str] = field(default_factory=list)
    judges: dict[str, list[str]] = field(default_factory=dict)  # judge code → aspect codes
    unscorable: list[str] = field(default_factory=list)  # J aspects no judge may score
    discrepancies: list[str] = field(default_factory=list)


@dataclass
class Blockers:
    entries: list[Blocker]
    judges: list[tuple[str, int, list[str]]]  # judge code, scores missing, competitor numbers

    def __bool__(self) -> bool:
        return bool(self.entries)


def sign_off_blockers(skill: Skill, status: scoring.MarkingStatus) -> Blockers:
    """Exactly what stops sign-off, by competitor number and judge code."""
    measured = set(
        Aspect.objects.filter(skill=skill, kind=AspectKind.MEASUREMENT).values_list(
            "code", flat=True
        )
    )
    rows: dict[str, Blocker] = {}
    order: list[str] = []

    def row(no: str) -> Blocker:
        if no not in rows:
            rows[no] = Blocker(no)
            order.append(no)
        return rows[no]

    per_judge: dict[str, list[str]] = defaultdict(list)
    for e in status.incomplete:
        b = row(e.competitor_no)
        for item in e.missing:
            aspect_code, _sep, judge_code = item.partition("/")
            if not judge_code:
                # A judgement aspect missing without a judge: nobody may score it.
                (b.measurement if aspect_code in measured else b.unscorable).append(aspect_code)
            else:
                b.judges.setdefault(judge_code, []).append(aspect_code)
                per_judge[judge_code].append(e.competitor_no)
    for d in status.unacknowledged:
        row(d.competitor_no).discrepancies.append(d.aspect_code)
    judges = [
        (code, len(nos), sorted(set(nos), key=_natural_no))
        for code, nos in sorted(per_judge.items())
    ]
    return Blockers([rows[no] for no in order], judges)


def _natural_no(no: str) -> tuple:
    return (0, int(no), no) if no.isdigit() else (1, 0, no)
