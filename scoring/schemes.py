"""Is a skill's marking scheme complete? (issue 3, capability 1)

Marking opens only when ``scheme_problems(skill)`` is empty: ``write_mark``
refuses otherwise. Problems:

- the skill has no aspects;
- the aspects' max marks do not total exactly 100 (the message shows the sum
  and the difference);
- a criterion with a stated ``max_mark`` differs from the sum of its aspects;
- an aspect hangs under a sub-criterion of another skill.

Warnings (shown, never blocking): a judgement aspect without its four
descriptors 0–3. Imported CIS schemes carry them; hand-made schemes may not.

Three queries per call, exact Decimal sums.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count
from django.utils.translation import gettext as _

from .models import Aspect, AspectKind, Criterion

if TYPE_CHECKING:
    from competitions.models import Skill

SCHEME_TOTAL = Decimal("100.00")
CENT = Decimal("0.01")


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


@dataclass
class SchemeSummary:
    total: Decimal = Decimal("0.00")
    aspect_count: int = 0
    measurement_count: int = 0
    judgement_count: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        """Total − 100 (negative when marks are missing)."""
        return self.total - SCHEME_TOTAL

    @property
    def ok(self) -> bool:
        return not self.problems


def scheme_summary(skill: Skill | int) -> SchemeSummary:
    skill_id = skill if isinstance(skill, int) else skill.pk
    aspects = list(
        Aspect.objects.filter(skill_id=skill_id)
        .annotate(n_descriptors=Count("descriptors"))
        .values_list(
            "code",
            "kind",
            "max_mark",
            "sub_criterion__criterion_id",
            "sub_criterion__criterion__skill_id",
            "n_descriptors",
        )
        .order_by("order", "code")
    )
    summary = SchemeSummary()
    if not aspects:
        summary.problems.append(_("The marking scheme has no aspects yet."))
        return summary

    by_criterion: dict[int, Decimal] = defaultdict(Decimal)
    for code, kind, max_mark, criterion_id, criterion_skill_id, n_descriptors in aspects:
        summary.total += max_mark
        summary.aspect_count += 1
        by_criterion[criterion_id] += max_mark
        if criterion_skill_id != skill_id:
            summary.problems.append(
                _("Aspect %(code)s is filed under a criterion of another skill.") % {"code": code}
            )
        if kind == AspectKind.JUDGEMENT:
            summary.judgement_count += 1
            if n_descriptors < 4:
                summary.warnings.append(
                    _("Judgement aspect %(code)s has %(n)d of its 4 descriptors (scores 0–3).")
                    % {"code": code, "n": n_descriptors}
                )
        else:
            summary.measurement_count += 1

    if summary.total != SCHEME_TOTAL:
        diff = summary.total - SCHEME_TOTAL
        if diff < 0:
            msg = _("The aspects' max marks total %(total)s, not 100: %(diff)s marks are missing.")
        else:
            msg = _("The aspects' max marks total %(total)s, not 100: %(diff)s marks too many.")
        summary.problems.append(msg % {"total": _fmt(summary.total), "diff": _fmt(abs(diff))})

    for code, max_mark, criterion_id in Criterion.objects.filter(
        skill_id=skill_id, max_mark__isnull=False
    ).values_list("code", "max_mark", "id"):
        found = by_criterion.get(criterion_id, Decimal("0"))
        if found != max_mark:
            summary.problems.append(
                _(
                    "Criterion %(code)s is worth %(stated)s but its aspects total %(found)s "
                    "(difference %(diff)s)."
                )
                % {
                    "code": code,
                    "stated": _fmt(max_mark),
                    "found": _fmt(found),
                    "diff": _fmt(found - max_mark),
                }
            )
    return summary


def scheme_problems(skill: Skill | int) -> list[str]:
    """What keeps marking closed; empty when the scheme is complete."""
    return scheme_summary(skill).problems


def scheme_warnings(skill: Skill | int) -> list[str]:
    """What the organiser should look at but does not block marking."""
    return scheme_summary(skill).warnings
