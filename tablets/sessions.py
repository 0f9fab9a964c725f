"""Tablet sessions: opened by a PIN or a QR link, found from the cookie on
every request, ended by the judge or the chief judge."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from scoring import services as scoring
from teams.models import Judge

from .models import JudgeLink, TabletSession

if TYPE_CHECKING:
    from competitions.models import Skill


# last_seen is written at most this often: a tap must not cost an UPDATE.
LAST_SEEN_EVERY = dt.timedelta(seconds=60)
VENUE_TZ = ZoneInfo("Asia/Shanghai")


def session_hours() -> int:
    return int(getattr(settings, "TABLET_SESSION_HOURS", 14))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_expiry(now: dt.datetime) -> dt.datetime:
    """End of the competition day at the venue, or after the configured hours."""
    local = now.astimezone(VENUE_TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), VENUE_TZ)
    return min(midnight, now + dt.timedelta(hours=session_hours()))


def start_session(
    judge: Judge,
    *,
    via: str,
    user_agent: str = "",
    ip: str | None = None,
    device: str = "",
    link: JudgeLink | None = None,
    now: dt.datetime | None = None,
) -> tuple[TabletSession, str]:
    """Open a tablet session; returns it and the token for the cookie."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    session = TabletSession.objects.create(
        judge=judge,
        key_hash=token_hash(token),
        via=via,
        link=link,
        device=device[:200],
        user_agent=user_agent[:300],
        ip_address=ip,
        created_at=now,
        last_seen_at=now,
        expires_at=session_expiry(now),
    )
    return session, token


@cache
def _session_sql() -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    return (
        f"SELECT {scoring.select_columns(TabletSession, 's')},"
        f" {scoring.select_columns(Judge, 'j')}"
        f" FROM {qn(TabletSession._meta.db_table)} s"
        f" JOIN {qn(Judge._meta.db_table)} j"
        f" ON j.{col(Judge, 'id')} = s.{col(TabletSession, 'judge')}"
        f" WHERE s.{col(TabletSession, 'key_hash')} = %s"
        f" AND s.{col(TabletSession, 'revoked_at')} IS NULL"
        f" AND s.{col(TabletSession, 'expires_at')} > %s"
    )


def session_for_token(token: str | None, now: dt.datetime | None = None) -> TabletSession | None:
    """The live session of a cookie token, with its judge, or None (unknown,
    revoked, expired).

    Every tablet request asks this, so it is one prepared statement
    (``scoring.services.hot_cursor``) rather than an ORM query: what
    ``select_related("judge")`` would fetch, without compiling it each time.
    The judge's user is not fetched: the mark endpoint needs only its id
    (``judge.user_id``) and no page uses it."""
    if not token:
        return None
    now = now or timezone.now()
    with scoring.hot_cursor() as cursor:
        cursor.execute(_session_sql(), [token_hash(token), now])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(TabletSession._meta.concrete_fields)
    session = scoring.row_instance(TabletSession, row[:n])
    session.judge = scoring.row_instance(Judge, row[n:])
    if now - session.last_seen_at >= LAST_SEEN_EVERY:
        # Conditional, so the requests of one tablet in several workers
        # write it once a minute between them, not once each.
        TabletSession.objects.filter(pk=session.pk, last_seen_at__lte=now - LAST_SEEN_EVERY).update(
            last_seen_at=now
        )
        session.last_seen_at = now
    return session


def end_session(session: TabletSession, by_user=None) -> None:
    TabletSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by_user
    )


def live_sessions(skill: Skill) -> list[TabletSession]:
    return list(
        TabletSession.objects.select_related("judge")
        .filter(
            judge__assignments__skill=skill,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("judge__code", "-created_at")
    )
