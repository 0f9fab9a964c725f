"""Organisers' event workbook page: upload, follow the import, see the
result, download.

Thin: the form parses, ``interchange.jobs`` stores the upload and a
Celery job runs ``interchange.event_workbook``; the job page polls the progress
(htmx) and renders the report.
"""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from competitions.models import Event, ImportJob
from portal import spreadsheets
from portal.authz import permission_required
from portal.http import AuthenticatedRequest

from . import jobs, tasks
from .event_workbook.report import ImportReport
from .event_workbook.writer import build_workbook, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class EventWorkbookForm(forms.Form):
    event = forms.SlugField(
        label=_("Event code"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "event-codes"}),
        help_text=_("An unknown code creates the event."),
    )
    file = forms.FileField(label=_("Event workbook (.xlsx)"))
    dry_run = forms.BooleanField(label=_("Check only, write nothing"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx workbook."))
        return upload


def _xlsx_response(book: Workbook, filename: str) -> HttpResponse:
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@permission_required("teams.organiser")
def event_workbook(request: AuthenticatedRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        form = EventWorkbookForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = jobs.create_job(
                    form.cleaned_data["file"],
                    form.cleaned_data["event"],
                    user=request.user,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except spreadsheets.SpreadsheetRefused as exc:
                report = ImportReport(event_code=form.cleaned_data["event"])
                report.errors.append(exc.problem)
            else:
                tasks.run_import_job.delay(job.pk)
                return redirect("interchange:import_job", job_id=job.pk)
    else:
        form = EventWorkbookForm(initial={"event": request.GET.get("event", "")})
    context = {
        "form": form,
        "report": report,
        "events": Event.objects.select_related("programme").order_by("-starts_on", "code"),
        "jobs": ImportJob.objects.filter(created_by=request.user)[:10],
    }
    return render(request, "interchange/event_workbook.html", context)


@permission_required("teams.organiser")
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A workbook import: progress while it runs, then its report."""
    job = get_object_or_404(ImportJob, pk=job_id)
    state = jobs.job_state(job)
    return render(
        request,
        "interchange/import_job.html",
        {"state": state, "job": job, "report": state.report},
    )


@permission_required("teams.organiser")
def import_job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's box alone, polled by the job page (htmx) until it is finished."""
    job = get_object_or_404(ImportJob, pk=job_id)
    state = jobs.job_state(job)
    return render(
        request,
        "interchange/_import_job.html",
        {"state": state, "job": job, "report": state.report},
    )


@permission_required("teams.organiser")
def event_workbook_template(request: HttpRequest) -> HttpResponse:
    return _xlsx_response(template_workbook(), "event-workbook-template.xlsx")


@permission_required("teams.organiser")
def event_workbook_export(request: HttpRequest, code: str) -> HttpResponse:
    event = get_object_or_404(Event, code=code)
    return _xlsx_response(build_workbook(event), f"{event.code}.xlsx")
