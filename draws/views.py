"""Draw pages. Thin: the rules are in ``services``.

* public: ``/draws/<event>/`` and ``/draws/<event>/<skill>/`` — pool by
  competitor number, seed, algorithm, keys, every draw with its reason;
* organisers: ``/draws/<event>/<skill>/manage/`` — close the pool, draw;
* leads: ``/draws/<event>/nominate/`` — nominate within quota.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from competitions.models import Event, Skill
from portal.authz import permission_required
from teams import roles
from teams.models import Entry, Quota

from . import services
from .forms import CloseForm, DrawForm
from .models import Nomination


def _event(code: str) -> Event:
    return get_object_or_404(Event.objects.select_related("programme"), code=code)


def _skill(event: Event, code: str) -> Skill:
    return get_object_or_404(
        Skill.objects.select_related("event__programme"), event=event, code=code
    )


@require_GET
def event_draws(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    skills = [
        (s, services.draws_of(s), s.pool_closures.first())
        for s in event.skills.order_by("code").prefetch_related("pool_closures")
    ]
    return render(request, "draws/event.html", {"event": event, "skills": skills})


@require_GET
def skill_draws(request: HttpRequest, event_code: str, skill_code: str) -> HttpResponse:
    event = _event(event_code)
    skill = _skill(event, skill_code)
    draws = [
        (d, services.pool_keys(d), services.recheck(d), services.recheck_snippet(d))
        for d in services.draws_of(skill)
    ]
    return render(
        request,
        "draws/skill.html",
        {
            "event": event,
            "skill": skill,
            "draws": draws,
            "closure": services.open_closure(skill),
        },
    )


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, event_code: str, skill_code: str) -> HttpResponse:
    event = _event(event_code)
    skill = _skill(event, skill_code)
    action = request.POST.get("action") if request.method == "POST" else None
    close_form = CloseForm(request.POST if action == "close" else None, final=skill)
    draw_form = DrawForm(request.POST if action == "draw" else None, final=skill)
    error = ""
    try:
        if action == "close" and close_form.is_valid():
            data = close_form.cleaned_data
            services.close_pool(skill, data["source_event"], data["seed_source"], request.user)
            messages.success(request, _("The pool is closed and announced."))
            return redirect("draws:manage", event.code, skill.code)
        if action == "draw" and draw_form.is_valid():
            data = draw_form.cleaned_data
            done = services.draw(
                skill,
                data["source_event"],
                count=data["count"],
                seed=data["seed"],
                reason=data["reason"],
                user=request.user,
            )
            messages.success(
                request,
                _("%(n)d entries drawn and entered in the final.") % {"n": len(done.result)},
            )
            return redirect("draws:manage", event.code, skill.code)
    except services.DrawRefused as exc:
        error = exc.message
    closure = services.open_closure(skill)
    return render(
        request,
        "draws/manage.html",
        {
            "event": event,
            "skill": skill,
            "close_form": close_form,
            "draw_form": draw_form,
            "error": error,
            "closure": closure,
            "pool": services.pool_entries(skill, closure.source_skill) if closure else [],
            "draws": services.draws_of(skill),
            "nominations": Nomination.objects.filter(skill=skill).select_related(
                "delegation", "created_entry"
            ),
        },
        status=400 if error else 200,
    )


@permission_required("teams.lead")
@require_GET
def nominate_page(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    delegation = roles.own_delegation(request.user)
    quotas = {q.skill_id: q.max_entries for q in Quota.objects.filter(delegation=delegation)}
    rows = []
    for skill in event.skills.order_by("code"):
        if skill.pk not in quotas:
            continue
        rows.append(
            {
                "skill": skill,
                "quota": quotas[skill.pk],
                "used": Entry.objects.filter(skill=skill, delegation=delegation).count(),
                "closed": services.pool_is_closed(skill),
                "candidates": services.nomination_candidates(delegation, skill),
                "nominated": Nomination.objects.filter(skill=skill, delegation=delegation)
                .select_related("created_entry")
                .prefetch_related("created_entry__members__athlete"),
            }
        )
    return render(
        request,
        "draws/nominate.html",
        {"event": event, "delegation": delegation, "rows": rows},
    )


@permission_required("teams.lead")
@require_POST
def nominate(request: HttpRequest, event_code: str, skill_code: str) -> HttpResponse:
    event = _event(event_code)
    skill = _skill(event, skill_code)
    raw = request.POST.get("entry", "").strip()
    entry = Entry.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 18 else None
    if entry is None:
        messages.error(request, _("Choose an entry to nominate."))
        return redirect("draws:nominate_page", event.code)
    try:
        services.nominate(request.user, skill, entry)
    except services.DrawRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Nominated for %(skill)s.") % {"skill": skill})
    return redirect("draws:nominate_page", event.code)
