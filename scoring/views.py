"""Marking pages. Thin: every rule lives in ``scoring.services``.

The chief judge's sign-off page for a skill: status, incomplete entries by
what is missing, discrepancies to acknowledge (scores side by side by judge
code), sign-off (confirming what other apps warn about, such as open
re-mark requests) and reopen with a reason. Only the skill's chief judge and
organisers reach it (``scoring.manage_skill``, docs/roles.md); the services
check again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from competitions.models import Skill
from portal.authz import objectgetter, permission_required
from teams.models import Entry

from . import schemes, services
from .models import Aspect, LedgerRecord, SkillMarking


@require_http_methods(["GET", "POST"])
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_id"))
def sign_off_page(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = get_object_or_404(Skill.objects.select_related("event"), pk=skill_id)

    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "sign_off":
                record = services.sign_off(
                    skill,
                    request.user,
                    warnings_confirmed=request.POST.get("warnings_ok") == "yes",
                )
                messages.success(
                    request,
                    _("Marks signed off and locked. Ledger chain head: %(head)s")
                    % {"head": record.hash},
                )
            elif action == "reopen":
                services.reopen(skill, request.user, request.POST.get("reason", ""))
                messages.success(request, _("Marking reopened."))
            elif action == "acknowledge":
                entry = get_object_or_404(Entry, pk=request.POST.get("entry"), skill=skill)
                aspect = get_object_or_404(Aspect, pk=request.POST.get("aspect"), skill=skill)
                services.acknowledge_discrepancy(
                    entry, aspect, request.user, request.POST.get("note", "")
                )
                messages.success(request, _("Discrepancy acknowledged."))
            else:
                messages.error(request, _("Unknown action."))
        except services.MarkRefused as exc:
            messages.error(request, exc.message)
        return redirect("scoring:sign_off", skill_id=skill.pk)

    marking = SkillMarking.objects.filter(skill=skill).select_related("signed_off_by").first()
    status = services.marking_status(skill)
    reopenings = (
        LedgerRecord.objects.filter(
            skill=skill, action__in=[LedgerRecord.Action.SIGN_OFF, LedgerRecord.Action.REOPEN]
        )
        .select_related("actor")
        .order_by("-seq")[:10]
    )
    return render(
        request,
        "scoring/sign_off.html",
        {
            "skill": skill,
            "marking": marking,
            "status": status,
            "scheme": schemes.scheme_summary(skill),
            "history": reopenings,
            # What the apps above ask to confirm first (open re-mark requests).
            "warnings": [] if status.signed_off else services.sign_off_warnings(skill),
        },
    )


urlpatterns: list = [
    path("skills/<int:skill_id>/sign-off/", sign_off_page, name="sign_off"),
]
