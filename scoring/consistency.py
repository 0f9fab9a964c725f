"""Judge consistency on judgement aspects.

For each judge of a skill: over every (entry, aspect) of a J aspect they
scored together with at least one other judge, the deviation of their score
from the panel mean of that (entry, aspect) — the plain mean of all its
scores, theirs included, whatever the skill's aggregation, so that judges
are compared on the same footing. Their average deviation is positive for a
lenient judge and negative for a severe one. Also counted: the flagged
(discrepant) aspects they were part of, using the skill's tolerance.

Exact Fractions; shown to 2 places (rounded half up, towards +∞). One query
for the marks, one for the panel.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from competitions.models import Skill
from teams.models import JudgeAssignment

from . import rules
from .models import AspectKind, Mark


@dataclass(frozen=True)
class JudgeConsistency:
    judge_id: int
    code: str
    name: str
    is_chief: bool
    scores: int  # J scores compared with a panel (pairs with 2+ scores)
    deviation: Fraction | None  # average (own − panel mean); None without scores
    discrepancies: int  # flagged (entry, aspect) pairs this judge scored

    @property
    def deviation_display(self) -> Decimal | None:
        return None if self.deviation is None else rules.round_half_up(self.deviation, 2)

    @property
    def leaning(self) -> str:
        if not self.deviation:
            return "neutral"
        return "lenient" if self.deviation > 0 else "severe"


def judge_consistency(skill: Skill) -> list[JudgeConsistency]:
    """Every judge of the skill's panel (and anyone else who gave J scores),
    by judge code."""
    by_pair: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for entry_id, aspect_id, judge_id, stored in (
        Mark.objects.filter(skill=skill, kind=AspectKind.JUDGEMENT)
        .order_by()
        .values_list("entry_id", "aspect_id", "judge_id", "value")
    ):
        by_pair[(entry_id, aspect_id)].append((judge_id, int(stored)))

    deviation_sum: dict[int, Fraction] = defaultdict(Fraction)
    compared: dict[int, int] = defaultdict(int)
    flagged: dict[int, int] = defaultdict(int)
    for scores in by_pair.values():
        values = [v for _j, v in scores]
        discrepant = rules.is_discrepant(
            rules.JudgementScores.of(values), skill.discrepancy_tolerance
        )
        mean = Fraction(sum(values), len(values))
        for judge_id, value in scores:
            if discrepant:
                flagged[judge_id] += 1
            if len(values) > 1:
                deviation_sum[judge_id] += value - mean
                compared[judge_id] += 1

    judges = {
        judge_id: (code, name, role == JudgeAssignment.Role.CHIEF)
        for judge_id, code, name, role in JudgeAssignment.objects.filter(skill=skill).values_list(
            "judge_id", "judge__code", "judge__name", "role"
        )
    }
    strangers = (set(compared) | set(flagged)) - set(judges)
    if strangers:  # scored once, no longer on the panel: still shown
        from teams.models import Judge

        for judge_id, code, name in Judge.objects.filter(pk__in=strangers).values_list(
            "id", "code", "name"
        ):
            judges[judge_id] = (code, name, False)

    out = [
        JudgeConsistency(
            judge_id=judge_id,
            code=code,
            name=name,
            is_chief=is_chief,
            scores=compared.get(judge_id, 0),
            deviation=(
                deviation_sum[judge_id] / compared[judge_id] if compared.get(judge_id) else None
            ),
            discrepancies=flagged.get(judge_id, 0),
        )
        for judge_id, (code, name, is_chief) in judges.items()
    ]
    out.sort(key=lambda j: j.code)
    return out
