"""The marking sheet of one entry: aspects grouped by criterion, with the
buttons or field of each and the current mark."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from scoring.models import JUDGEMENT_SCORES, Aspect, AspectKind, Criterion, Mark
from teams.models import Entry

from .models import RemarkRequest
from .scope import Scope
from .values import plain


@dataclass
class Choice:
    value: str
    label: str
    descriptor: str = ""


@dataclass
class AspectItem:
    aspect: Aspect
    value: str  # current mark ("" if none) — the judge's own for J
    version: int
    choices: list[Choice]  # buttons; empty → numeric field
    step: str = ""
    remark: RemarkRequest | None = None


@dataclass
class SubGroup:
    code: str
    name: str
    items: list[AspectItem] = field(default_factory=list)


@dataclass
class CriterionGroup:
    code: str
    name: str
    subs: list[SubGroup] = field(default_factory=list)


# M aspects with at most this many values, on a 0.5 grid, get buttons.
MAX_BUTTONS = 5
HALF = Decimal("0.5")


def measurement_step(aspect: Aspect) -> Decimal:
    """Aspects carry no step of their own (yet): a max on the 0.5 grid up to 2
    marks is given in halves; anything else to the hundredth the service
    accepts. An ``aspect.step`` attribute, if the scheme grows one, wins."""
    step = getattr(aspect, "step", None)
    if step:
        return Decimal(step)
    if aspect.max_mark % HALF == 0 and aspect.max_mark / HALF + 1 <= MAX_BUTTONS:
        return HALF
    return Decimal("0.01")


def choices_for(aspect: Aspect, descriptors: dict[int, str]) -> list[Choice]:
    if aspect.kind == AspectKind.JUDGEMENT:
        return [Choice(str(s), str(s), descriptors.get(s, "")) for s in JUDGEMENT_SCORES]
    step = measurement_step(aspect)
    count = aspect.max_mark / step + 1
    if count != count.to_integral_value() or count > MAX_BUTTONS:
        return []
    return [Choice(plain(step * i), plain(step * i)) for i in range(int(count))]


def entry_sheet(scope: Scope, entry: Entry) -> list[CriterionGroup]:
    """The aspects this judge may mark for the entry, grouped by criterion and
    sub-criterion, with the current value and version of each mark."""
    from scoring.models import JudgementDescriptor

    allowed = scope.allowed.get(entry.pk, frozenset())
    aspects = sorted(
        (a for a in scope.aspects if a.pk in allowed),
        key=lambda a: (
            a.sub_criterion.criterion.order,
            a.sub_criterion.criterion.code,
            a.sub_criterion.order,
            a.sub_criterion.code,
            a.order,
            a.code,
        ),
    )
    descriptors: dict[int, dict[int, str]] = defaultdict(dict)
    for aspect_id, score, text in JudgementDescriptor.objects.filter(
        aspect__in=[a.pk for a in aspects if a.is_judgement]
    ).values_list("aspect_id", "score", "text"):
        descriptors[aspect_id][score] = text
    current: dict[int, tuple[Decimal, int]] = {}
    for aspect_id, stored, version in (
        Mark.objects.filter(entry=entry, aspect__in=aspects)
        .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=scope.judge))
        .values_list("aspect_id", "value", "version")
    ):
        current[aspect_id] = (stored, version)
    remarks = {
        r.aspect_id: r
        for r in RemarkRequest.objects.filter(
            entry=entry, judge=scope.judge, resolved_at__isnull=True
        )
    }
    groups: list[CriterionGroup] = []
    for aspect in aspects:
        sub = aspect.sub_criterion
        crit: Criterion = sub.criterion
        if not groups or groups[-1].code != crit.code:
            groups.append(CriterionGroup(crit.code, crit.name))
        if not groups[-1].subs or groups[-1].subs[-1].code != sub.code:
            groups[-1].subs.append(SubGroup(sub.code, sub.name))
        value, version = current.get(aspect.pk, (None, 0))
        groups[-1].subs[-1].items.append(
            AspectItem(
                aspect=aspect,
                value=plain(value),
                version=version,
                choices=choices_for(aspect, descriptors[aspect.pk]),
                step="" if aspect.is_judgement else plain(measurement_step(aspect)),
                remark=remarks.get(aspect.pk),
            )
        )
    return groups
