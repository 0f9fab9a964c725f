"""One mark write: ``write_mark``, the path of the tablets and the admin
(docs/architecture.md, docs/integrity.md).

Serialisation: a write locks the skill's ``SkillMarking`` row (FOR UPDATE)
before reading anything it decides on. Writes to one skill therefore run
one after the other (the ledger chain needs a single predecessor, and a
sign-off must not race a write) while skills proceed in parallel. Under
PostgreSQL's READ COMMITTED every statement after the lock sees what the
previous holder committed.

Idempotency: a write with a ``client_key`` whose ledger record exists returns
that record's outcome (``replayed=True``) and changes nothing, even if the
mark changed since — but only after the rules (``checks.check_mark``) pass,
and only to the judge the key's record names, for the same entry and aspect
(else ``NotAllowed``, ``client_key_reused``). A write of the value the mark
already has changes nothing; if it carries a ``client_key`` it still appends
a *confirmation* record (old = new, same version, results not made stale) so
that the key is remembered and a retry replays instead of writing again
after someone else's change. Without a ``client_key`` such a write records
nothing.

The statements of one write (the tablets' hot path, 200 judges at once):

1. ``_lock_with_facts``: locks the skill's SkillMarking row and, in the same
   round trip, reads the facts of the rules that the lock does not
   serialise — the entry's status and delegation, whether the scheme has a
   problem (``schemes.scheme_has_problem_sql``), and the panel facts of
   exactly this (judge, entry, aspect). Nothing is cached between writes, so
   no scheme or panel edit (admin, import, queryset update, raw SQL) can be
   missed. Scheme, status and panel edits never take the skill lock, so
   reading them a moment before the lock is granted is no worse than after.
2. ``_mark_state``: after the lock, what the lock *does* serialise — the
   ledger record of the client key, the current mark, whether an
   acknowledgement exists. A statement of its own: a FOR UPDATE that waited
   still answers its subqueries from the snapshot taken before the wait.
3. ``_save``: the mark (INSERT, or UPDATE by primary key), the ledger record
   (chained by ``ledger.chain``) and the SkillMarking head — in one statement
   on PostgreSQL (INSERT / UPDATE in a WITH clause), three ORM saves
   elsewhere; then the acknowledgement's DELETE, only if one exists.

The statements are written out once, with named parameters, and run
through Django's cursor. Whether PostgreSQL keeps them prepared is a
database setting (``DATABASE_PREPARE_THRESHOLD`` in portal/environment.py:
Django's ``server_side_binding`` and ``prepare_threshold`` options), not
this module's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Entry, Judge, JudgeAssignment

from . import ledger, panels, schemes
from .checks import NOT_READ, MarkFacts, check_mark
from .models import Aspect, AspectKind, DiscrepancyAcknowledgement, LedgerRecord, Mark, SkillMarking
from .refusals import NotAllowed, StaleMark
from .rows import row_instance, select_columns
from .values import fmt

if TYPE_CHECKING:
    from competitions.models import Skill

Action = LedgerRecord.Action


@dataclass(frozen=True)
class MarkWriteResult:
    mark: Mark | None
    value: Decimal | None
    version: int
    created: bool = False
    changed: bool = False
    replayed: bool = False
    record: LedgerRecord | None = None


# ---------------------------------------------------------------- the skill's head


def marking_state(skill: Skill | int) -> SkillMarking:
    """The skill's SkillMarking, created on first use.

    ``get_or_create`` copes with two first writers: the loser's INSERT hits
    the one-to-one unique constraint and it reads the winner's row.
    """
    skill_id = skill if isinstance(skill, int) else skill.pk
    marking, _created = SkillMarking.objects.get_or_create(skill_id=skill_id)
    return marking


def locked_state(skill_id: int) -> SkillMarking:
    """The skill's SkillMarking, locked until the end of the transaction."""
    locked = SkillMarking.objects.select_for_update()
    try:
        return locked.get(skill_id=skill_id)
    except SkillMarking.DoesNotExist:
        # First write of the skill: create the row (race-safe), then lock it.
        marking_state(skill_id)
        return locked.get(skill_id=skill_id)


# ---------------------------------------------------------------- 1. lock and facts

# What the write needs of the SkillMarking row (the rest stays deferred).
_MARKING_FIELDS = ("id", "skill", "status", "ledger_head", "ledger_length")

# The judge's marking groups in the skill, as a FROM … WHERE fragment.
_JUDGE_GROUPS = """
    FROM scoring_markinggroup_judges gj
    JOIN scoring_markinggroup g ON g.id = gj.markinggroup_id
    WHERE g.skill_id = %(skill)s AND gj.judge_id = %(judge)s"""

_LOCK_SQL = """
SELECT {marking},
    (SELECT e.status FROM teams_entry e WHERE e.id = %(entry)s),
    (SELECT e.delegation_id FROM teams_entry e WHERE e.id = %(entry)s),
    {scheme_has_problem},
    (SELECT ja.role FROM teams_judgeassignment ja
        WHERE ja.skill_id = %(skill)s AND ja.judge_id = %(judge)s),
    (SELECT j.delegation_id FROM teams_judge j WHERE j.id = %(judge)s),
    (SELECT COUNT(*) {judge_groups}),
    -- A group covers the pair when it lists no entries or lists this one,
    -- and lists no aspects or lists this one (panels.GroupCover).
    EXISTS (SELECT 1 {judge_groups}
        AND (NOT EXISTS (SELECT 1 FROM scoring_markinggroup_entries ge
                WHERE ge.markinggroup_id = g.id)
            OR EXISTS (SELECT 1 FROM scoring_markinggroup_entries ge
                WHERE ge.markinggroup_id = g.id AND ge.entry_id = %(entry)s))
        AND (NOT EXISTS (SELECT 1 FROM scoring_markinggroup_aspects ga
                WHERE ga.markinggroup_id = g.id)
            OR EXISTS (SELECT 1 FROM scoring_markinggroup_aspects ga
                WHERE ga.markinggroup_id = g.id AND ga.aspect_id = %(aspect)s)))
FROM scoring_skillmarking sm
WHERE sm.skill_id = %(skill)s"""


@cache
def _lock_sql() -> str:
    sql = _LOCK_SQL.format(
        marking=select_columns(SkillMarking, "sm", _MARKING_FIELDS),
        scheme_has_problem=schemes.scheme_has_problem_sql(),
        judge_groups=_JUDGE_GROUPS,
    )
    if connection.features.has_select_for_update:
        # Only the SkillMarking row is in FROM: the subqueries lock nothing.
        sql += "\nFOR UPDATE"
    return sql


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
        ``Panel.check`` on it answers as on the whole panel
        (tests/scoring/test_write_mark_queries.py compares them)."""
        # An assigned judge always has a home delegation (a required field).
        if self.judge_role is None or self.judge_delegation_id is None:
            return panels.Panel(skill_id=self.marking.skill_id)
        groups: dict[int, list[panels.GroupCover]] = {}
        if self.judge_groups:
            # Covers nothing unless a group covers this pair (all else is moot).
            groups[judge_id] = [panels.GroupCover(None, None)] if self.judge_covered else []
        chief = self.judge_role == JudgeAssignment.Role.CHIEF
        return panels.Panel(
            skill_id=self.marking.skill_id,
            judges={judge_id: self.judge_delegation_id},
            chiefs=frozenset({judge_id}) if chief else frozenset(),
            groups=groups,
        )

    def rules(self, entry: Entry, aspect: Aspect, judge: Judge) -> MarkFacts:
        """The facts ``checks.check_mark`` decides on. When the SQL says the
        scheme may have a problem, ``scheme_problems`` is asked for the
        message and is the authority (if it finds nothing, the write goes on)."""
        skill_id = self.marking.skill_id
        return MarkFacts(
            signed_off=self.marking.is_signed_off,
            same_skill=aspect.skill_id == skill_id,
            entry_status=self.entry_status,
            competitor_no=entry.competitor_no,
            entry_id=entry.pk,
            entry_delegation=self.entry_delegation_id,
            aspect=aspect,
            scheme_problems=schemes.scheme_problems(skill_id) if self.scheme_suspect else (),
            panel=self.panel(judge.pk),
            judge=judge.pk,
        )


def _lock_with_facts(skill_id: int, entry_id: int, judge_id: int, aspect_id: int) -> _WriteFacts:
    """Lock the skill's SkillMarking (created on first use) and read the
    facts the checks need, in one statement. Inside a transaction."""
    params = {"skill": skill_id, "entry": entry_id, "judge": judge_id, "aspect": aspect_id}
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), params)
        row = cursor.fetchone()
        if row is None:
            # First write of the skill: create the row (race-safe), then lock it.
            marking_state(skill_id)
            cursor.execute(_lock_sql(), params)
            row = cursor.fetchone()
    n = len(_MARKING_FIELDS)
    status, entry_delegation, suspect, role, judge_delegation, groups, covered = row[n:]
    return _WriteFacts(
        marking=row_instance(SkillMarking, row[:n], _MARKING_FIELDS),
        entry_status=status,
        entry_delegation_id=entry_delegation,
        scheme_suspect=bool(suspect),
        judge_role=role,
        judge_delegation_id=judge_delegation,
        judge_groups=int(groups or 0),
        judge_covered=bool(covered),
    )


# ---------------------------------------------------------------- 2. state under the lock

_STATE_SQL = """
SELECT (SELECT l.id FROM scoring_ledgerrecord l WHERE l.client_key = %(key)s),
    EXISTS (SELECT 1 FROM scoring_discrepancyacknowledgement d
        WHERE d.entry_id = %(entry)s AND d.aspect_id = %(aspect)s),
    {mark}
FROM (SELECT 1 AS one) o
LEFT JOIN scoring_mark m
    ON m.entry_id = %(entry)s AND m.aspect_id = %(aspect)s AND m.kind = %(kind)s"""


@cache
def _state_sql(judgement: bool) -> str:
    sql = _STATE_SQL.format(mark=select_columns(Mark, "m"))
    if judgement:  # a J mark is each judge's own; an M mark is the entry's
        sql += " AND m.judge_id = %(judge)s"
    return sql


def _mark_state(
    entry_id: int, aspect: Aspect, judge_id: int, client_key: str | None
) -> tuple[int | None, bool, Mark | None]:
    """Under the lock, in one statement: the id of the ledger record carrying
    ``client_key`` (or None), whether the (entry, aspect) has a discrepancy
    acknowledgement, and the current mark (the row ``_current_mark`` finds)."""
    judgement = aspect.kind == AspectKind.JUDGEMENT
    params = {
        "key": client_key,
        "entry": entry_id,
        "aspect": aspect.pk,
        "kind": aspect.kind,
        "judge": judge_id,
    }
    if not judgement:
        del params["judge"]
    with connection.cursor() as cursor:
        cursor.execute(_state_sql(judgement), params)
        earlier_id, acknowledged, *mark_row = cursor.fetchone()
    mark = row_instance(Mark, mark_row) if mark_row[0] is not None else None
    return earlier_id, bool(acknowledged), mark


# ---------------------------------------------------------------- replay


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


# ---------------------------------------------------------------- 3. the write


def _check_version(mark: Mark | None, expected_version: int | None) -> None:
    current_version = mark.version if mark else 0
    if expected_version is None or expected_version == current_version:
        return
    raise StaleMark(
        _(
            "This mark was changed meanwhile: it is now %(value)s (version %(version)d). "
            "Check it and enter your mark again."
        )
        % {"value": fmt(mark.value) if mark else "—", "version": current_version},
        current_value=mark.value if mark else None,
        current_version=current_version,
    )


def _new_or_changed(mark: Mark | None, value: Decimal, entry: Entry, aspect: Aspect, judge: Judge):
    """The mark after the write, unsaved: created at version 1, or its value
    and version moved (an M mark is attributed to whoever entered its value)."""
    if mark is None:
        return Mark(
            skill_id=entry.skill_id,
            entry_id=entry.pk,
            aspect_id=aspect.pk,
            judge_id=judge.pk,
            kind=aspect.kind,
            value=value,
            version=1,
        )
    mark.value = value
    mark.version += 1
    mark.judge_id = judge.pk
    return mark


def _save(marking: SkillMarking, record: LedgerRecord, mark: Mark | None, *, stale: bool) -> None:
    """Save the mark (new or changed; None for a confirmation, whose
    ``record.mark`` is the unchanged mark), chain and save ``record`` and
    move the head of ``marking``. ``stale``: the results must be recomputed.
    Afterwards ``record``, ``mark`` and ``marking`` are as ``save()`` leaves them."""
    if mark is not None:
        mark.updated_at = timezone.now()  # auto_now, as save() sets it
        record.mark = mark
    ledger.chain(marking, [record])
    if stale:
        marking.results_computed_at = None
    if _one_statement():
        _save_in_one_statement(marking, record, mark, stale=stale)
        return
    if mark is not None:
        if mark._state.adding:
            mark.save(force_insert=True)
        else:
            mark.save(update_fields=["value", "version", "judge", "updated_at"])
        record.mark = mark  # now with its id
    record.save(force_insert=True)
    fields = ["ledger_head", "ledger_length"]
    marking.save(update_fields=[*fields, "results_computed_at"] if stale else fields)


def _one_statement() -> bool:
    """PostgreSQL runs INSERT/UPDATE in WITH clauses (the tablets' path: one
    round trip instead of three); other databases save the same rows one
    ORM statement at a time (tests run both)."""
    return connection.vendor == "postgresql"


# The mark: inserted, updated, or (a confirmation) only referred to.
_MARK_INSERT = """
    INSERT INTO scoring_mark
        (skill_id, entry_id, aspect_id, judge_id, kind, value, version, updated_at)
    VALUES (%(skill)s, %(entry)s, %(aspect)s, %(judge)s, %(kind)s, %(value)s, %(version)s,
        %(now)s)
    RETURNING id"""
_MARK_UPDATE = """
    UPDATE scoring_mark
    SET value = %(value)s, version = %(version)s, judge_id = %(judge)s, updated_at = %(now)s
    WHERE id = %(mark)s
    RETURNING id"""
_MARK_KEPT = "SELECT id FROM scoring_mark WHERE id = %(mark)s"

_WRITE_SQL = """
WITH m AS ({mark}),
l AS (
    INSERT INTO scoring_ledgerrecord
        (skill_id, seq, action, mark_id, entry_id, aspect_id, judge_id, old_value, new_value,
        reason, source, actor_id, device, ip_address, client_key, created_at, prev_hash, hash)
    VALUES (%(skill)s, %(seq)s, %(action)s, (SELECT id FROM m), %(entry)s, %(aspect)s,
        %(record_judge)s, %(old)s, %(new)s, %(reason)s, %(source)s, %(actor)s, %(device)s,
        %(ip)s, %(key)s, %(created_at)s, %(prev_hash)s, %(hash)s)
    RETURNING id
)
UPDATE scoring_skillmarking
SET ledger_head = %(hash)s, ledger_length = %(seq)s{stale}
WHERE id = %(marking)s
RETURNING (SELECT id FROM m), (SELECT id FROM l)"""


@cache
def _write_sql(mark: str, stale: bool) -> str:
    stale_sql = ", results_computed_at = NULL" if stale else ""
    return _WRITE_SQL.format(mark=mark, stale=stale_sql)


def _save_in_one_statement(
    marking: SkillMarking, record: LedgerRecord, mark: Mark | None, *, stale: bool
) -> None:
    """``_save`` on PostgreSQL: the same rows in one statement."""
    if mark is None:
        sql = _write_sql(_MARK_KEPT, stale)
        mark_params: dict[str, Any] = {"mark": record.mark_id}
    else:
        sql = _write_sql(_MARK_INSERT if mark._state.adding else _MARK_UPDATE, stale)
        mark_params = {
            "mark": mark.pk,
            "kind": mark.kind,
            "value": mark.value,
            "version": mark.version,
            "judge": mark.judge_id,
            "now": mark.updated_at,
        }
    params = {
        **mark_params,
        "skill": record.skill_id,
        "seq": record.seq,
        "action": record.action,
        "entry": record.entry_id,
        "aspect": record.aspect_id,
        "record_judge": record.judge_id,
        "old": record.old_value,
        "new": record.new_value,
        "reason": record.reason,
        "source": record.source,
        "actor": record.actor_id,
        "device": record.device,
        "ip": record.ip_address,
        "key": record.client_key,
        "created_at": record.created_at,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "marking": marking.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        mark_id, record_id = cursor.fetchone()
    for saved, pk in ((mark, mark_id), (record, record_id)):
        if saved is not None:  # as save() leaves them
            saved.pk = pk
            saved._state.adding = False
            saved._state.db = connection.alias
    if mark is not None:
        record.mark = mark


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
    ``SchemeIncomplete``, ``NotAllowed``, ``OutOfRange`` (``checks.check_mark``),
    ``StaleMark``.
    """
    if client_key is not None:
        client_key = str(client_key).strip() or None
        if client_key is not None and len(client_key) > 64:
            raise ValueError("client_key is longer than 64 characters")
    record = LedgerRecord(
        action=Action.WRITE,
        entry_id=entry.pk,
        aspect_id=aspect.pk,
        judge_id=judge.pk,
        reason=(reason or "").strip(),
        source=source or "",
        actor_id=getattr(actor, "pk", None) if actor is not None else actor_id,
        device=(device or "")[:200],
        ip_address=ip,
        client_key=client_key,
    )
    with transaction.atomic():
        return _write_locked(record, entry, aspect, judge, value, expected_version)


def _write_locked(
    record: LedgerRecord,
    entry: Entry,
    aspect: Aspect,
    judge: Judge,
    value: object,
    expected_version: int | None,
) -> MarkWriteResult:
    """``write_mark`` inside its transaction: lock, check, write ``record``."""
    client_key = record.client_key
    facts = _lock_with_facts(entry.skill_id, entry.pk, judge.pk, aspect.pk)
    earlier_id, acknowledged, mark = _mark_state(entry.pk, aspect, judge.pk, client_key)
    # A replay is answered after the rules, before the value is read.
    new_value = check_mark(
        facts.rules(entry, aspect, judge), NOT_READ if earlier_id is not None else value
    )
    if earlier_id is not None:
        return _replay(LedgerRecord.objects.get(pk=earlier_id), entry, aspect, judge)
    assert new_value is not None
    _check_version(mark, expected_version)
    record.created_at = timezone.now()
    if mark is not None and mark.value == new_value:
        if client_key is None:
            return MarkWriteResult(mark=mark, value=mark.value, version=mark.version)
        # Confirmation: remembers the key, changes nothing else.
        record.mark = mark
        record.old_value = record.new_value = mark.value
        _save(facts.marking, record, None, stale=False)
        return MarkWriteResult(mark=mark, value=mark.value, version=mark.version, record=record)

    record.old_value = mark.value if mark else None
    record.new_value = new_value
    created = mark is None
    mark = _new_or_changed(mark, new_value, entry, aspect, judge)
    _save(facts.marking, record, mark, stale=True)
    if acknowledged and aspect.kind == AspectKind.JUDGEMENT:
        # The chief judge acknowledged other scores than these (a changed
        # score or a newly added one changes the spread they saw). Read
        # under the lock, which acknowledge_discrepancy also takes.
        DiscrepancyAcknowledgement.objects.filter(entry_id=entry.pk, aspect_id=aspect.pk).delete()
    return MarkWriteResult(
        mark=mark,
        value=new_value,
        version=mark.version,
        created=created,
        changed=True,
        record=record,
    )
