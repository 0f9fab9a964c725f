"""Organisers' event workbook page: upload, see the result, download.

Thin: the form parses, ``competitions.workbook`` does the work, the template
renders the report.
"""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from teams.roles import organiser_required

from .models import Event
from .workbook import build_workbook, import_workbook, template_workbook

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


@organiser_required
def event_workbook(request: HttpRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        form = EventWorkbookForm(request.POST, request.FILES)
        if form.is_valid():
            report = import_workbook(
                form.cleaned_data["file"],
                form.cleaned_data["event"],
                dry_run=form.cleaned_data["dry_run"],
                actor=request.user,
            )
    else:
        form = EventWorkbookForm(initial={"event": request.GET.get("event", "")})
    context = {
        "form": form,
        "report": report,
        "events": Event.objects.select_related("programme").order_by("-starts_on", "code"),
    }
    return render(request, "competitions/event_workbook.html", context)


@organiser_required
def event_workbook_template(request: HttpRequest) -> HttpResponse:
    return _xlsx_response(template_workbook(), "event-workbook-template.xlsx")


@organiser_required
def event_workbook_export(request: HttpRequest, code: str) -> HttpResponse:
    event = get_object_or_404(Event, code=code)
    return _xlsx_response(build_workbook(event), f"{event.code}.xlsx")
