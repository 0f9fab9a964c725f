"""Pages of the awards app. Thin: who may do what in ``awards.permissions``
(docs/roles.md), the rules in the modules named by question (``batches``,
``layouts``, ``medals``…).

Certificate PDFs are streamed here after a permission check; the batches'
zips are generated files, downloaded through the files app's checked view
(docs/exports.md). Nothing is linked as a public media URL.
"""

from __future__ import annotations

import copy

import rules
from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from competitions.models import Event, Programme, Skill
from operations import ratelimit
from portal.authz import objectgetter, permission_required
from scoring.models import SkillMarking
from teams import roles

from . import batches, charts, layouts, medals, previews, rendering, serials, tasks, verification
from .forms import LayoutForm
from .models import Certificate, CertificateBatch

# ------------------------------------------------------------------ medal tables


def _chart(lines) -> charts.MedalChart:
    return charts.medal_chart(
        lines, code=lambda m: m.delegation_code, name=lambda m: m.delegation_name
    )


@permission_required("awards.see_medal_table", fn=objectgetter(Event, "event_code", "code"))
@permission_required("awards.recompute_medals", methods=["POST"])
@require_http_methods(["GET", "POST"])
def medal_table(request: HttpRequest, event_code: str) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("programme"), code=event_code)
    if request.method == "POST":
        queued = tasks.request_event_recompute(event)
        messages.success(
            request,
            _("Recomputation queued for %(n)d signed-off skills.") % {"n": queued},
        )
        return redirect("awards:medal_table", event_code=event.code)
    # Organisers also count the signed-off skills not yet published.
    organiser = rules.has_perm("teams.organiser", request.user)
    table = medals.event_medal_table(event, include_unpublished=organiser)
    return render(
        request,
        "awards/medal_table.html",
        {
            "event": event,
            "table": table,
            "rows": table.lines,
            "chart": _chart(table.lines),
            "include_unpublished": organiser,
            "skills": medals.skill_medals(event),
        },
    )


@permission_required(
    "awards.see_programme_medal_table",
    fn=objectgetter(Programme, "programme_code", "code"),
)
@require_GET
def programme_medal_table(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme = get_object_or_404(Programme, code=programme_code)
    events = list(programme.events.all())
    organiser = rules.has_perm("teams.organiser", request.user)
    table = medals.programme_medal_table(programme, include_unpublished=organiser)
    return render(
        request,
        "awards/programme_medal_table.html",
        {
            "programme": programme,
            "table": table,
            "rows": table.lines,
            "chart": _chart(table.lines),
            "include_unpublished": organiser,
            "events": events,
        },
    )


# ------------------------------------------------------------------ certificates


@permission_required("awards.manage_certificates")
@require_http_methods(["GET", "POST"])
def certificates_page(request: HttpRequest, event_code: str) -> HttpResponse:
    """The organiser starts a batch here and watches it run."""
    event = get_object_or_404(Event.objects.select_related("programme"), code=event_code)
    if request.method == "POST":
        with transaction.atomic():
            batch = tasks.start_batch(event, request.user)
        return redirect(f"{reverse('awards:certificates', args=[event.code])}?batch={batch.pk}")
    recent = list(event.certificate_batches.select_related("archive")[:10])
    current = None
    if request.GET.get("batch", "").isdigit():
        current = next((b for b in recent if b.pk == int(request.GET["batch"])), None)
    current = current or (recent[0] if recent else None)
    skills = Skill.objects.filter(event=event).order_by("code")
    signed = set(
        SkillMarking.objects.filter(
            skill__event=event, status=SkillMarking.Status.SIGNED_OFF
        ).values_list("skill_id", flat=True)
    )
    return render(
        request,
        "awards/certificates.html",
        {
            "event": event,
            "batches": recent,
            "current": current,
            "files_available": current is not None and batches.batch_files_available(current),
            "skills_total": skills.count(),
            "skills_signed_off": len(signed),
            "awards_count": event_award_count(event),
            "live_certificates": Certificate.objects.filter(event=event, revoked=False).count(),
        },
    )


def event_award_count(event: Event) -> int:
    from .models import Award

    return Award.objects.filter(skill__event=event).count()


def _stream(name: str, filename: str, content_type: str) -> FileResponse:
    try:
        fh = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(fh, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required("awards.see_lead_certificates", fn=objectgetter(Event, "event_code", "code"))
@require_GET
def lead_certificates(request: HttpRequest, event_code: str) -> HttpResponse:
    """A delegation lead's certificates of one event and their zip."""
    event = get_object_or_404(Event, code=event_code)
    delegation = roles.own_delegation(request.user)
    batch = (
        CertificateBatch.objects.filter(event=event, status=CertificateBatch.Status.DONE)
        .select_related("archive")
        .order_by("-finished_at")
        .first()
    )
    z = (
        batch.delegation_zips.filter(delegation=delegation).select_related("generated").first()
        if batch
        else None
    )
    certs = (
        Certificate.objects.filter(event=event, delegation=delegation, revoked=False)
        .select_related("athlete", "entry__skill")
        .order_by("entry__skill__code", "serial")
    )
    return render(
        request,
        "awards/lead_certificates.html",
        {
            "event": event,
            "delegation": delegation,
            "batch": batch if batch and batches.batch_files_available(batch) else None,
            "zip": z,
            "certificates": certs,
        },
    )


@permission_required(
    "awards.download_certificate",
    fn=objectgetter(Certificate.objects.select_related("event"), "serial", "serial"),
)
@require_GET
def certificate_pdf(request: HttpRequest, serial: str) -> HttpResponseBase:
    cert = get_object_or_404(Certificate.objects.select_related("event"), serial=serial)
    if not cert.file:
        raise Http404
    return _stream(cert.file.name, f"{cert.serial}.pdf", "application/pdf")


# ------------------------------------------------------------------ layout editor


@permission_required("awards.manage_certificates")
@require_http_methods(["GET", "POST"])
def layout_editor(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme = get_object_or_404(Programme, code=programme_code)
    layout = layouts.layout_for(programme)
    if request.method == "POST":
        form = LayoutForm(request.POST, request.FILES, layout=layout)
        if form.is_valid():
            before = layouts.layout_signature(layout)
            form.apply(layout)
            upload = form.cleaned_data.get("background")
            changed = (
                upload is not None
                or form.cleaned_data["clear_background"]
                or layouts.layout_signature(layout) != before
            )
            if changed:
                layouts.save_layout(
                    layout,
                    background=(upload.name, upload.read()) if upload else None,
                    clear_background=form.cleaned_data["clear_background"],
                    page_changed=before[:2] != (layout.page_size, layout.orientation),
                )
                messages.success(
                    request,
                    _(
                        "Layout saved (version %(v)d). The next certificate batch "
                        "renders every certificate again."
                    )
                    % {"v": layout.version},
                )
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("awards:layout_editor", programme_code=programme.code)
    else:
        form = LayoutForm(layout=layout)
    return render(
        request,
        "awards/layout_editor.html",
        {"programme": programme, "layout": layout, "form": form},
    )


@permission_required("awards.manage_certificates")
@require_http_methods(["GET", "POST"])
def layout_preview(request: HttpRequest, programme_code: str) -> HttpResponse:
    """A PNG (or ``?format=pdf``) of the sample certificate, drawn by the same
    code as real ones; POST previews the editor's unsaved values."""
    programme = get_object_or_404(Programme, code=programme_code)
    layout = layouts.layout_for(programme)
    background = None
    if request.method == "POST":
        form = LayoutForm(request.POST, request.FILES, layout=layout)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        layout = copy.copy(layout)  # never saved: the preview leaves the layout alone
        form.apply(layout)
        upload = form.cleaned_data.get("background")
        if form.cleaned_data["clear_background"]:
            background = b""
        elif upload is not None:
            pagesize = layouts.page_size_points(layout)
            background = previews.normalise_background(upload.name, upload.read(), pagesize)
        elif layout.background:
            # page proportions may differ from the stored render: redo it
            with default_storage.open(layout.background.name, "rb") as fh:
                background = previews.normalise_background(
                    layout.background.name, fh.read(), layouts.page_size_points(layout)
                )
    pdf = rendering.preview_pdf(layout, background=background)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(pdf, content_type="application/pdf")
    else:
        response = HttpResponse(previews.pdf_to_png(pdf, dpi=72), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ verification


@require_GET
def verify(request: HttpRequest, serial: str) -> HttpResponse:
    """Public: confirms name, skill, award and event — and nothing more.
    Rate-limited per client address, so serials cannot be tried in bulk."""
    decision = ratelimit.hit(
        request,
        "verify",
        settings.PORTAL_VERIFY_RATE_LIMIT,
        settings.PORTAL_VERIFY_RATE_WINDOW,
    )
    if not decision.allowed:
        response = render(
            request,
            "awards/verify.html",
            {
                "serial": serial[: serials.SERIAL_MAX_LENGTH],
                "limited": True,
                "retry_after": decision.retry_after,
            },
            status=429,
        )
        response["Retry-After"] = str(decision.retry_after)
    else:
        result = verification.verify(serial)
        response = render(
            request,
            "awards/verify.html",
            {
                "serial": serial[: serials.SERIAL_MAX_LENGTH],
                "result": result,
                "checked_at": timezone.now(),
            },
            status={"valid": 200, "revoked": 410}.get(result.status, 404),
        )
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"
    return response
