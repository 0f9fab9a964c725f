"""Appeal pages. Thin: the rules are in ``appeals.services``, who may do what
in ``appeals.permissions`` (docs/roles.md).

Access: anonymous → login. An appeal or entry of another delegation is a 404
for a lead (its existence is not confirmed); a role with no business with
appeals (a judge who is not the skill's chief, a user with no role) gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.authz import objectgetter, permission_required
from teams.models import Entry

from . import services
from .forms import AppealForm
from .models import Appeal, AppealAttachment


def _attachment_appeal(request: HttpRequest, pk: int) -> Appeal:
    return get_object_or_404(AppealAttachment.objects.select_related("appeal__skill"), pk=pk).appeal


@require_http_methods(["GET"])
@permission_required("appeals.use")
def appeal_list(request: HttpRequest) -> HttpResponse:
    appeals = services.visible_appeals(request.user)
    return render(
        request,
        "appeals/list.html",
        {
            "open_appeals": [a for a in appeals if a.is_open],
            "closed_appeals": [a for a in appeals if not a.is_open],
            "appealable": services.appealable_entries(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(
    "appeals.file", fn=objectgetter(Entry, "entry_id"), role="teams.lead", hide=True
)
def appeal_file(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(
        Entry.objects.select_related("skill__event__programme", "delegation"), pk=entry_id
    )
    form = AppealForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            appeal = services.file_appeal(
                entry,
                request.user,
                form.cleaned_data["text"],
                form.cleaned_data["attachments"],
            )
        except services.AppealRefused as exc:
            error = exc.message
        else:
            messages.success(request, _("Your appeal was filed."))
            return redirect("appeals:detail", pk=appeal.pk)
    failed = request.method == "POST"
    deadline = services.appeal_deadline(entry.skill)
    return render(
        request,
        "appeals/file.html",
        {
            "entry": entry,
            "form": form,
            "error": error,
            "problem": services.filing_problem(request.user, entry),
            "deadline_text": services.format_deadline(deadline) if deadline else "",
        },
        status=400 if failed else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required("appeals.see", fn=objectgetter(Appeal), role="appeals.use", hide=True)
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("entry", "skill__event", "delegation", "filed_by"), pk=pk
    )
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        text = request.POST.get("text", "")
        try:
            if action == "answer":
                services.answer(appeal, request.user, text)
                messages.success(request, _("Answer recorded."))
            elif action in (services.Decision.REJECT, services.Decision.UPHOLD):
                services.decide(appeal, request.user, action, text)
                if action == services.Decision.UPHOLD:
                    messages.success(
                        request, _("Appeal upheld: marking reopened and results unpublished.")
                    )
                else:
                    messages.success(request, _("Appeal rejected."))
            else:
                error = _("Unknown action.")
        except services.AppealRefused as exc:
            error = exc.message
        if not error:
            return redirect("appeals:detail", pk=appeal.pk)
    deadline_text = services.format_deadline(appeal.deadline)
    return render(
        request,
        "appeals/detail.html",
        {
            "appeal": appeal,
            "events": appeal.events.select_related("actor"),
            "attachments": appeal.attachments.all(),
            "deadline_text": deadline_text,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET"])
@permission_required("appeals.see", fn=_attachment_appeal, role="appeals.use", hide=True)
def appeal_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    attachment = get_object_or_404(AppealAttachment.objects.select_related("appeal__skill"), pk=pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
