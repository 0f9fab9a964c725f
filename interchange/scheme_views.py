"""The marking-scheme page of a skill: the scheme tree, totals, the WSOS
variation report, upload (CIS workbook or aspects sheet) and downloads.

For organisers and the skill's chief judge. Thin: reading, validation and
writing live in ``interchange.cis``.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from competitions.models import Skill
from portal.authz import objectgetter, permission_required

from .cis.data import SCHEME_TOTAL, SchemeData, SchemeImportError, SchemeProblem
from .cis.reader import read_scheme
from .cis.store import apply_scheme, scheme_locked_reason, scheme_of
from .cis.variation import total_variation, wsos_variation
from .cis.workbook import load_scheme_workbook
from .cis.writer import export_workbook

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("aspects", "cis", "both")


class SchemeUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Workbook (.xlsx)"),
        help_text=gettext_lazy(
            "A WorldSkills CIS “Marking Scheme Import” workbook or our aspects sheet."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx workbook."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        return upload


def _skill_for(request: HttpRequest, skill_pk: int) -> Skill:
    """The skill of a view behind ``scoring.manage_skill``."""
    return get_object_or_404(Skill.objects.select_related("event"), pk=skill_pk)


def _page(
    request: HttpRequest,
    skill: Skill,
    form: SchemeUploadForm,
    problems: list[SchemeProblem] | None = None,
    uploaded: SchemeData | None = None,
) -> HttpResponse:
    data = scheme_of(skill)
    variation = wsos_variation(data)
    summary = data.summary()
    return render(
        request,
        "interchange/scheme.html",
        {
            "skill": skill,
            "data": data,
            "summary": summary,
            "total_ok": summary["aspects"] and summary["total"] == SCHEME_TOTAL,
            "variation": variation,
            "total_variation": total_variation(variation),
            "locked": scheme_locked_reason(skill),
            "form": form,
            "errors": [p for p in problems or [] if not p.warning],
            "warnings": [p for p in problems or [] if p.warning],
            "uploaded": uploaded,
            "formats": FORMATS,
        },
    )


@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def scheme_page(request: HttpRequest, skill_pk: int) -> HttpResponse:
    skill = _skill_for(request, skill_pk)
    if request.method != "POST":
        return _page(request, skill, SchemeUploadForm())
    form = SchemeUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, skill, form)
    data: SchemeData | None = None
    try:
        workbook = load_scheme_workbook(form.cleaned_data["file"])
        data = read_scheme(workbook, skill.code)
        report = apply_scheme(skill, data)
    except SchemeImportError as exc:
        problems = exc.problems + (data.warnings if data is not None else [])
        return _page(request, skill, form, problems, data)
    s = report.summary
    messages.success(
        request,
        _(
            "Marking scheme imported: %(criteria)s criteria, %(sub_criteria)s sub-criteria, "
            "%(aspects)s aspects (M %(measurement)s, J %(judgement)s), total %(total)s."
        )
        % s,
    )
    for p in report.warnings:
        where = " ".join(str(x) for x in (p.sheet, p.cell or p.row) if x)
        messages.warning(request, f"{where}: {p.render()}")
    return redirect("interchange:skill_scheme", skill_pk=skill.pk)


@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def scheme_download(request: HttpRequest, skill_pk: int, fmt: str) -> HttpResponse:
    skill = _skill_for(request, skill_pk)
    if fmt not in FORMATS:
        raise Http404
    buffer = io.BytesIO()
    export_workbook(skill, fmt).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    filename = f"{skill.event.code}-{skill.code}-marking-scheme-{fmt}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("scoring/skills/<int:skill_pk>/scheme/", scheme_page, name="skill_scheme"),
    path(
        "scoring/skills/<int:skill_pk>/scheme/download/<str:fmt>/",
        scheme_download,
        name="skill_scheme_download",
    ),
]
