"""Pages of delegation leads and judges. Thin: rules live in teams.services.

Every look-up of an athlete or entry by id goes through the lead's own
delegation, so another delegation's id is a 404, never a peek.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Skill
from portal.authz import objectgetter, permission_required

from . import roles, services
from .forms import AthleteForm, RegisterEntryForm
from .models import Athlete, Entry


def _flatten(exc: ValidationError) -> list[str]:
    return list(exc.messages)


@permission_required("teams.lead")
def delegation(request: HttpRequest) -> HttpResponse:
    own = roles.own_delegation(request.user)
    athletes = own.athletes.order_by("name").prefetch_related("memberships__entry__skill")
    return render(
        request,
        "teams/delegation.html",
        {
            "delegation": own,
            "athletes": athletes,
            "events": services.delegation_places(own),
            "now": timezone.now(),
        },
    )


@permission_required("teams.lead")
def athlete_add(request: HttpRequest) -> HttpResponse:
    own = roles.own_delegation(request.user)
    form = AthleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            athlete = services.add_athlete(own, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Athlete %(name)s added.") % {"name": athlete.name})
            return redirect("teams:delegation")
    return render(request, "teams/athlete_form.html", {"form": form, "delegation": own})


@permission_required("teams.lead")
def athlete_edit(request: HttpRequest, pk: int) -> HttpResponse:
    own = roles.own_delegation(request.user)
    athlete = get_object_or_404(Athlete, pk=pk, delegation=own)
    locking_event = services.locking_event(athlete)
    form = AthleteForm(request.POST or None, athlete=athlete, locked=locking_event is not None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_athlete(athlete, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Athlete %(name)s saved.") % {"name": athlete.name})
            return redirect("teams:delegation")
    return render(
        request,
        "teams/athlete_form.html",
        {
            "form": form,
            "delegation": own,
            "athlete": athlete,
            "locking_event": locking_event,
            "history": services.athlete_identity_history(athlete, masked=True),
        },
    )


@permission_required("teams.lead")
def register_entry(request: HttpRequest, skill_pk: int) -> HttpResponse:
    own = roles.own_delegation(request.user)
    skill = get_object_or_404(Skill.objects.select_related("event"), pk=skill_pk)
    problem = services.registration_problem(own, skill)
    form = RegisterEntryForm(request.POST or None, delegation=own, skill=skill)
    if request.method == "POST" and problem is None and form.is_valid():
        try:
            entry = services.register_entry(own, skill, list(form.cleaned_data["athletes"]))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Entered in %(skill)s with competitor number %(no)s.")
                % {"skill": skill, "no": entry.competitor_no},
            )
            return redirect("teams:delegation")
    return render(
        request,
        "teams/register_entry.html",
        {
            "delegation": own,
            "skill": skill,
            "form": form,
            "problem": _flatten(problem) if problem else None,
        },
    )


@permission_required("teams.lead")
def withdraw_entry(request: HttpRequest, pk: int) -> HttpResponse:
    own = roles.own_delegation(request.user)
    entry = get_object_or_404(Entry.objects.select_related("skill__event"), pk=pk, delegation=own)
    problem = services.withdrawal_problem(own, entry)
    error = None
    if request.method == "POST":
        try:
            services.withdraw_entry(own, entry)
        except ValidationError as exc:
            error = _flatten(exc)
        else:
            messages.success(
                request,
                _("Entry %(no)s in %(skill)s withdrawn.")
                % {"no": entry.competitor_no, "skill": entry.skill},
            )
            return redirect("teams:delegation")
    return render(
        request,
        "teams/withdraw_entry.html",
        {
            "delegation": own,
            "entry": entry,
            "is_open": entry.skill.event.registration_open(),
            "problem": _flatten(problem) if problem else None,
            "error": error,
        },
        status=400 if error else 200,
    )


@permission_required("teams.judge_skill", fn=objectgetter(Skill), role="teams.judge")
def judge_skill(request: HttpRequest, pk: int) -> HttpResponse:
    judge = roles.own_judge(request.user)
    skill = get_object_or_404(Skill.objects.select_related("event"), pk=pk)
    is_chief = roles.is_chief_of(request.user, skill)
    revealed = services.names_revealed(skill)
    return render(
        request,
        "teams/judge_skill.html",
        {
            "judge": judge,
            "skill": skill,
            "is_chief": is_chief,
            "revealed": revealed,
            "entries": services.judge_entries(skill, judge, revealed=revealed),
            "panel": services.judge_panel(skill) if is_chief else None,
        },
    )
