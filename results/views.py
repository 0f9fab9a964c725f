"""Outward-facing result pages. Thin: who may see what here, the
rest in ``services``.

Public pages (no login) show published skills only and answer 404 for a
skill that is not published, exactly as for one that does not exist. Lead
pages show the lead's own delegation; organiser pages need the organiser
role. Generated workbooks are streamed after a permission check, never
linked as media URLs.
"""

from __future__ import annotations

import io
from typing import TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from awards import visibility
from competitions import stages
from competitions.models import Event
from files import views as file_views
from portal.authz import objectgetter, permission_required
from portal.http import AuthenticatedRequest
from scoring import ledger
from teams import roles

from . import dashboards, readiness, refresh, services, tasks, workbooks
from .models import ExportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POLL_MIN, POLL_MAX, POLL_DEFAULT = 1, 60, 5
ROTATE_MIN, ROTATE_MAX = 4, 120


def _event(code: str) -> Event:
    return get_object_or_404(Event.objects.select_related("programme"), code=code)


def _optional_url(name: str, *args) -> str | None:
    """A link into an app that may not be wired into the site (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class _Path:
    """``reverse`` once for a page's hundred rows: the path of ``name`` with
    a placeholder as its last argument, the row's value put in its place."""

    MARKS = ("zz0placeholder0zz", "2147483646")  # for a slug, for an int

    def __init__(self, name: str, *args: object) -> None:
        for mark in self.MARKS:
            try:
                self.path = reverse(name, args=[*args, mark])
            except NoReverseMatch:
                continue
            self.mark = mark
            return
        raise NoReverseMatch(name)

    def __call__(self, value: object) -> str:
        return self.path.replace(self.mark, str(value))


_R = TypeVar("_R", bound=HttpResponseBase)


def _private(response: _R) -> _R:
    response["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------ public


@require_GET
def results_index(request: HttpRequest) -> HttpResponse:
    return render(request, "results/index.html", {"events": services.events_with_results()})


@require_GET
def event_results(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    medals = services.published_medal_table(event)
    return render(
        request,
        "results/event.html",
        {
            "event": event,
            "skills": services.published_skill_rows(event),
            "medals": medals,
            "chart": services.medal_chart(medals.lines, limit=10),
        },
    )


@require_GET
def skill_ranking(request: HttpRequest, event_code: str, skill_code: str) -> HttpResponse:
    event = _event(event_code)
    skill = services.published_skill(event, skill_code)
    if skill is None:
        raise Http404
    return render(
        request,
        "results/skill.html",
        {
            "event": event,
            "skill": skill,
            "lines": services.skill_rankings(skill),
            "ledger_head": ledger.signed_off_head(skill),
        },
    )


@require_GET
def medal_table(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    medals = services.published_medal_table(event)
    return render(
        request,
        "results/medals.html",
        {"event": event, "medals": medals, "chart": services.medal_chart(medals.lines)},
    )


def _poll_seconds(request: HttpRequest) -> int:
    raw = request.GET.get("every", "")
    value = int(raw) if raw.isdigit() else POLL_DEFAULT
    return max(POLL_MIN, min(POLL_MAX, value))


def _rotate_seconds(request: HttpRequest) -> int:
    raw = request.GET.get("rotate", "")
    value = int(raw) if raw.isdigit() else services.SCOREBOARD_ROTATE
    return max(ROTATE_MIN, min(ROTATE_MAX, value))


@require_GET
def scoreboard(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    every = _poll_seconds(request)
    return render(
        request,
        "results/scoreboard.html",
        {
            "event": event,
            "board": services.scoreboard(event),
            "every": every,
            "rotate": _rotate_seconds(request),
            "version": services.scoreboard_version(event),
        },
    )


@never_cache
@require_GET
def scoreboard_live(request: HttpRequest, event_code: str) -> HttpResponse:
    """The polled part of the scoreboard. When nothing changed since the
    version the screen shows, 204: htmx then keeps the screen as it is (no
    flicker on the big screen, and no rendering of the board)."""
    event = _event(event_code)
    version = services.scoreboard_version(event)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(
        request,
        "results/_scoreboard_live.html",
        {
            "event": event,
            "board": services.scoreboard(event),
            "every": _poll_seconds(request),
            "rotate": _rotate_seconds(request),
            "version": version,
        },
    )


# ------------------------------------------------------------------ delegation lead


@permission_required("teams.lead")
@require_GET
def lead_home(request: HttpRequest) -> HttpResponse:
    delegation = roles.own_delegation(request.user)
    events = dashboards.lead_events(delegation)
    if events:
        return redirect("results:lead_dashboard", event_code=events[0].code)
    return render(request, "results/lead_none.html", {"delegation": delegation})


def _lead_event(request: HttpRequest, event_code: str):
    delegation = roles.own_delegation(request.user)
    events = dashboards.lead_events(delegation)
    event = next((e for e in events if e.code == event_code), None)
    if event is None:
        raise Http404  # not one of the delegation's events
    return delegation, event, events


@permission_required("teams.lead")
@require_GET
def lead_dashboard(request: AuthenticatedRequest, event_code: str) -> HttpResponse:
    delegation, event, events = _lead_event(request, event_code)
    dash = dashboards.lead_dashboard(request.user, delegation, event)
    jobs = ExportJob.objects.filter(event=event, requested_by=request.user).select_related(
        "generated"
    )[:5]
    # Links into the awards app only where it serves this lead (its own rule).
    linkable = dash.certificates is not None and visibility.results_visible(event, request.user)
    certificates = [
        (c, _optional_url("awards:certificate_pdf", c.serial) if linkable and c.file else None)
        for c in dash.certificates or []
    ]
    return _private(
        render(
            request,
            "results/lead_dashboard.html",
            {
                "dash": dash,
                "skill_rows": _lead_rows(dash),
                "event": event,
                "events": events,
                "jobs": jobs,
                "certificates": certificates,
                "certificates_page": (
                    _optional_url("awards:lead_certificates", event.code) if linkable else None
                ),
                "rewards_download": _optional_url("sector:lead_rewards_download", event.code),
                "nominate": _optional_url("draws:nominate_page", event.code),
            },
        )
    )


def _lead_rows(dash: dashboards.LeadDashboard) -> list[dict]:
    """The dashboard's skills with their links (appeals only once published)."""
    skill_url, appeal_url = _Path("results:skill", dash.event.code), _Path("appeals:file")
    return [
        {
            "skill": s.skill,
            "published": s.published,
            "link": skill_url(s.skill.code) if s.published else "",
            "entries": [
                {**vars(le), "appeal_link": appeal_url(le.entry.pk) if s.published else ""}
                for le in s.entries
            ],
        }
        for s in dash.skills
    ]


@permission_required("teams.lead")
@require_GET
def lead_workbook(request: HttpRequest, event_code: str) -> HttpResponse:
    """(a) A small workbook: written in the request."""
    delegation, event, _events = _lead_event(request, event_code)
    buffer = io.BytesIO()
    workbooks.write_delegation_workbook(event, delegation, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    name = workbooks.workbook_filename(event, "results", delegation)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


# ------------------------------------------------------------------ exports (jobs)


@require_POST
@permission_required("results.export_rankings")
def rankings_export(request: HttpRequest, event_code: str) -> HttpResponse:
    """(b) The full published rankings: a Celery job, then the polling page."""
    event = _event(event_code)
    job = tasks.request_rankings_export(event, request.user)
    return redirect(f"{reverse('results:export_job', args=[job.pk])}?start=1")


def _job(request: HttpRequest, job_id: int) -> ExportJob:
    """The job of a view behind ``results.download_export`` (someone else's
    file answers 404: not even its existence, docs/roles.md)."""
    return get_object_or_404(ExportJob.objects.select_related("event", "generated"), pk=job_id)


@permission_required("results.download_export", fn=objectgetter(ExportJob, "job_id"), hide=True)
@require_GET
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    # The file's progress partial (files app) polls itself and offers the download.
    context = {"job": job, **file_views.progress_context(request, job.generated)}
    return _private(render(request, "results/export_job.html", context))


# ------------------------------------------------------------------ organiser


@permission_required("teams.organiser")
@require_GET
def organiser_events(request: HttpRequest) -> HttpResponse:
    events = Event.objects.select_related("programme")
    return render(request, "results/organiser_events.html", {"events": events})


@permission_required("teams.organiser")
@require_GET
def organiser_event(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    dash = dashboards.event_dashboard(event)
    refresh.queue(dash.stale_ids)
    return render(
        request,
        "results/organiser_event.html",
        {
            "event": event,
            "dash": dash,
            "rows": _organiser_rows(event, dash),
            "stage": stages.current_stage(event.programme),
            "next_stage": stages.next_stage(event.programme),
            "links": {
                "certificates": _optional_url("awards:certificates", event.code),
                "medal_table": _optional_url("awards:medal_table", event.code),
                "programme": _optional_url("sector:programme", event.programme.code),
                "draws": _optional_url("draws:event", event.code),
                "rewards": _optional_url("sector:rewards", event.programme.code),
                "rewards_download": _optional_url("sector:rewards_download", event.code),
                "theory": _optional_url("sector:theory", event.code),
                "funnel": _optional_url("sector:funnel", event.programme.code),
            },
        },
    )


@permission_required("teams.organiser")
@require_GET
def organiser_readiness(request: HttpRequest, event_code: str) -> HttpResponse:
    """The readiness checklist of the event dashboard, loaded by htmx after
    the page (it reads every open skill's panel)."""
    event = _event(event_code)
    checklist = readiness.event_readiness(event)
    return render(
        request,
        "results/_readiness.html",
        {
            "event": event,
            "readiness": checklist,
            "ready_count": sum(1 for r in checklist if r.ready),
            "marking_started": readiness.marking_started(event),
            "has_skills": bool(checklist) or event.skills.exists(),
        },
    )


def _organiser_rows(event: Event, dash: dashboards.EventDashboard) -> list[tuple]:
    """Each skill's progress with the links of its row."""
    paths = {
        "scheme": _Path("interchange:skill_scheme"),
        "sign_off": _Path("scoring:sign_off"),
        "results": _Path("scoring:results"),
        "unpublish": _Path("results:publication_unpublish"),
        "advancement": _Path("results:advancement_skill"),
    }
    public, draw = _Path("results:skill", event.code), _Path("draws:manage", event.code)
    return [
        (
            p,
            {
                **{key: path(p.skill.pk) for key, path in paths.items()},
                "public": public(p.skill.code),
                "draw": draw(p.skill.code),
            },
        )
        for p in dash.skills
    ]
