"""The tablet's cookie: a random session token, checked on every request.

The cookie carries no user and no signature: it is 256 random bits whose
SHA-256 names a ``TabletSession`` row, so revoking the row (a lost tablet)
signs the tablet out at its very next request. The cookie is limited to
``/tablet/``, HttpOnly, SameSite=Lax, and Secure whenever the portal runs
with HTTPS settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from portal import authz

from . import services
from .models import TabletSession


class TabletRequest(HttpRequest):
    """A request behind ``tablet_required``: ``tablet`` is its signed-in session."""

    tablet: TabletSession


COOKIE = "tablet_session"
COOKIE_PATH = "/tablet/"


def client_ip(request: HttpRequest) -> str | None:
    """The tablet's address, trusting X-Forwarded-For only from the portal's
    own proxies (the same rule as the password logins' throttle)."""
    try:
        from operations.client_ip import client_ip as behind_proxy
    except ImportError:  # the operations app is optional here
        return request.META.get("REMOTE_ADDR") or None
    return behind_proxy(request)


def set_cookie(response: HttpResponse, session: TabletSession, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        expires=session.expires_at,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=not settings.DEBUG,
    )


def clear_cookie(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Lax")


# What guards the tablet pages: a judge's PIN session, not a user's permission
# (docs/roles.md); recorded on each view for the URL test.
SESSION_GUARD = "tablet PIN session"


def tablet_required(*, api: bool = False) -> Callable:
    """Views behind a live tablet session; sets ``request.tablet``.
    Pages send a signed-out tablet to the sign-in page; the API answers 401
    JSON so the tablet keeps its queued marks and asks the judge to sign in."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            session = services.session_for_token(request.COOKIES.get(COOKIE))
            if session is None:
                if api:
                    response: HttpResponse = JsonResponse(
                        {
                            "status": "signed_out",
                            "message": _("This tablet is signed out. Sign in again."),
                        },
                        status=401,
                    )
                else:
                    login = reverse("tablets:login")
                    response = redirect(f"{login}?{urlencode({'next': request.path})}")
                if COOKIE in request.COOKIES:
                    clear_cookie(response)
                return response
            cast(TabletRequest, request).tablet = session
            return view(request, *args, **kwargs)

        authz.guarded_by(wrapped, SESSION_GUARD)
        return wrapped

    return decorator
