"""Request types for views behind a login or role check (for the type checker).

A view behind ``login_required`` or one of the role decorators only ever sees a
signed-in user; annotating its request as :class:`AuthenticatedRequest` says so,
instead of narrowing ``User | AnonymousUser`` in every view.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    user: User
