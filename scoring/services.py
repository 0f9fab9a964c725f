"""The one path of a mark (docs/architecture.md) and the marking state of a skill.

Every write of a mark in the product — tablet, import, admin — goes through
``write_mark``. Everything that changes the marking state (sign-off,
reopening, acknowledging a discrepancy) is a function here too, and each
appends a hash-chained ledger record (``scoring.ledger``) in the same
transaction.

Serialisation: each of these functions locks the skill's ``SkillMarking``
row (``select_for_update``) before reading anything it decides on. Writes to
one skill therefore run one after the other (the ledger chain needs a single
predecessor, and a sign-off must not race a write) while skills proceed in
parallel. Under PostgreSQL's READ COMMITTED every statement after the lock
sees what the previous holder committed.

Idempotency: a write with a ``client_key`` whose ledger record exists returns
that record's outcome (``replayed=True``) and changes nothing, even if the mark
changed since — but only after the write's own checks (lock, entry, scheme,
assignment, recusal, marking group) pass, and only to the judge the key's
record names, for the same entry and aspect (else ``NotAllowed``,
``client_key_reused``). A write of the value the mark already has changes nothing; if
it carries a ``client_key`` it still appends a *confirmation* record (old =
new, same version, results not made stale) so that the key is remembered and
a retry replays instead of writing again after someone else's change. Without
a ``client_key`` such a write records nothing.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

try:  # only PostgreSQL uses it (hot_cursor); SQLite installs need not have it
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]  # checked before use

from teams.models import Entry, Judge, JudgeAssignment

from . import ledger, panels, schemes, signals
from .models import (
    JUDGEMENT_SCORES,
    Aspect,
    AspectKind,
    DiscrepancyAcknowledgement,
    LedgerRecord,
    Mark,
    MarkingGroup,
    SkillMarking,
)
from .permissions import may_manage

if TYPE_CHECKING:
    from competitions.models import Skill

CENT = Decimal("0.01")
Action = LedgerRecord.Action

_M = TypeVar("_M", bound=models.Model)


# ---------------------------------------------------------------- exceptions


class MarkRefused(Exception):
    """A write or state change the rules refuse. ``code`` is stable (for
    programs); ``message`` is for the person (translated when raised)."""

    code = "refused"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class Locked(MarkRefused):
    code = "locked"


class NotRanked(MarkRefused):
    code = "not_ranked"


class SchemeIncomplete(MarkRefused):
    code = "scheme_incomplete"


class NotAllowed(MarkRefused):
    """Panel rules (assignment, recusal, marking group) or a misused key."""

    code = "not_allowed"


class OutOfRange(MarkRefused):
    """The value is not a valid mark for the aspect (also: not a number)."""

    code = "out_of_range"


class StaleMark(MarkRefused):
    """The optimistic version check failed; carries the current state."""

    code = "stale"

    def __init__(
        self, message: str, *, current_value: Decimal | None, current_version: int
    ) -> None:
        super().__init__(message)
        self.current_value = current_value
        self.current_version = current_version


class Incomplete(MarkRefused):
    """Sign-off refused: marks are missing or discrepancies unacknowledged."""

    code = "incomplete"

    def __init__(self, message: str, status: MarkingStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class WarningsUnconfirmed(MarkRefused):
    """Sign-off refused until the person confirms what the apps above asked
    to confirm (``sign_off_warnings``); ``warnings`` lists their messages."""

    code = "warnings_unconfirmed"

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(_("Confirm first: %(warnings)s") % {"warnings": " ".join(warnings)})
        self.warnings = warnings


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class MarkWriteResult:
    mark: Mark | None
    value: Decimal | None
    version: int
    created: bool = False
    changed: bool = False
    replayed: bool = False
    record: LedgerRecord | None = None


# ---------------------------------------------------------------- helpers


def marking_state(skill: Skill | int) -> SkillMarking:
    """The skill's SkillMarking, created on first use.

    ``get_or_create`` copes with two first writers: the loser's INSERT hits
    the one-to-one unique constraint and it reads the winner's row.
    """
    skill_id = skill if isinstance(skill, int) else skill.pk
    marking, _created = SkillMarking.objects.get_or_create(skill_id=skill_id)
    return marking


def _locked_state(skill_id: int) -> SkillMarking:
    """The skill's SkillMarking, locked until the end of the transaction."""
    locked = SkillMarking.objects.select_for_update()
    try:
        return locked.get(skill_id=skill_id)
    except SkillMarking.DoesNotExist:
        # First write of the skill: create the row (race-safe), then lock it.
        marking_state(skill_id)
        return locked.get(skill_id=skill_id)


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


# A mark typed as text: ASCII digits, an optional sign, point and exponent
# (what a tablet's number field, Excel's float repr and the admin send).
# Full-width digits, other scripts' digits, underscores, commas are refused:
# see docs/integrity.md ("canonical value").
_MARK_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?", re.ASCII)


def _not_a_number(text: object) -> OutOfRange:
    return OutOfRange(_("“%(value)s” is not a number.") % {"value": text}, code="not_a_number")


def parse_value(raw: object, aspect: Aspect) -> Decimal:
    """A mark for ``aspect`` from ``raw`` (str, int or Decimal; never float),
    in its one canonical form: two decimals, never negative zero (``-0``,
    ``-0.00``, ``0.0`` all give ``0.00``), so that the value stored, the value
    compared and the value hashed into the ledger are the same.

    J: an integer 0–3. M: 0 ≤ v ≤ max_mark with at most 2 decimals.
    Text must be ASCII (``_MARK_TEXT``); full-width ``０`` is refused.
    """
    if isinstance(raw, float):
        # Floats cannot carry an exact mark: callers pass the text they got.
        raise OutOfRange(_("“%(value)s” is not a number.") % {"value": raw}, code="not_a_number")
    if isinstance(raw, bool) or raw is None:
        raise OutOfRange(_("A mark is required."), code="not_a_number")
    if isinstance(raw, Decimal):
        value, text = raw, str(raw)
    elif isinstance(raw, int):
        value, text = Decimal(raw), str(raw)
    else:
        text = str(raw).strip()
        if len(text) > 40 or not _MARK_TEXT.fullmatch(text):
            raise _not_a_number(text[:40])
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):  # pragma: no cover - the pattern is stricter
            raise _not_a_number(text) from None
    if not value.is_finite():
        raise _not_a_number(text)
    if value.is_zero():
        value = value.copy_abs()  # -0 is 0

    if aspect.kind == AspectKind.JUDGEMENT:
        if value != value.to_integral_value() or int(value) not in JUDGEMENT_SCORES:
            raise OutOfRange(
                _("Judgement score out of range: give a whole score 0, 1, 2 or 3."),
                code="out_of_range",
            )
        return Decimal(int(value)).quantize(CENT)

    if value < 0 or value > aspect.max_mark:
        raise OutOfRange(
            _("Mark out of range: this aspect's maximum is %(max)s.")
            % {"max": _fmt(aspect.max_mark)},
            code="out_of_range",
        )
    if value != value.quantize(CENT):
        raise OutOfRange(
            _("A mark has at most 2 decimals: “%(value)s”.") % {"value": text},
            code="too_many_decimals",
        )
    return value.quantize(CENT)


def _current_mark(entry: Entry, aspect: Aspect, judge: Judge) -> Mark | None:
    marks = Mark.objects.filter(entry_id=entry.pk, aspect_id=aspect.pk)
    if aspect.kind == AspectKind.JUDGEMENT:
        marks = marks.filter(judge_id=judge.pk, kind=AspectKind.JUDGEMENT)
    else:
        marks = marks.filter(kind=AspectKind.MEASUREMENT)
    return marks.first()


def _key_filter(entry_id: int, aspect_id: int, judge_id: int, kind: str) -> Q:
    q = Q(action=Action.WRITE, entry_id=entry_id, aspect_id=aspect_id)
    if kind == AspectKind.JUDGEMENT:
        q &= Q(judge_id=judge_id)
    return q


def _replay(record: LedgerRecord, entry: Entry, aspect: Aspect, judge: Judge) -> MarkWriteResult:
    # The same mark, by the same judge (for an M mark too: a key is one
    # judge's tap; another judge's replay of it learns nothing).
    if (record.entry_id, record.aspect_id, record.judge_id) != (entry.pk, aspect.pk, judge.pk):
        raise NotAllowed(
            _("This request key was already used for another mark."), code="client_key_reused"
        )
    # The version the original write produced: the number of value-changing
    # write records of this mark up to and including it.
    version = (
        LedgerRecord.objects.filter(
            _key_filter(entry.pk, aspect.pk, judge.pk, aspect.kind), skill_id=record.skill_id
        )
        .filter(seq__lte=record.seq)
        .exclude(old_value=F("new_value"))
        .count()
    )
    return MarkWriteResult(
        mark=_current_mark(entry, aspect, judge),
        value=record.new_value,
        version=version,
        replayed=True,
        record=record,
    )


# ---------------------------------------------------------------- write_mark
#
# The hot path of the tablets (200 judges tapping at once). One write is:
#
#   1. ``_lock_with_facts``: one statement locks the skill's SkillMarking row
#      and, in the same round trip, reads what the checks need that is not
#      serialised by that lock: the entry's status and delegation, whether the
#      scheme has a problem (``schemes.scheme_has_problem_sql``) and the panel
#      facts for exactly this (judge, entry, aspect) — assignment and role, the
#      judge's delegation, and whether the judge's marking groups cover the
#      pair. Nothing is cached between writes, so no scheme or panel edit
#      (admin, import, queryset update, raw SQL) can be missed. These facts
#      are read at the statement's snapshot, taken before any wait for the
#      lock, so a moment earlier than the old code read them (just after
#      it): none of them is serialised by the skill lock (scheme, status and
#      panel edits never take it), so the old order had the same race.
#   2. ``_mark_state``: after the lock, one statement reads what *is*
#      serialised by it — the ledger record of the client key, the current
#      mark and whether an acknowledgement exists. It must be a statement of
#      its own: a FOR UPDATE that waited still answers its subqueries from
#      the snapshot taken before the wait, which would miss the previous
#      holder's mark and ledger record.
#   3. ``_write``: the mark (INSERT, or UPDATE by primary key), the ledger
#      record (chained and hashed by ``scoring.ledger`` as ``append`` does)
#      and the SkillMarking head, in one statement on PostgreSQL (INSERT /
#      UPDATE in a WITH clause), three ORM saves elsewhere; then the
#      acknowledgement's DELETE, only if one exists.
#
# All three are prepared statements on PostgreSQL (``hot_cursor``): PostgreSQL
# spent more time planning them than running them.
#
# The rules and their order are those of ``panels.check`` and the original
# code: the panel facts are turned into a one-judge ``panels.Panel`` whose
# ``check`` gives the same answer and message as ``load_panel``'s would
# (``tests/scoring/test_write_mark_queries.py`` compares them). When the
# scheme predicate says "problem", ``scheme_problems`` is called for the
# message (and is the authority: if it finds nothing, the write proceeds).


@dataclass(frozen=True, slots=True)
class _WriteFacts:
    """What ``_lock_with_facts`` read alongside the lock."""

    marking: SkillMarking
    entry_status: str | None
    entry_delegation_id: int | None
    scheme_suspect: bool
    judge_role: str | None  # None: not assigned to the skill
    judge_delegation_id: int | None
    judge_groups: int  # marking groups of the skill the judge is in
    judge_covered: bool  # some group of theirs covers (entry, aspect)

    def panel(self, judge_id: int) -> panels.Panel:
        """A panel holding only this judge, narrowed to this (entry, aspect):
        ``Panel.check`` on it answers as on the whole panel."""
        # An assigned judge always has a home delegation (a required field).
        if self.judge_role is None or self.judge_delegation_id is None:
            return panels.Panel(skill_id=self.marking.skill_id)
        groups: dict[int, list[panels.GroupCover]] = {}
        if self.judge_groups:
            # Covers nothing unless a group covers this pair (all else is moot).
            groups[judge_id] = [panels.GroupCover(None, None)] if self.judge_covered else []
        return panels.Panel(
            skill_id=self.marking.skill_id,
            judges={judge_id: self.judge_delegation_id},
            chiefs=(
                frozenset({judge_id})
                if self.judge_role == JudgeAssignment.Role.CHIEF
                else frozenset()
            ),
            groups=groups,
        )


def _qn_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _concrete_field(model: type[models.Model], name: str) -> models.Field:
    """A concrete field by name (``get_field`` also answers relations' reverse sides)."""
    return cast(models.Field, model._meta.get_field(name))


def _qn_col(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


# Raw reads of the mark path (``hot_cursor``) select model columns and turn
# rows into instances as the ORM would, without the ORM's per-query cost.


def _fields(model, names: tuple[str, ...] | None) -> list:
    if names is None:
        return list(model._meta.concrete_fields)
    return [model._meta.get_field(n) for n in names]


def select_columns(model, alias: str, names: tuple[str, ...] | None = None) -> str:
    """``alias."col", …`` for the fields ``names`` of ``model`` (default: every
    concrete field), in that order, for a raw SELECT read by ``row_instance``."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in _fields(model, names))


@cache
def _converters(model, names: tuple[str, ...] | None) -> tuple[list, list[str]]:
    """Per field: the converters an ORM query would apply, with the column;
    and the attribute names."""
    converters = []
    fields = _fields(model, names)
    for f in fields:
        col = f.get_col(model._meta.db_table)
        converters.append(
            ([*connection.ops.get_db_converters(col), *f.get_db_converters(connection)], col)
        )
    return converters, [f.attname for f in fields]


def row_instance(model: type[_M], values, names: tuple[str, ...] | None = None) -> _M:
    """An instance of ``model`` from raw column values in ``select_columns``
    order, converted as an ORM query would (SQLite returns dates as text and
    decimals as floats). Fields not in ``names`` are deferred, as with ``only()``."""
    converters, attnames = _converters(model, names)
    converted = []
    for (convert_all, col), value in zip(converters, values, strict=True):
        for convert in convert_all:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, attnames, converted)


if TYPE_CHECKING or psycopg is not None:
    _CursorBase = psycopg.Cursor
else:  # pragma: no cover
    _CursorBase = object


class _PreparedCursor(_CursorBase):
    """A psycopg cursor with server-side binding that has PostgreSQL keep
    every statement it runs prepared on the connection (psycopg's
    per-connection cache). Planning the write path's statements cost more
    than running them (~0.5 ms each for the lock and state reads), and they
    are the same few statements on every tap."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class _LoggedPreparedCursor(_PreparedCursor):
    """The same, for Django's query log (DEBUG, tests): a prepared execution
    leaves psycopg's record of the query empty, and that is where the log
    reads the SQL, so put it back. Debugging aid only: if psycopg's private
    API moves, the log shows None and nothing else changes."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        super().execute(query, params, binary=binary)
        if self._query is None:
            with contextlib.suppress(Exception):
                self._query = self._convert_query(query, params)
        return self


_EXPLICIT_ONLY = 2**62


def _may_prepare() -> bool:
    """Prepared statements live on one server connection: not behind a
    transaction pooler (pgbouncer in transaction mode), which the deployment
    notes pair with ``CONN_MAX_AGE=0`` and ``DISABLE_SERVER_SIDE_CURSORS``.
    ``SCORING_PREPARED_STATEMENTS`` in the settings overrides the guess."""
    from django.conf import settings

    forced = getattr(settings, "SCORING_PREPARED_STATEMENTS", None)
    if forced is not None:
        return bool(forced)
    db = connection.settings_dict
    return bool(db.get("CONN_MAX_AGE")) and not db.get("DISABLE_SERVER_SIDE_CURSORS")


def hot_cursor():
    """A cursor for the statements of the mark path: prepared on PostgreSQL
    (see ``_may_prepare``), a plain Django cursor elsewhere. Wrapped as
    Django wraps its own, so query logging (``CaptureQueriesContext``) and
    error translation see these statements too."""
    if psycopg is None or connection.vendor != "postgresql" or not _may_prepare():
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    conn = connection.connection
    if conn.prepare_threshold is None:
        # Django turns psycopg's preparing off (for poolers), which also
        # refuses an explicit prepare=True. Allow explicit preparing only: a
        # threshold no statement reaches, and Django's own cursors bind on
        # the client side, where psycopg never prepares anyway.
        conn.prepare_threshold = _EXPLICIT_ONLY
    if connection.queries_logged:
        return connection.make_debug_cursor(_LoggedPreparedCursor(conn))
    return connection.make_cursor(_PreparedCursor(conn))


@cache
def _lock_sql() -> str:
    """The statement of ``_lock_with_facts`` (built once per process)."""
    qn = connection.ops.quote_name
    groups = MarkingGroup._meta
    g_t, g_pk, g_skill = (
        _qn_table(MarkingGroup),
        qn(groups.pk.column),
        _qn_col(MarkingGroup, "skill"),
    )

    def through(name: str, other: str) -> tuple[str, str, str]:
        meta = getattr(MarkingGroup, name).through._meta
        return (
            qn(meta.db_table),
            qn(meta.get_field("markinggroup").column),
            qn(meta.get_field(other).column),
        )

    gj_t, gj_group, gj_judge = through("judges", "judge")
    ge_t, ge_group, ge_entry = through("entries", "entry")
    ga_t, ga_group, ga_aspect = through("aspects", "aspect")
    e_t, e_pk = _qn_table(Entry), _qn_col(Entry, "id")
    j_t, j_pk = _qn_table(Judge), _qn_col(Judge, "id")
    ja_t = _qn_table(JudgeAssignment)
    scheme_sql, _n = schemes.scheme_has_problem_sql()
    columns = select_columns(SkillMarking, "sm")
    # The judge's groups in the skill, as a FROM/WHERE fragment (%s: skill, judge).
    judge_groups = (
        f"FROM {gj_t} gj JOIN {g_t} g ON g.{g_pk} = gj.{gj_group}"
        f" WHERE g.{g_skill} = %s AND gj.{gj_judge} = %s"
    )
    sql = (
        f"SELECT {columns},"
        f" (SELECT e.{_qn_col(Entry, 'status')} FROM {e_t} e WHERE e.{e_pk} = %s),"
        f" (SELECT e.{_qn_col(Entry, 'delegation')} FROM {e_t} e WHERE e.{e_pk} = %s),"
        f" {scheme_sql},"
        f" (SELECT ja.{_qn_col(JudgeAssignment, 'role')} FROM {ja_t} ja"
        f" WHERE ja.{_qn_col(JudgeAssignment, 'skill')} = %s"
        f" AND ja.{_qn_col(JudgeAssignment, 'judge')} = %s),"
        f" (SELECT j.{_qn_col(Judge, 'delegation')} FROM {j_t} j WHERE j.{j_pk} = %s),"
        f" (SELECT COUNT(*) {judge_groups}),"
        # A group covers the pair when it lists no entries or lists this one,
        # and lists no aspects or lists this one (``panels.GroupCover``).
        f" EXISTS (SELECT 1 {judge_groups}"
        f" AND (NOT EXISTS (SELECT 1 FROM {ge_t} ge WHERE ge.{ge_group} = g.{g_pk})"
        f" OR EXISTS (SELECT 1 FROM {ge_t} ge WHERE ge.{ge_group} = g.{g_pk}"
        f" AND ge.{ge_entry} = %s))"
        f" AND (NOT EXISTS (SELECT 1 FROM {ga_t} ga WHERE ga.{ga_group} = g.{g_pk})"
        f" OR EXISTS (SELECT 1 FROM {ga_t} ga WHERE ga.{ga_group} = g.{g_pk}"
        f" AND ga.{ga_aspect} = %s)))"
        f" FROM {_qn_table(SkillMarking)} sm WHERE sm.{_qn_col(SkillMarking, 'skill')} = %s"
    )
    if connection.features.has_select_for_update:
        # Only the SkillMarking row is in FROM: the subqueries lock nothing.
        sql += " FOR UPDATE"
    return sql


def _lock_with_facts(skill_id: int, entry_id: int, judge_id: int, aspect_id: int) -> _WriteFacts:
    """Lock the skill's SkillMarking (created on first use) and read the
    facts the checks need, in one statement. Inside a transaction."""
    _scheme_sql, n_scheme = schemes.scheme_has_problem_sql()
    params = [
        entry_id,
        entry_id,
        *[skill_id] * n_scheme,
        skill_id,
        judge_id,
        judge_id,
        skill_id,
        judge_id,
        skill_id,
        judge_id,
        entry_id,
        aspect_id,
        skill_id,
    ]
    sql = _lock_sql()
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            # First write of the skill: create the row (race-safe), then lock it.
            marking_state(skill_id)
            cursor.execute(sql, params)
            row = cursor.fetchone()
    n = len(SkillMarking._meta.concrete_fields)
    marking = row_instance(SkillMarking, row[:n])
    status, entry_delegation, suspect, role, judge_delegation, groups, covered = row[n:]
    return _WriteFacts(
        marking=marking,
        entry_status=status,
        entry_delegation_id=entry_delegation,
        scheme_suspect=bool(suspect),
        judge_role=role,
        judge_delegation_id=judge_delegation,
        judge_groups=int(groups or 0),
        judge_covered=bool(covered),
    )


@cache
def _state_sql(judgement: bool, with_key: bool) -> str:
    """The statement of ``_mark_state`` (four variants, built once each)."""
    m_cols = select_columns(Mark, "m")
    l_t, a_t, m_t = _qn_table(LedgerRecord), _qn_table(DiscrepancyAcknowledgement), _qn_table(Mark)
    key = (
        f"(SELECT l.{_qn_col(LedgerRecord, 'id')} FROM {l_t} l"
        f" WHERE l.{_qn_col(LedgerRecord, 'client_key')} = %s)"
        if with_key
        else "NULL"
    )
    ack = DiscrepancyAcknowledgement
    sql = (
        f"SELECT {key},"
        f" EXISTS (SELECT 1 FROM {a_t} d WHERE d.{_qn_col(ack, 'entry')} = %s"
        f" AND d.{_qn_col(ack, 'aspect')} = %s),"
        f" {m_cols}"
        f" FROM (SELECT 1 AS one) o LEFT JOIN {m_t} m"
        f" ON m.{_qn_col(Mark, 'entry')} = %s AND m.{_qn_col(Mark, 'aspect')} = %s"
        f" AND m.{_qn_col(Mark, 'kind')} = %s"
    )
    if judgement:
        sql += f" AND m.{_qn_col(Mark, 'judge')} = %s"
    return sql


def _mark_state(
    entry_id: int, aspect: Aspect, judge_id: int, client_key: str | None
) -> tuple[int | None, bool, Mark | None]:
    """Under the lock, in one statement: the id of the ledger record carrying
    ``client_key`` (or None), whether the (entry, aspect) has a discrepancy
    acknowledgement, and the current mark (the row ``_current_mark`` finds)."""
    judgement = aspect.kind == AspectKind.JUDGEMENT
    params: list[object] = [client_key] if client_key is not None else []
    params += [entry_id, aspect.pk, entry_id, aspect.pk, aspect.kind]
    if judgement:
        params.append(judge_id)
    with hot_cursor() as cursor:
        cursor.execute(_state_sql(judgement, client_key is not None), params)
        earlier_id, acknowledged, *mark_row = cursor.fetchone()
    mark = row_instance(Mark, mark_row) if mark_row[0] is not None else None
    return earlier_id, bool(acknowledged), mark


def write_mark(
    *,
    entry: Entry,
    aspect: Aspect,
    judge: Judge,
    value: object,
    actor=None,
    actor_id: int | None = None,
    client_key: str | None = None,
    expected_version: int | None = None,
    reason: str = "",
    source: str = "tablet",
    device: str = "",
    ip: str | None = None,
) -> MarkWriteResult:
    """Write one mark: check, write, trace — in one transaction.

    ``value``: text, int or Decimal (floats are refused). ``expected_version``:
    None = blind write (imports); 0 = the mark must not exist yet; n = the
    mark must be at version n, else ``StaleMark`` with the current value and
    version. ``judge`` is the judge the mark is attributed to (for an M mark,
    whoever entered it last); ``actor`` the user who did it (a judge's own
    user on a tablet, an organiser in the admin), or just its ``actor_id``
    when the caller has no user object at hand (the tablet endpoint).

    Raises a ``MarkRefused`` subclass: ``Locked``, ``NotRanked``,
    ``SchemeIncomplete``, ``NotAllowed``, ``OutOfRange``, ``StaleMark``.

    Three statements for a new or changed mark on PostgreSQL (lock with the
    facts, state, one write of mark + ledger record + marking head) plus
    BEGIN/COMMIT, all prepared; see the notes above.
    """
    if client_key is not None:
        client_key = str(client_key).strip() or None
        if client_key is not None and len(client_key) > 64:
            raise ValueError("client_key is longer than 64 characters")
    device = (device or "")[:200]
    reason = (reason or "").strip()
    skill_id = entry.skill_id
    if actor is not None:
        actor_id = getattr(actor, "pk", None)

    with transaction.atomic():
        facts = _lock_with_facts(skill_id, entry.pk, judge.pk, aspect.pk)
        marking = facts.marking
        earlier_id, acknowledged, mark = _mark_state(entry.pk, aspect, judge.pk, client_key)

        if marking.is_signed_off:
            raise Locked(
                _(
                    "Marks of this skill are signed off and locked; the chief judge must "
                    "reopen them first."
                )
            )
        if aspect.skill_id != skill_id:
            raise NotAllowed(
                _("This aspect belongs to another skill than the entry."),
                code=panels.WRONG_SKILL,
            )
        # Read from the database (the caller's object may predate a withdrawal).
        if facts.entry_status != Entry.Status.REGISTERED:
            raise NotRanked(
                _("Entry %(no)s is absent or withdrawn and is not marked.")
                % {"no": entry.competitor_no}
            )
        if facts.scheme_suspect:
            problems = schemes.scheme_problems(skill_id)
            if problems:
                raise SchemeIncomplete(
                    _("The marking scheme is not complete: %(problems)s")
                    % {"problems": " ".join(problems)}
                )
        refusal = facts.panel(judge.pk).check(
            judge.pk, entry.pk, facts.entry_delegation_id, aspect.pk, aspect.kind
        )
        if refusal is not None:
            raise NotAllowed(refusal.message, code=refusal.code)
        if earlier_id is not None:
            # Answered from the ledger only after lock, skill and panel checks,
            # and only to the judge the keyed write was for (``_replay``).
            return _replay(LedgerRecord.objects.get(pk=earlier_id), entry, aspect, judge)
        new_value = parse_value(value, aspect)

        current_version = mark.version if mark else 0
        if expected_version is not None and expected_version != current_version:
            raise StaleMark(
                _(
                    "This mark was changed meanwhile: it is now %(value)s (version %(version)d). "
                    "Check it and enter your mark again."
                )
                % {
                    "value": _fmt(mark.value) if mark else "—",
                    "version": current_version,
                },
                current_value=mark.value if mark else None,
                current_version=current_version,
            )

        now = timezone.now()
        record = LedgerRecord(
            skill_id=skill_id,
            seq=marking.ledger_length + 1,
            prev_hash=marking.ledger_head,
            action=Action.WRITE,
            entry_id=entry.pk,
            aspect_id=aspect.pk,
            judge_id=judge.pk,
            reason=reason,
            source=source or "",
            actor_id=actor_id,
            device=device,
            ip_address=ledger.normalise_ip(ip),
            client_key=client_key,
            created_at=now,
        )

        if mark is not None and mark.value == new_value:
            if client_key is None:
                return MarkWriteResult(mark=mark, value=mark.value, version=mark.version)
            # Confirmation: remembers the key, changes nothing else.
            record.mark = mark
            record.old_value = record.new_value = mark.value
            _write(marking, record, mark=None, stale=False)
            return MarkWriteResult(mark=mark, value=mark.value, version=mark.version, record=record)

        record.old_value = mark.value if mark else None
        record.new_value = new_value
        created = mark is None
        if mark is None:
            mark = Mark(
                skill_id=skill_id,
                entry_id=entry.pk,
                aspect_id=aspect.pk,
                judge_id=judge.pk,
                kind=aspect.kind,
                value=new_value,
                version=1,
            )
        else:
            mark.value = new_value
            mark.version += 1
            # An M mark is attributed to whoever entered its current value.
            mark.judge_id = judge.pk
        _write(marking, record, mark=mark, stale=True)

        if acknowledged and aspect.kind == AspectKind.JUDGEMENT:
            # The chief judge acknowledged other scores than these (a changed
            # score or a newly added one changes the spread they saw). Read
            # under the lock, which acknowledge_discrepancy also takes.
            DiscrepancyAcknowledgement.objects.filter(
                entry_id=entry.pk, aspect_id=aspect.pk
            ).delete()

    return MarkWriteResult(
        mark=mark,
        value=new_value,
        version=mark.version,
        created=created,
        changed=True,
        record=record,
    )


def _one_statement_writes() -> bool:
    """PostgreSQL runs INSERT/UPDATE in WITH clauses; other databases get
    the same writes one ORM statement at a time (tests run both)."""
    return connection.vendor == "postgresql"


def _write(marking: SkillMarking, record: LedgerRecord, *, mark: Mark | None, stale: bool) -> None:
    """Write the mark (new: ``mark._state.adding``; changed; or None for a
    confirmation, where ``record.mark`` is the unchanged mark), append
    ``record`` to the chain and move the head of ``marking`` — what
    ``ledger.append`` and three ``save()`` calls do, in one statement on
    PostgreSQL. ``stale``: the results must be recomputed.

    The record is chained here as ``ledger.append`` chains it (seq and
    prev_hash set by the caller from the locked head, hash by
    ``ledger.record_hash``); afterwards ``record``, ``mark`` and ``marking``
    are as ``save()`` would leave them.
    """
    record.hash = ledger.record_hash(record)
    marking.ledger_head = record.hash
    marking.ledger_length = record.seq
    marking_fields = ["ledger_head", "ledger_length"]
    if stale:
        marking.results_computed_at = None
        marking_fields.append("results_computed_at")
    if mark is not None and not mark._state.adding:
        mark.updated_at = timezone.now()  # auto_now, as save() would

    if not _one_statement_writes():
        if mark is not None and mark._state.adding:
            mark.save(force_insert=True)
        elif mark is not None:
            mark.save(update_fields=["value", "version", "judge", "updated_at"])
        if mark is not None:
            record.mark = mark
        record.save(force_insert=True)
        marking.save(update_fields=marking_fields)
        return

    qn = connection.ops.quote_name
    parts: list[str] = []
    params: list[object] = []
    mark_pk = qn(Mark._meta.pk.column)
    if mark is not None and mark._state.adding:
        columns, values = _insert_parts(mark)
        parts.append(
            f"m AS (INSERT INTO {_qn_table(Mark)} ({', '.join(columns)})"
            f" VALUES ({', '.join(['%s'] * len(values))}) RETURNING {mark_pk})"
        )
        params += values
    elif mark is not None:
        assignments = ["value", "version", "judge", "updated_at"]
        fields = [_concrete_field(Mark, name) for name in assignments]
        parts.append(
            f"m AS (UPDATE {_qn_table(Mark)} SET "
            + ", ".join(f"{qn(f.column)} = %s" for f in fields)
            + f" WHERE {mark_pk} = %s RETURNING {mark_pk})"
        )
        params += [f.get_db_prep_save(getattr(mark, f.attname), connection) for f in fields]
        params.append(mark.pk)
    # The record's mark column: the id the mark statement returns, if any.
    columns, values = _insert_parts(record)
    mark_column = qn(LedgerRecord._meta.get_field("mark").column)
    placeholders = [
        f"(SELECT {mark_pk} FROM m)" if mark is not None and c == mark_column else "%s"
        for c in columns
    ]
    params += [v for c, v in zip(columns, values, strict=True) if mark is None or c != mark_column]
    record_pk = qn(LedgerRecord._meta.pk.column)
    parts.append(
        f"l AS (INSERT INTO {_qn_table(LedgerRecord)} ({', '.join(columns)})"
        f" VALUES ({', '.join(placeholders)}) RETURNING {record_pk})"
    )
    fields = [_concrete_field(SkillMarking, name) for name in marking_fields]
    parts.append(
        f"s AS (UPDATE {_qn_table(SkillMarking)} SET "
        + ", ".join(f"{qn(f.column)} = %s" for f in fields)
        + f" WHERE {qn(SkillMarking._meta.pk.column)} = %s)"
    )
    params += [f.get_db_prep_save(getattr(marking, f.attname), connection) for f in fields]
    params.append(marking.pk)
    returning = f"(SELECT {mark_pk} FROM m)" if mark is not None else "NULL"
    sql = f"WITH {', '.join(parts)} SELECT {returning}, (SELECT {record_pk} FROM l)"
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        mark_id, record_id = cursor.fetchone()
    # As save() leaves them: saved, with their ids.
    if mark is not None:
        if mark._state.adding:
            mark.pk = mark_id
            mark._state.adding = False
            mark._state.db = connection.alias
        record.mark = mark
    record.pk = record_id
    record._state.adding = False
    record._state.db = connection.alias


def _insert_parts(obj: models.Model) -> tuple[list[str], list[object]]:
    """Quoted columns and values of an INSERT of ``obj``, as ``save()``
    would send them (``pre_save`` fills ``auto_now`` fields; the primary key
    comes from the database)."""
    qn = connection.ops.quote_name
    columns, values = [], []
    for f in obj._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        values.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return columns, values


# ---------------------------------------------------------------- write_marks (batch)
#
# A separate path for imports of many marks (an event workbook's ``marks``
# sheet: ~150 k rows). ``write_mark`` costs several round trips per mark, so
# an import would take many minutes; ``write_marks`` checks the same rules,
# in the same order, with the per-skill facts loaded once (lock, sign-off,
# entry statuses, scheme problems, panel, current marks), then writes the
# marks and their ledger records in bulk, chained by the same
# ``scoring.ledger`` hashes.


@dataclass(frozen=True)
class MarkWrite:
    """One mark of a ``write_marks`` batch: ``write_mark``'s per-mark arguments."""

    entry: Entry
    aspect: Aspect
    judge: Judge | None  # None: an M mark from outside the tablets (an import)
    value: object

    @property
    def judge_id(self) -> int | None:
        return self.judge.pk if self.judge is not None else None


class BatchRefused(MarkRefused):
    """Some writes of a ``write_marks`` batch were refused, so none was written.

    ``refusals`` maps the index of each refused write to the ``MarkRefused``
    that ``write_mark`` would have raised for it (same class, code, message).
    """

    code = "batch_refused"

    def __init__(self, refusals: dict[int, MarkRefused]) -> None:
        first = refusals[min(refusals)]
        super().__init__(
            _("%(n)d marks were refused, so none was written; the first: %(first)s")
            % {"n": len(refusals), "first": first.message}
        )
        self.refusals = refusals


def _mark_key(entry_id: int, aspect_id: int, judge_id: int | None, kind: str) -> tuple:
    """What identifies a mark: (entry, aspect) for M, plus the judge for J
    (the same rows ``_current_mark`` finds)."""
    return (entry_id, aspect_id, judge_id if kind == AspectKind.JUDGEMENT else None, kind)


def _batch_check(
    w: MarkWrite,
    *,
    skill_id: int,
    marking: SkillMarking,
    statuses: dict[int, str],
    scheme: list[str],
    panel: panels.Panel,
) -> Decimal:
    """``write_mark``'s checks for one write, in its order, with its messages."""
    if marking.is_signed_off:
        raise Locked(
            _(
                "Marks of this skill are signed off and locked; the chief judge must "
                "reopen them first."
            )
        )
    if w.aspect.skill_id != skill_id:
        raise NotAllowed(
            _("This aspect belongs to another skill than the entry."),
            code=panels.WRONG_SKILL,
        )
    if statuses.get(w.entry.pk) != Entry.Status.REGISTERED:
        raise NotRanked(
            _("Entry %(no)s is absent or withdrawn and is not marked.")
            % {"no": w.entry.competitor_no}
        )
    if scheme:
        raise SchemeIncomplete(
            _("The marking scheme is not complete: %(problems)s") % {"problems": " ".join(scheme)}
        )
    if w.judge is None:
        # A measurement from outside the tablets (theory exam, measuring
        # device, paper form), imported by an organiser: no panel to check.
        if w.aspect.kind == AspectKind.JUDGEMENT:
            raise NotAllowed(
                _("A judgement score needs the judge who gave it."), code="judge_required"
            )
        return parse_value(w.value, w.aspect)
    refusal = panel.check(w.judge.pk, w.entry.pk, w.entry.delegation_id, w.aspect.pk, w.aspect.kind)
    if refusal is not None:
        raise NotAllowed(refusal.message, code=refusal.code)
    return parse_value(w.value, w.aspect)


def write_marks(
    skill: Skill,
    writes: list[MarkWrite],
    *,
    actor=None,
    reason: str = "",
    source: str = "import",
    device: str = "",
    ip: str | None = None,
) -> list[MarkWriteResult]:
    """Write many marks of one skill as ``write_mark`` would write each of
    them blind (``expected_version=None``, no ``client_key``) — but all or
    nothing: if any write is refused, ``BatchRefused`` lists every refusal
    and nothing is written.

    Same rules, checked in ``write_mark``'s order with its messages (signed
    off → ``Locked``; aspect of another skill, panel assignment, recusal,
    chief judge, marking group → ``NotAllowed``; absent/withdrawn →
    ``NotRanked``; incomplete scheme → ``SchemeIncomplete``; bad value →
    ``OutOfRange``). One more refusal: the same mark twice in one batch
    (``NotAllowed``, code ``duplicate_in_batch``), since the order of two
    writes of one mark inside a file means nothing.

    Same effects per mark: a value equal to the stored one changes nothing
    and records nothing; otherwise the mark is created (version 1) or
    updated (version + 1, an M mark attributed to the new writer), one
    ledger record is chained per change, the results are made stale and
    acknowledgements of changed J aspects are dropped. The skill's
    ``SkillMarking`` row stays locked until the caller's transaction ends.

    Every entry must belong to ``skill`` (a programming error otherwise).
    Returns one ``MarkWriteResult`` per write, in order.
    """
    if any(w.entry.skill_id != skill.pk for w in writes):
        raise ValueError("write_marks: every entry must belong to the skill")
    if not writes:
        return []
    reason = (reason or "").strip()
    device = (device or "")[:200]

    with transaction.atomic():
        marking = _locked_state(skill.pk)
        entry_ids = {w.entry.pk for w in writes}
        # Re-read statuses (as write_mark does): the callers' objects may predate a withdrawal.
        statuses = dict(Entry.objects.filter(pk__in=entry_ids).values_list("pk", "status"))
        scheme = schemes.scheme_problems(skill.pk)
        panel = panels.load_panel(
            skill.pk, judge_ids=sorted({w.judge.pk for w in writes if w.judge is not None})
        )

        values: list[Decimal] = []
        refusals: dict[int, MarkRefused] = {}
        seen: set[tuple] = set()
        for i, w in enumerate(writes):
            try:
                value = _batch_check(
                    w,
                    skill_id=skill.pk,
                    marking=marking,
                    statuses=statuses,
                    scheme=scheme,
                    panel=panel,
                )
                key = _mark_key(w.entry.pk, w.aspect.pk, w.judge_id, w.aspect.kind)
                if key in seen:
                    raise NotAllowed(
                        _("This mark is written twice in one batch."), code="duplicate_in_batch"
                    )
                seen.add(key)
            except MarkRefused as exc:
                refusals[i] = exc
                value = Decimal(0)
            values.append(value)
        if refusals:
            raise BatchRefused(refusals)

        current = {
            _mark_key(m.entry_id, m.aspect_id, m.judge_id, m.kind): m
            for m in Mark.objects.filter(skill_id=skill.pk, entry_id__in=entry_ids)
        }
        now = timezone.now()
        results: list[MarkWriteResult | None] = []
        created_marks: list[Mark] = []
        updated_marks: list[Mark] = []
        changes: list[tuple[int, MarkWrite, Mark, Decimal | None, bool]] = []
        for i, (w, value) in enumerate(zip(writes, values, strict=True)):
            mark = current.get(_mark_key(w.entry.pk, w.aspect.pk, w.judge_id, w.aspect.kind))
            if mark is not None and mark.value == value:
                results.append(MarkWriteResult(mark=mark, value=mark.value, version=mark.version))
                continue
            results.append(None)  # filled in once the ledger record exists
            old_value = mark.value if mark else None
            if mark is None:
                mark = Mark(
                    skill_id=skill.pk,
                    entry_id=w.entry.pk,
                    aspect_id=w.aspect.pk,
                    judge_id=w.judge_id,
                    kind=w.aspect.kind,
                    value=value,
                    version=1,
                )
                created_marks.append(mark)
            else:
                mark.value = value
                mark.version += 1
                mark.judge_id = w.judge_id  # an M mark: whoever entered its current value
                mark.updated_at = now  # bulk_update skips auto_now
                updated_marks.append(mark)
            changes.append((i, w, mark, old_value, old_value is None))
        if not changes:
            return [r for r in results if r is not None]

        # PostgreSQL (and SQLite ≥ 3.35) return the new ids the ledger records point to.
        Mark.objects.bulk_create(created_marks, batch_size=1000)
        Mark.objects.bulk_update(
            updated_marks, ["value", "version", "judge", "updated_at"], batch_size=1000
        )

        # The chain, as ledger.append builds it: seq and prev_hash from the
        # locked head, the hash over the canonical content; then one bulk insert.
        ip_address = ledger.normalise_ip(ip)
        records: list[LedgerRecord] = []
        for i, w, mark, old_value, created in changes:
            record = LedgerRecord(
                skill_id=skill.pk,
                seq=marking.ledger_length + 1,
                prev_hash=marking.ledger_head,
                action=Action.WRITE,
                mark=mark,
                entry_id=w.entry.pk,
                aspect_id=w.aspect.pk,
                judge_id=w.judge_id,
                old_value=old_value,
                new_value=mark.value,
                reason=reason,
                source=source or "",
                actor_id=getattr(actor, "pk", None),
                device=device,
                ip_address=ip_address,
                client_key=None,
                created_at=now,
            )
            record.hash = ledger.record_hash(record)
            marking.ledger_head = record.hash
            marking.ledger_length = record.seq
            records.append(record)
            results[i] = MarkWriteResult(
                mark=mark,
                value=mark.value,
                version=mark.version,
                created=created,
                changed=True,
                record=record,
            )
        LedgerRecord.objects.bulk_create(records, batch_size=1000)
        marking.results_computed_at = None
        marking.save(update_fields=["ledger_head", "ledger_length", "results_computed_at"])

        # The chief judge acknowledged other scores than these (as in write_mark).
        changed_j = {
            (w.entry.pk, w.aspect.pk)
            for _i, w, _m, _o, _c in changes
            if w.aspect.kind == AspectKind.JUDGEMENT
        }
        if changed_j:
            stale = [
                pk
                for pk, entry_id, aspect_id in DiscrepancyAcknowledgement.objects.filter(
                    entry_id__in={e for e, _a in changed_j}
                ).values_list("pk", "entry_id", "aspect_id")
                if (entry_id, aspect_id) in changed_j
            ]
            if stale:
                DiscrepancyAcknowledgement.objects.filter(pk__in=stale).delete()

    return [r for r in results if r is not None]


# ---------------------------------------------------------------- status


@dataclass
class Discrepancy:
    entry_id: int
    competitor_no: str
    aspect_id: int
    aspect_code: str
    scores: list[tuple[str, Decimal]]  # (judge code, score), by judge code
    spread: Decimal
    acknowledged: bool
    note: str = ""


@dataclass
class EntryStatus:
    entry_id: int
    competitor_no: str
    missing: list[str] = field(default_factory=list)  # "A1" (M) or "B2/J0007" (J)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class MarkingStatus:
    """What the chief judge needs before signing off: ranked entries with what
    they miss, flagged judgement aspects with their scores, scheme problems.
    Completeness and discrepancy flags come from ``scoring.results.compute_skill``
    (one definition for results, the sign-off page and the sign-off rule)."""

    signed_off: bool
    entries: list[EntryStatus]
    discrepancies: list[Discrepancy]
    scheme_problems: list[str]

    @property
    def incomplete(self) -> list[EntryStatus]:
        return [e for e in self.entries if not e.complete]

    @property
    def unacknowledged(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if not d.acknowledged]

    @property
    def can_sign_off(self) -> bool:
        return (
            not self.signed_off
            and not self.scheme_problems
            and bool(self.entries)
            and not self.incomplete
            and not self.unacknowledged
        )


def marking_status(skill: Skill) -> MarkingStatus:
    """Completeness per ranked entry and the skill's discrepancies."""
    # Imported here: results imports panels, and panels must stay importable alone.
    from .results import compute_skill

    results = compute_skill(skill)
    marking = SkillMarking.objects.filter(skill_id=skill.pk).first()
    statuses = [
        EntryStatus(o.entry_id, o.competitor_no, [str(m) for m in o.missing])
        for o in results.entries
        if o.ranked
    ]
    numbers = {o.entry_id: o.competitor_no for o in results.entries}
    flagged = results.discrepancies
    discrepancies: list[Discrepancy] = []
    if flagged:
        pairs = set(flagged)
        entry_ids = {e for e, _a in flagged}
        aspect_ids = {a for _e, a in flagged}
        scores: dict[tuple[int, int], list[tuple[str, Decimal]]] = {}
        for entry_id, aspect_id, code, value in (
            Mark.objects.filter(
                entry_id__in=entry_ids, aspect_id__in=aspect_ids, kind=AspectKind.JUDGEMENT
            )
            .order_by("judge__code")
            .values_list("entry_id", "aspect_id", "judge__code", "value")
        ):
            if (entry_id, aspect_id) in pairs:
                scores.setdefault((entry_id, aspect_id), []).append((code, value))
        notes = {
            (e, a): note
            for e, a, note in DiscrepancyAcknowledgement.objects.filter(
                entry_id__in=entry_ids, aspect_id__in=aspect_ids
            ).values_list("entry_id", "aspect_id", "note")
        }
        for entry_id, aspect_id in flagged:
            got = scores.get((entry_id, aspect_id), [])
            values = [v for _c, v in got]
            discrepancies.append(
                Discrepancy(
                    entry_id=entry_id,
                    competitor_no=numbers[entry_id],
                    aspect_id=aspect_id,
                    aspect_code=results.aspect_codes.get(aspect_id, str(aspect_id)),
                    scores=got,
                    spread=(max(values) - min(values)) if values else Decimal(0),
                    acknowledged=(entry_id, aspect_id) in notes,
                    note=notes.get((entry_id, aspect_id), ""),
                )
            )
    return MarkingStatus(
        signed_off=bool(marking and marking.is_signed_off),
        entries=statuses,
        discrepancies=discrepancies,
        scheme_problems=schemes.scheme_problems(skill.pk),
    )


# ---------------------------------------------------------------- sign-off


def _require_manager(user, skill: Skill) -> None:
    if user is None or not may_manage(user, skill):
        raise PermissionDenied(_("Only the chief judge of this skill or an organiser may do this."))


def sign_off_warnings(skill: Skill) -> list[str]:
    """What the apps above want confirmed before ``skill`` is signed off (e.g.
    open re-mark requests on the tablets), in receiver order; see
    ``signals.collect_sign_off_warnings``."""
    found: list[str] = []
    for _receiver, messages in signals.collect_sign_off_warnings.send(
        sender=SkillMarking, skill=skill
    ):
        found.extend(str(m) for m in messages or ())
    return found


def sign_off(skill: Skill, by_user, *, warnings_confirmed: bool = False) -> LedgerRecord:
    """Lock the skill's marks. Refused while an entry is incomplete or a
    discrepancy is unacknowledged (checked under the lock, so no write can
    slip in between the check and the lock), and while ``sign_off_warnings``
    has anything to say unless the caller confirms it (``warnings_confirmed``)."""
    _require_manager(by_user, skill)
    with transaction.atomic():
        marking = _locked_state(skill.pk)
        if marking.is_signed_off:
            raise Locked(_("This skill is already signed off."))
        status = marking_status(skill)
        if not status.can_sign_off:
            parts = []
            if status.scheme_problems:
                parts.append(" ".join(status.scheme_problems))
            if not status.entries:
                parts.append(_("There are no ranked entries."))
            if status.incomplete:
                parts.append(_("%(n)d entries are incomplete.") % {"n": len(status.incomplete)})
            if status.unacknowledged:
                parts.append(
                    _("%(n)d discrepancies are not acknowledged.")
                    % {"n": len(status.unacknowledged)}
                )
            raise Incomplete(
                _("The skill cannot be signed off yet: %(why)s") % {"why": " ".join(parts)},
                status=status,
            )
        if not warnings_confirmed:
            warnings = sign_off_warnings(skill)
            if warnings:
                raise WarningsUnconfirmed(warnings)
        now = timezone.now()
        record = ledger.append(
            marking,
            action=Action.SIGN_OFF,
            actor_id=by_user.pk,
            source="sign_off",
            created_at=now,
        )
        marking.status = SkillMarking.Status.SIGNED_OFF
        marking.signed_off_at = now
        marking.signed_off_by = by_user
        marking.save()
        # The signed-off results are stored now, under the same lock; the apps
        # above follow from them (awards queue their work on commit).
        from scoring.results import recompute_skill

        recompute_skill(skill)
        signals.skill_signed_off.send(
            sender=SkillMarking, skill=skill, marking=marking, record=record, by_user=by_user
        )
        signals.results_changed.send(sender=SkillMarking, skill=skill)
        return record


def reopen(skill: Skill, by_user, reason: str) -> LedgerRecord:
    """Unlock a signed-off skill; the reason is required and goes to the ledger."""
    _require_manager(by_user, skill)
    reason = (reason or "").strip()
    if not reason:
        raise MarkRefused(_("A reason is required to reopen marking."), code="reason_required")
    with transaction.atomic():
        marking = _locked_state(skill.pk)
        if not marking.is_signed_off:
            raise MarkRefused(_("This skill is not signed off."), code="not_signed_off")
        record = ledger.append(
            marking,
            action=Action.REOPEN,
            actor_id=by_user.pk,
            reason=reason,
            source="reopen",
            created_at=timezone.now(),
        )
        marking.status = SkillMarking.Status.OPEN
        marking.signed_off_at = None
        marking.signed_off_by = None
        marking.results_computed_at = None
        marking.save()
        # Reopened marks are no longer the published result (docs/integrity.md).
        # A call down the layers (competitions is below scoring), so no signal.
        from competitions.publication import on_reopened

        on_reopened(skill, by_user, reason)
        signals.skill_reopened.send(
            sender=SkillMarking,
            skill=skill,
            marking=marking,
            record=record,
            by_user=by_user,
            reason=reason,
        )
        return record


def acknowledge_discrepancy(entry: Entry, aspect: Aspect, by_user, note: str = "") -> LedgerRecord:
    """The chief judge has looked at a flagged judgement aspect of an entry."""
    skill = entry.skill
    _require_manager(by_user, skill)
    if aspect.skill_id != skill.pk or aspect.kind != AspectKind.JUDGEMENT:
        raise NotAllowed(_("Only judgement aspects of this skill have discrepancies."))
    note = (note or "").strip()
    with transaction.atomic():
        marking = _locked_state(skill.pk)
        if marking.is_signed_off:
            raise Locked(_("This skill is already signed off."))
        scores = list(
            Mark.objects.filter(
                entry_id=entry.pk, aspect_id=aspect.pk, kind=AspectKind.JUDGEMENT
            ).values_list("value", flat=True)
        )
        if len(scores) < 2 or max(scores) - min(scores) <= skill.discrepancy_tolerance:
            raise NotAllowed(
                _("There is no discrepancy to acknowledge here."), code="no_discrepancy"
            )
        DiscrepancyAcknowledgement.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            defaults={"acknowledged_by": by_user, "note": note},
        )
        record = ledger.append(
            marking,
            action=Action.ACKNOWLEDGE,
            entry_id=entry.pk,
            aspect_id=aspect.pk,
            actor_id=by_user.pk,
            reason=note,
            source="acknowledge",
            created_at=timezone.now(),
        )
        marking.save(update_fields=["ledger_head", "ledger_length"])
        return record


def names_revealed(skill: Skill | int) -> bool:
    """Judges see names and delegations only once the skill is signed off (解密)."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    return SkillMarking.objects.filter(
        skill_id=skill_id, status=SkillMarking.Status.SIGNED_OFF
    ).exists()
