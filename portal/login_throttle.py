"""Password-login throttling: one limit per username, a higher one per address.

django-axes counts failures per lockout parameter (settings
``AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]``) but compares every
count with the same ``AXES_FAILURE_LIMIT``. A venue's organisers and leads
may share one address, so the address gets its own, higher limit
(``PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT``). See docs/integrity.md.

- a username is locked after ``AXES_FAILURE_LIMIT`` failures within the
  cool-off time, whichever addresses they came from;
- an address is locked after ``PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT`` failures
  within the cool-off time, whichever usernames were tried.

A successful login clears the failures of that username only: an attacker's
own account, signed in from the attacking address, must not wipe the
address's count (axes' default reset deletes every attempt of the address).
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum

DEFAULT_ADDRESS_LIMIT = 30


def address_failure_limit() -> int:
    return int(getattr(settings, "PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", DEFAULT_ADDRESS_LIMIT))


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LoginThrottleHandler(AxesDatabaseHandler):
    def _recent(self, request) -> QuerySet:
        attempts = AccessAttempt.objects.all()
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts

    def failures_by_username(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        return _failures(self._recent(request).filter(username=username))

    def failures_by_address(self, request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        return _failures(self._recent(request).filter(ip_address=address))

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The username's count, raised to the username limit once the
        address has reached its own limit (axes compares the result with
        AXES_FAILURE_LIMIT)."""
        by_username = self.failures_by_username(request, credentials)
        if self.failures_by_address(request) >= address_failure_limit():
            return max(by_username, get_failure_limit(request, credentials))
        return by_username

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
