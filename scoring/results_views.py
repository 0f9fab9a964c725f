"""Results and judge-consistency pages of a skill, for its chief judge and
organisers. Thin: the numbers come from
``scoring.results`` and ``scoring.consistency``.

Names and delegations are shown to organisers always and to the chief judge
only after sign-off (解密, docs/integrity.md): before that, competitor numbers.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from competitions.models import Skill
from portal.authz import objectgetter, permission_required
from teams import roles
from teams.models import Entry, EntryMember

from . import rules
from .consistency import judge_consistency
from .results import compute_skill

# Chart geometry (display only, never a mark): a bar's half-width in % of the chart.
HALF = 50


def _managed_skill(request: HttpRequest, skill_id: int) -> Skill:
    """The skill of a view behind ``scoring.manage_skill``."""
    return get_object_or_404(Skill.objects.select_related("event", "event__programme"), pk=skill_id)


def _revealed(request: HttpRequest, skill: Skill) -> bool:
    if roles.is_organiser(request.user):
        return True
    from .services import names_revealed

    return names_revealed(skill)


@require_GET
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_id"))
def skill_results(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = _managed_skill(request, skill_id)
    results = compute_skill(skill)
    revealed = _revealed(request, skill)
    people: dict[int, tuple[str, str]] = {}
    if revealed:
        delegations = dict(Entry.objects.filter(skill=skill).values_list("id", "delegation__code"))
        names: dict[int, list[str]] = {}
        for entry_id, name in (
            EntryMember.objects.filter(entry__skill=skill)
            .order_by("entry_id", "id")
            .values_list("entry_id", "athlete__name")
        ):
            names.setdefault(entry_id, []).append(name)
        people = {e: ("、".join(names.get(e, [])), code) for e, code in delegations.items()}
    statuses = dict(Entry.Status.choices)
    rows = [
        {
            "o": o,
            "status": statuses.get(o.status, o.status),
            "raw_total": o.raw_total_decimal,
            "names": people.get(o.entry_id, ("", ""))[0],
            "delegation": people.get(o.entry_id, ("", ""))[1],
            "missing": [str(m) for m in o.missing],
            "flagged": [results.aspect_codes.get(a, str(a)) for a in o.discrepancies],
        }
        for o in results.entries
    ]
    ranked = [o for o in results.entries if o.ranked]
    return render(
        request,
        "scoring/results.html",
        {
            "skill": skill,
            "results": results,
            "rows": rows,
            "revealed": revealed,
            "ranked_count": len(ranked),
            "complete_count": sum(1 for o in ranked if o.complete),
            "missing_count": results.missing_count,
            "discrepancy_count": len(results.discrepancies),
            "programme": skill.event.programme,
        },
    )


def _bar(deviation: Fraction | None, largest: Fraction) -> dict:
    if not deviation or not largest:
        return {"x": Decimal(HALF), "width": Decimal(0)}
    width = rules.round_half_up(abs(deviation) / largest * HALF, 1)
    x = Decimal(HALF) if deviation > 0 else Decimal(HALF) - width
    return {"x": x, "width": width}


@require_GET
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_id"))
def skill_consistency(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = _managed_skill(request, skill_id)
    judges = judge_consistency(skill)
    largest = max((abs(j.deviation) for j in judges if j.deviation), default=Fraction(0))
    rows = [{"j": j, "bar": _bar(j.deviation, largest)} for j in judges]
    return render(
        request,
        "scoring/consistency.html",
        {
            "skill": skill,
            "rows": rows,
            "largest": rules.round_half_up(largest, 2),
            "chart_height": 28 * len(rows) + 10,
        },
    )


urlpatterns = [
    path("skills/<int:skill_id>/results/", skill_results, name="results"),
    path("skills/<int:skill_id>/consistency/", skill_consistency, name="consistency"),
]
