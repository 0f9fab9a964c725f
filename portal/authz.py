"""The one view decorator of the authorization layer (docs/roles.md).

Every permission is a named rule (django-rules) registered by an app's
``permissions.py``; a view names the permission it needs and, for an object
permission, how to fetch the object from the URL. The answer is the same on
every page:

- not signed in → the sign-in page (then back);
- signed in without the role (``role``) or the permission → 403;
- with the role, but the object is someone else's (``hide=True``: another
  delegation's appeal, another user's export) → 404, the answer for a
  guessed id, so its existence is not confirmed;
- an object that does not exist → 404 (``objectgetter``, from django-rules,
  takes a model or a queryset and answers 404).

The rules are asked directly (``rules.has_perm``), not through
``user.has_perm``: a superuser gets no pass that the rules do not give (an
organiser is one by the rules), and no database permission table is read.

Each guarded view carries ``authz`` (the permissions it checks, outermost
last); tests/portal/test_view_guards.py refuses a URL whose view has none and
is not on its public list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

import rules
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from rules.contrib.views import objectgetter

__all__ = ["GUARD_ATTRIBUTE", "guarded_by", "objectgetter", "permission_required"]

GUARD_ATTRIBUTE = "authz"

Getter = Callable[..., Any]
View = TypeVar("View", bound=Callable[..., Any])


def guarded_by(view: Callable, *guards: str) -> None:
    """Record on ``view`` what guards it (read by the URL test)."""
    setattr(view, GUARD_ATTRIBUTE, (*getattr(view, GUARD_ATTRIBUTE, ()), *guards))


def permission_required(
    perm: str,
    fn: Getter | None = None,
    *,
    role: str | None = None,
    hide: bool = False,
    methods: Iterable[str] | None = None,
) -> Callable[[View], View]:
    """Let the view run only for a user holding ``perm`` (on the object
    ``fn(request, *args, **kwargs)`` returns, if ``fn`` is given).

    ``role``: a permission without object checked first (403 without it), so
    that ``hide`` answers 404 only to those who work with such objects.
    ``methods``: check only requests of these methods (e.g. the organiser's
    POST on a page others may read); other requests pass untouched.
    """
    only = {m.upper() for m in methods} if methods is not None else None

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if only is not None and request.method not in only:
                return view(request, *args, **kwargs)
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if role is not None and not rules.has_perm(role, user):
                raise PermissionDenied
            obj = fn(request, *args, **kwargs) if fn is not None else None
            if not rules.has_perm(perm, user, obj):
                if hide:
                    raise Http404
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded_by(wrapped, *([role] if role else []), perm)
        return cast(View, wrapped)

    return decorator
