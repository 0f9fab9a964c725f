"""The mark endpoint: one tap from a tablet, answered as JSON.

Marks are only ever written through ``scoring.services.write_mark``; this
module decides how to answer, never whether a mark is allowed (the mark
service and ``scoring.panels`` own that rule)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.utils.translation import gettext as _

from scoring import services as scoring
from scoring.models import Aspect, AspectKind
from teams.models import Entry

from .models import RemarkRequest, TabletSession
from .remarks import resolve_remarks
from .values import plain


@dataclass
class MarkReply:
    """What the endpoint answers: HTTP status and JSON body."""

    status: int
    body: dict


def _refused(status: int, code: str, message: str, **extra) -> MarkReply:
    return MarkReply(status, {"status": "refused", "code": code, "message": message, **extra})


@cache
def _target_sql() -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    r = RemarkRequest
    return (
        f"SELECT {scoring.select_columns(Entry, 'e', _ENTRY_FIELDS)},"
        f" {scoring.select_columns(Aspect, 'a', _ASPECT_FIELDS)},"
        f" EXISTS (SELECT 1 FROM {qn(r._meta.db_table)} r"
        f" WHERE r.{col(r, 'entry')} = e.{col(Entry, 'id')}"
        f" AND r.{col(r, 'aspect')} = a.{col(Aspect, 'id')}"
        f" AND r.{col(r, 'resolved_at')} IS NULL"
        f" AND (a.{col(Aspect, 'kind')} = %s OR r.{col(r, 'judge')} = %s))"
        f" FROM {qn(Entry._meta.db_table)} e, {qn(Aspect._meta.db_table)} a"
        f" WHERE e.{col(Entry, 'id')} = %s AND a.{col(Aspect, 'id')} = %s"
    )


# What write_mark and the answer use; the aspect's texts stay deferred.
_ENTRY_FIELDS = ("id", "skill", "delegation", "competitor_no", "status")
_ASPECT_FIELDS = ("id", "skill", "sub_criterion", "code", "kind", "max_mark", "order")


def _mark_target(entry_id: int, aspect_id: int, judge_id: int) -> tuple[Entry, Aspect, bool] | None:
    """The entry and aspect of a tap and whether a re-mark request of it is
    open for this judge (any judge's, for an M aspect), in one query; None if
    either does not exist. Whether the judge may mark it is write_mark's call.

    The request flag saves the UPDATE of ``resolve_remarks`` on nearly every
    tap. A request made after this read and before the write is left open,
    which is right: the judge tapped before it was asked."""
    with scoring.hot_cursor() as cursor:
        cursor.execute(_target_sql(), [AspectKind.MEASUREMENT, judge_id, entry_id, aspect_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_ENTRY_FIELDS)
    entry = scoring.row_instance(Entry, row[:n], _ENTRY_FIELDS)
    aspect = scoring.row_instance(Aspect, row[n : n + len(_ASPECT_FIELDS)], _ASPECT_FIELDS)
    return entry, aspect, bool(row[-1])


@dataclass
class Tap:
    """One tap as the tablet sent it, parsed."""

    entry_id: int
    aspect_id: int
    client_key: str
    value: object
    expected_version: int | None


def _parse_tap(payload: object) -> Tap | MarkReply:
    """The tap in a request body, or the refusal a malformed one gets."""
    if not isinstance(payload, dict):
        return _refused(400, "bad_request", _("The request is not understood."))
    try:
        entry_id = int(payload["entry"])
        aspect_id = int(payload["aspect"])
        client_key = str(payload["client_key"]).strip()
        value = payload["value"]
        expected = payload.get("expected_version")
        expected = None if expected is None else int(expected)
    except (KeyError, TypeError, ValueError):
        return _refused(400, "bad_request", _("The request is not understood."))
    if not client_key or len(client_key) > 64:
        return _refused(400, "bad_request", _("The request is not understood."))
    if isinstance(value, float):
        # JSON numbers arrive as floats: the tablet sends marks as text.
        return _refused(422, "not_a_number", _("A mark is sent as text."))
    return Tap(entry_id, aspect_id, client_key, value, expected)


def submit_mark(session: TabletSession, payload: object, *, ip: str | None = None) -> MarkReply:
    """One tap from a tablet: ``{client_key, entry, aspect, value,
    expected_version}``. Saved → 200; refused by the rules → 409 (locked,
    stale — with the current value and version), 403 (not allowed), 422
    (bad value); a malformed request → 400. The tablet retries only on
    network errors and 5xx, so every answer here is final for that tap."""
    tap = _parse_tap(payload)
    if isinstance(tap, MarkReply):
        return tap
    judge = session.judge
    target = _mark_target(tap.entry_id, tap.aspect_id, judge.pk)
    if target is None:
        return _refused(404, "not_found", _("No such entry or aspect."))
    entry, aspect, remark_open = target
    try:
        result = scoring.write_mark(
            entry=entry,
            aspect=aspect,
            judge=judge,
            value=tap.value,
            actor_id=judge.user_id,
            client_key=tap.client_key,
            expected_version=tap.expected_version,
            source="tablet",
            device=(session.device or session.user_agent)[:200],
            ip=ip,
        )
    except scoring.StaleMark as exc:
        return _refused(
            409,
            exc.code,
            exc.message,
            current_value=plain(exc.current_value),
            current_version=exc.current_version,
        )
    except scoring.Locked as exc:
        return _refused(409, exc.code, exc.message)
    except scoring.NotAllowed as exc:
        return _refused(403, exc.code, exc.message)
    except scoring.MarkRefused as exc:
        return _refused(422, exc.code, exc.message)
    if remark_open and not result.replayed:
        resolve_remarks(entry, aspect, judge)
    return MarkReply(
        200,
        {
            "status": "saved",
            "value": plain(result.value),
            "version": result.version,
            "replayed": result.replayed,
        },
    )
