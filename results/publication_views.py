"""Organisers' publication pages. Thin: the rules live in ``publishing``
(actions) and ``competitions.publication`` (state).

``competitions/publication/`` lists the events; ``…/<event code>/`` lists the
event's skills with their signed-off and published state, a publish button
(which asks for confirmation before anything is published), a button to the
unpublish form (reason required), and the event's publication log.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from competitions import publication
from competitions.models import Event, PublicationLog, Skill, SkillPublication
from portal.authz import permission_required

from . import publishing


@permission_required("teams.organiser")
def publication_index(request: HttpRequest) -> HttpResponse:
    events = Event.objects.select_related("programme").annotate(skill_count=Count("skills"))
    return render(request, "results/publication_index.html", {"events": events})


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def publication_event(request: HttpRequest, code: str) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("programme"), code=code)
    if request.method == "POST":
        skill = get_object_or_404(
            Skill.objects.select_related("marking__signed_off_by").annotate(
                entry_count=Count("entries")
            ),
            pk=request.POST.get("skill"),
            event=event,
        )
        if request.POST.get("confirm") != "1":
            # The list's button asks first: publishing shows the results to
            # every delegation and the public at once.
            return render(
                request,
                "results/publication_confirm.html",
                {"event": event, "skill": skill, "marking": getattr(skill, "marking", None)},
            )
        try:
            publishing.publish(skill, request.user)
        except publishing.PublicationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Results of %(skill)s published.") % {"skill": skill})
        return redirect("results:publication_event", code=event.code)

    skills = (
        Skill.objects.filter(event=event)
        .select_related("marking", "publication__published_by")
        .annotate(entry_count=Count("entries"))
        .order_by("code")
    )
    published = set(publication.published_skills(event).values_list("pk", flat=True))
    rows = [
        {
            "skill": skill,
            "signed_off": bool(getattr(skill, "marking", None) and skill.marking.is_signed_off),
            "published": skill.pk in published,
            "publication": _publication_of(skill),
        }
        for skill in skills
    ]
    log = (
        PublicationLog.objects.filter(skill__event=event)
        .select_related("skill", "actor")
        .order_by("-at", "-pk")[:200]
    )
    return render(
        request,
        "results/publication_event.html",
        {"event": event, "rows": rows, "log": log},
    )


def _publication_of(skill: Skill) -> SkillPublication | None:
    try:
        return skill.publication
    except SkillPublication.DoesNotExist:
        return None


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def publication_unpublish(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = get_object_or_404(
        Skill.objects.select_related("event").prefetch_related(
            Prefetch("publication_log", queryset=PublicationLog.objects.select_related("actor"))
        ),
        pk=skill_id,
    )
    error = ""
    if request.method == "POST":
        try:
            publishing.unpublish(skill, request.user, request.POST.get("reason", ""))
        except publishing.PublicationRefused as exc:
            error = exc.message
        else:
            messages.success(request, _("Results of %(skill)s unpublished.") % {"skill": skill})
            return redirect("results:publication_event", code=skill.event.code)
    return render(
        request,
        "results/publication_unpublish.html",
        {
            "skill": skill,
            "published": publication.is_published(skill),
            "error": error,
            "reason": request.POST.get("reason", ""),
        },
        status=400 if error else 200,
    )


urlpatterns: list = [
    path("publication/", publication_index, name="publication_index"),
    path("publication/<slug:code>/", publication_event, name="publication_event"),
    path(
        "publication/skills/<int:skill_id>/unpublish/",
        publication_unpublish,
        name="publication_unpublish",
    ),
]
