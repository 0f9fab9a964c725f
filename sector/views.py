"""Sector programme pages. Thin: rules in ``rewards``, ``theory``,
``selection`` and ``competitions.stages``.

Public: the programme page (stages, what happens next, events).
Organisers: the rewards register, rewards downloads, theory-exam upload,
the selection funnel and an athlete's path. Leads: their own delegation's
rewards of published skills.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from competitions import publication, stages
from competitions.models import Event, Programme
from draws.models import Draw
from portal.authz import permission_required
from teams import roles
from teams.models import Athlete, Delegation, Entry

from . import rewards, selection, theory
from .forms import RewardsForm, TheoryUploadForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _programme(code: str) -> Programme:
    return get_object_or_404(Programme, code=code)


def _event(code: str) -> Event:
    return get_object_or_404(Event.objects.select_related("programme"), code=code)


def _xlsx(buffer: io.BytesIO, filename: str) -> HttpResponse:
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def programme_page(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(code)
    events = selection.rounds(programme)
    drawn = set(
        Draw.objects.filter(skill__event__programme=programme).values_list(
            "skill__event_id", flat=True
        )
    )
    return render(
        request,
        "sector/programme.html",
        {
            "programme": programme,
            "stages": stages.programme_stages(programme),
            "current": stages.current_stage(programme),
            "next": stages.next_stage(programme),
            "events": [(e, e.pk in drawn) for e in events],
            "register": sorted(
                rewards.register_of(programme).values(),
                key=lambda r: rewards.OUTCOME_ORDER[r.outcome],
            ),
        },
    )


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def rewards_edit(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(code)
    register = rewards.register_of(programme)
    form = RewardsForm(request.POST or None, register=register)
    if request.method == "POST" and form.is_valid():
        rewards.set_rewards(programme, form.values(), request.user)
        messages.success(request, _("Rewards saved."))
        return redirect("sector:rewards", programme.code)
    return render(
        request,
        "sector/rewards.html",
        {
            "programme": programme,
            "form": form,
            "events": list(programme.events.order_by("starts_on", "code")),
        },
        status=400 if form.errors else 200,
    )


@permission_required("teams.organiser")
@require_GET
def rewards_download(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    buffer = io.BytesIO()
    rewards.export_rewards(event, buffer)
    return _xlsx(buffer, f"{event.code}-rewards.xlsx")


@permission_required("teams.lead")
@require_GET
def lead_rewards_download(request: HttpRequest, event_code: str) -> HttpResponse:
    """The lead's own delegation, once every skill of the event is published
    (as certificates: money follows the awards, so the same embargo)."""
    event = _event(event_code)
    delegation = roles.own_delegation(request.user)
    if not Entry.objects.filter(skill__event=event, delegation=delegation).exists():
        raise Http404
    if not publication.event_results_visible_to(request.user, event):
        raise PermissionDenied(_("Rewards are available once all results are published."))
    buffer = io.BytesIO()
    rewards.export_rewards(event, buffer, delegation=delegation, published_only=True)
    return _xlsx(buffer, f"{event.code}-{delegation.code}-rewards.xlsx")


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def theory_upload(request: HttpRequest, event_code: str) -> HttpResponse:
    event = _event(event_code)
    report = None
    form = TheoryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = theory.import_theory(
            event, form.cleaned_data["file"], request.user, dry_run=form.cleaned_data["dry_run"]
        )
        if report.ok and not form.cleaned_data["dry_run"]:
            messages.success(
                request,
                _("%(n)d marks written (%(u)d unchanged) for %(rows)d exam results.")
                % {"n": report.marks_written, "u": report.marks_unchanged, "rows": report.rows},
            )
            return redirect("sector:theory", event.code)
    return render(
        request,
        "sector/theory.html",
        {"event": event, "form": form, "report": report},
        status=400 if (report and not report.ok) or form.errors else 200,
    )


@permission_required("teams.organiser")
@require_GET
def funnel_page(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(code)
    delegation = Delegation.objects.filter(code=request.GET.get("delegation", "")[:20]).first()
    skill_code = request.GET.get("skill", "").strip()[:40]
    bars = selection.funnel(programme, delegation=delegation, skill_code=skill_code)
    labels = {"candidates": _("Candidates")}
    bars = [selection.FunnelBar(labels.get(b.label, b.label), b.count, b.is_final) for b in bars]
    query = request.GET.get("q", "")
    return render(
        request,
        "sector/funnel.html",
        {
            "programme": programme,
            "chart": selection.chart(bars),
            "bars": bars,
            "delegations": Delegation.objects.filter(
                entries__skill__event__programme=programme
            ).distinct(),
            "skill_codes": sorted(
                set(
                    programme.events.values_list("skills__code", flat=True).exclude(
                        skills__code=None
                    )
                )
            ),
            "delegation": delegation,
            "skill_code": skill_code,
            "query": query[:50],
            "found": selection.find_athletes(programme, query),
        },
    )


@permission_required("teams.organiser")
@require_GET
def athlete_path(request: HttpRequest, code: str, athlete_id: int) -> HttpResponse:
    programme = _programme(code)
    athlete = get_object_or_404(Athlete.objects.select_related("delegation"), pk=athlete_id)
    steps = selection.athlete_path(programme, athlete)
    if not any(s.entry for s in steps):
        raise Http404
    return render(
        request,
        "sector/path.html",
        {"programme": programme, "athlete": athlete, "steps": steps},
    )
