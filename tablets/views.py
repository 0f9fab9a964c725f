"""The judge's tablet pages and the mark endpoint. Thin: parse, call
``tablets.services`` (which calls the mark service), render.

Pages are gzipped (``gzip_page``): judges are on poor venue Wi-Fi and a
marking page of 60 aspects with descriptors is mostly repeated markup.
Django masks the CSRF token per response, which is what defeats BREACH-style
compression attacks on it.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import parse_etags, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from competitions.models import Skill
from scoring import services as scoring

from . import services
from .auth import TabletRequest, clear_cookie, client_ip, set_cookie, tablet_required
from .models import TabletSession


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/tablet/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# ---------------------------------------------------------------- getting in


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    error = ""
    code = ""
    throttled = False
    if request.method == "POST":
        code = request.POST.get("code", "").strip().upper()
        ip = client_ip(request)
        try:
            judge = services.check_pin(code, request.POST.get("pin", ""), ip)
        except services.PinThrottled:
            judge = None
            throttled = True
            error = _(
                "Too many wrong PINs from this tablet. Try again in 15 minutes, "
                "sign in with your QR code, or ask the chief judge for a new PIN."
            )
        else:
            if judge is None:
                error = _("Judge code or PIN is wrong.")
        if judge is not None:
            session, token = services.start_session(
                judge,
                via=TabletSession.Via.PIN,
                user_agent=request.headers.get("User-Agent", ""),
                ip=ip,
                device=request.POST.get("device", "").strip(),
            )
            response = redirect(_safe_next(request, reverse("tablets:home")))
            set_cookie(response, session, token)
            return response
    return render(
        request,
        "tablets/login.html",
        {"error": error, "code": code, "next": _safe_next(request, "")},
        status=429 if throttled else 200,
    )


@never_cache
@require_GET
def link(request: HttpRequest, token: str) -> HttpResponse:
    """A scanned QR code: sign the tablet in as that judge, then drop the
    token from the address bar (a redirect) so it is not left on screen."""
    found = services.link_for_token(token)
    if found is None:
        return render(request, "tablets/link_invalid.html", status=404)
    session, cookie_token = services.start_session(
        found.judge,
        via=TabletSession.Via.LINK,
        link=found,
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request),
    )
    response = redirect("tablets:home")
    set_cookie(response, session, cookie_token)
    return response


@require_POST
@tablet_required()
def logout(request: TabletRequest) -> HttpResponse:
    services.end_session(request.tablet)
    response = redirect("tablets:login")
    clear_cookie(response)
    return response


# ---------------------------------------------------------------- marking


def _skill_for(request: TabletRequest, skill_pk: int) -> Skill:
    """The skill if the judge is assigned to it (one query), else 404."""
    assigned = Skill.objects.filter(assignments__judge=request.tablet.judge)
    return get_object_or_404(assigned.select_related("event"), pk=skill_pk)


@gzip_page
@never_cache
@ensure_csrf_cookie
@tablet_required()
def home(request: TabletRequest) -> HttpResponse:
    judge = request.tablet.judge
    skills = []
    for skill in services.judge_skills(judge):
        scope = services.load_scope(skill, judge)
        done = total = 0
        for entry in scope.entries:
            d, t = scope.progress(entry.pk)
            done, total = done + d, total + t
        skills.append((skill, done, total, len(scope.entries)))
    if len(skills) == 1 and request.GET.get("stay") is None:
        return redirect("tablets:skill", skill_pk=skills[0][0].pk)
    return render(request, "tablets/home.html", {"skills": skills})


@gzip_page
@never_cache
@ensure_csrf_cookie
@tablet_required()
def skill(request: TabletRequest, skill_pk: int) -> HttpResponse:
    skill = _skill_for(request, skill_pk)
    revealed = scoring.names_revealed(skill)
    scope = services.load_scope(skill, request.tablet.judge)
    rows = services.entry_rows(scope, revealed)
    return render(
        request,
        "tablets/skill.html",
        {
            "skill": skill,
            "rows": rows,
            "revealed": revealed,
            "done": sum(r.done for r in rows),
            "total": sum(r.total for r in rows),
            "next": services.next_unmarked(scope),
            "remarks": services.open_remarks(request.tablet.judge, skill),
        },
    )


@gzip_page
@never_cache
@ensure_csrf_cookie
@tablet_required()
def entry(request: TabletRequest, skill_pk: int, no: str) -> HttpResponse:
    skill = _skill_for(request, skill_pk)
    scope = services.load_scope(skill, request.tablet.judge)
    found = services.find_entry(scope, no)
    if found is None:
        # Not offered (recused, outside the judge's groups, absent): the same
        # answer as an unknown number, so the page reveals nothing.
        raise Http404
    revealed = scoring.names_revealed(skill)
    done, total = scope.progress(found.pk)
    return render(
        request,
        "tablets/entry.html",
        {
            "skill": skill,
            "entry": found,
            "groups": services.entry_sheet(scope, found),
            "done": done,
            "total": total,
            "next": services.next_unmarked(scope, after_no=found.competitor_no),
            "locked": revealed,
            "names": services.entry_names([found]).get(found.pk, "") if revealed else "",
        },
    )


@require_POST
@tablet_required(api=True)
def api_mark(request: TabletRequest) -> JsonResponse:
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    reply = services.submit_mark(request.tablet, payload, ip=client_ip(request))
    return JsonResponse(reply.body, status=reply.status)


@never_cache
@require_GET
@tablet_required(api=True)
def api_poll(request: TabletRequest, skill_pk: int) -> HttpResponse:
    """Answered 304 when nothing the judge is shown changed since the ETag
    the tablet sends back (one indexed read); else the poll, with its ETag."""
    judge = request.tablet.judge
    raw = request.GET.get("entry", "")
    entry_id = int(raw) if raw.isdigit() else None
    etag = services.poll_etag(judge, skill_pk, entry_id)
    if etag is None:
        raise Http404  # not assigned to the skill: as an unknown skill
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response: HttpResponse = HttpResponseNotModified()
    else:
        skill = _skill_for(request, skill_pk)
        entry = services.offered_entry(skill, judge, entry_id) if entry_id else None
        response = JsonResponse(services.poll(judge, skill, entry))
    response["ETag"] = etag
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker must be served from /tablet/ to control /tablet/
    pages. It is a template so it can precache the static files under their
    real (hashed, in production) names."""
    response = render(
        request, "tablets/sw.js", content_type="application/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    return response
