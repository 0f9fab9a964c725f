"""Appeal pages. Thin: every rule and permission is in ``appeals.services``.

Access: anonymous → login. An appeal or entry of another delegation is a 404
for a lead (its existence is not confirmed); a role with no business with
appeals (a judge who is not the skill's chief, a user with no role) gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from teams import roles
from teams.models import Entry

from . import services
from .forms import AppealForm
from .models import Appeal, AppealAttachment


def _has_appeal_role(user) -> bool:
    return (
        roles.is_organiser(user)
        or roles.chief_skills(user).exists()
        or roles.lead_delegation(user) is not None
    )


def _visible_or_404(request: HttpRequest, appeal: Appeal) -> None:
    if not services.may_see(request.user, appeal):
        # Someone who works with appeals but not this one must not learn it exists.
        if _has_appeal_role(request.user):
            raise Http404
        raise PermissionDenied


@require_http_methods(["GET"])
def appeal_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _has_appeal_role(request.user):
        raise PermissionDenied
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
def appeal_file(request: HttpRequest, entry_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    own = roles.lead_delegation(request.user)
    if own is None:
        raise PermissionDenied
    entry = get_object_or_404(
        Entry.objects.select_related("skill__event__programme", "delegation"),
        pk=entry_id,
        delegation=own,
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
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    appeal = get_object_or_404(
        Appeal.objects.select_related("entry", "skill__event", "delegation", "filed_by"), pk=pk
    )
    _visible_or_404(request, appeal)
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
            "may_answer": appeal.is_open and services.may_answer(request.user, appeal),
            "may_decide": appeal.is_open and services.may_decide(request.user, appeal),
            "deadline_text": deadline_text,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET"])
def appeal_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    attachment = get_object_or_404(AppealAttachment.objects.select_related("appeal__skill"), pk=pk)
    _visible_or_404(request, attachment.appeal)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
