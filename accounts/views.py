"""Account pages. Organisers only, except the one-time sign-in link, which
is for the person it was issued to. Thin: the rules are in ``services``.

Credentials (links, temporary passwords) are shown once, in the response to
the POST that made them, and never stored in plain form.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from competitions.models import Skill
from portal.authz import permission_required
from teams import roles

from . import forms, services, sheets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 100
ROLE_FILTERS = ("organiser", "lead", "chief", "judge")


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=6, border=2)
    return image.to_string(encoding="unicode")


def _sheet(request: HttpRequest, credentials: list[services.Credential]) -> HttpResponse:
    """The printable credentials sheet, shown once."""
    cards = []
    for c in credentials:
        url = None
        if c.token:
            url = request.build_absolute_uri(reverse("accounts:welcome", args=[c.token]))
        cards.append({"c": c, "url": url, "svg": mark_safe(_qr_svg(url)) if url else None})
    response = render(
        request,
        "accounts/credentials.html",
        {"cards": cards, "login_url": request.build_absolute_uri(reverse("login"))},
    )
    response["Cache-Control"] = "no-store"
    return response


def _issue(user: User, by, method: str) -> services.Credential:
    if method == "password":
        return services.issue_password(user, by)
    return services.issue_link(user, by)


@permission_required("teams.organiser")
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    role = request.GET.get("role", "")
    role = role if role in ROLE_FILTERS else ""
    page = Paginator(services.accounts(query, role), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"user": u, "roles": services.role_labels(u), "link": services.open_link(u)}
        for u in page.object_list
    ]
    return render(
        request,
        "accounts/list.html",
        {"rows": rows, "page": page, "q": query, "role": role, "role_filters": ROLE_FILTERS},
    )


def _initial_from_query(request: HttpRequest) -> dict:
    """``?role=chief&skill=<pk>`` (the readiness checklist links here)."""
    initial: dict = {}
    role = request.GET.get("role", "")
    if role in services.ROLES:
        initial["role"] = role
    skill_pk = request.GET.get("skill", "")
    if skill_pk.isdigit():
        skill = Skill.objects.filter(pk=int(skill_pk)).first()
        if skill is not None:
            initial["skill"] = skill
            chief = skill.assignments.filter(role="chief", judge__user__isnull=True).first()
            if chief is not None:
                initial["judge"] = chief.judge
    delegation = request.GET.get("delegation", "")
    if delegation.isdigit():
        initial["delegation"] = int(delegation)
    return initial


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def account_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = forms.AccountForm(initial=_initial_from_query(request))
        return render(request, "accounts/new.html", {"form": form})
    form = forms.AccountForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            user = services.create_account(
                username=d["username"],
                name=d["name"],
                email=d["email"],
                spec=form.spec(),
                by=request.user,
            )
        except services.AccountRefused as exc:
            form.add_error(None, exc.message)
        else:
            return _sheet(request, [_issue(user, request.user, d["method"])])
    return render(request, "accounts/new.html", {"form": form})


def _account(pk: int) -> User:
    return get_object_or_404(services.accounts(), pk=pk)


def _act(request: HttpRequest, user: User, action: str) -> None:
    by = request.user
    if action == "deactivate":
        services.set_active(user, False, by)
        messages.success(request, _("Account deactivated: it can no longer sign in."))
    elif action == "activate":
        services.set_active(user, True, by)
        messages.success(request, _("Account activated."))
    elif action == "remove_organiser":
        services.remove_organiser(user, by)
        messages.success(request, _("Organiser role removed."))
    elif action == "remove_lead":
        services.remove_lead(user, by)
        messages.success(request, _("Delegation lead role removed."))
    elif action == "unlink_judge":
        services.unlink_judge(user, by)
        messages.success(request, _("The account is no longer linked to the judge."))
    elif action == "profile":
        form = forms.ProfileForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter a name and a valid e-mail address."))
            return
        services.update_profile(user, form.cleaned_data["name"], form.cleaned_data["email"], by)
        messages.success(request, _("Saved."))
    elif action == "add_role":
        role_form = forms.RoleForm(request.POST)
        if not role_form.is_valid():
            messages.error(request, _("Choose a role and what it is for."))
            return
        services.add_role(user, role_form.spec(), by)
        messages.success(request, _("Role added."))
    else:
        messages.error(request, _("Unknown action."))


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _account(pk)
    if request.method == "POST":
        try:
            _act(request, user, request.POST.get("action", ""))
        except services.AccountRefused as exc:
            messages.error(request, exc.message)
        return redirect("accounts:detail", pk=user.pk)
    return render(
        request,
        "accounts/detail.html",
        {
            "account": user,
            "roles_of": services.role_labels(user),
            "is_organiser_account": user.groups.filter(name=roles.ORGANISER_GROUP).exists(),
            "link": services.open_link(user),
            "profile_form": forms.ProfileForm(
                initial={"name": user.first_name or user.get_full_name(), "email": user.email}
            ),
            "role_form": forms.RoleForm(),
            "reset_form": forms.ResetForm(),
        },
    )


@permission_required("teams.organiser")
@require_POST
def account_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = _account(pk)
    form = forms.ResetForm(request.POST)
    method = form.cleaned_data["method"] if form.is_valid() else "link"
    try:
        credential = services.reset(user, request.user, method)
    except services.AccountRefused as exc:
        messages.error(request, exc.message)
        return redirect("accounts:detail", pk=user.pk)
    return _sheet(request, [credential])


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def bulk(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "accounts/bulk.html", {"form": forms.BulkForm()})
    form = forms.BulkForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "accounts/bulk.html", {"form": form})
    report = sheets.read_bulk(form.cleaned_data["file"], form.cleaned_data["event"])
    report = sheets.apply_bulk(report, request.user)
    if report.errors or not report.created:
        return render(request, "accounts/bulk.html", {"form": form, "report": report})
    method = form.cleaned_data["method"]
    return _sheet(request, [_issue(u, request.user, method) for u in report.created])


@permission_required("teams.organiser")
@require_GET
def leads_template(request: HttpRequest) -> HttpResponse:
    buffer = io.BytesIO()
    sheets.leads_template().save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="leads-template.xlsx"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link: set a password, then signed in. Works once."""
    link = services.link_for_token(token)
    if link is None:
        return render(request, "accounts/link_invalid.html", status=404)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.redeem(token, form.cleaned_data["new_password1"])
        if user is None:
            return render(request, "accounts/link_invalid.html", status=404)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your password is set. Welcome."))
        return redirect("home")
    response = render(request, "accounts/welcome.html", {"form": form, "account": link.user})
    # The token is in the URL: keep it out of other sites' logs ("no-referrer"
    # would make the browser send Origin: null, which CSRF refuses).
    response["Referrer-Policy"] = "same-origin"
    return response
