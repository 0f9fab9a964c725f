"""The mark ledger: canonical serialisation, hash chain, verification.

Canonical serialisation of a ``LedgerRecord`` (what ``record_hash`` hashes)
---------------------------------------------------------------------------
A JSON object with exactly these keys, serialised with ``sort_keys=True``,
``separators=(",", ":")``, ``ensure_ascii=False`` and encoded as UTF-8:

==============  ==============================================================
key             value
==============  ==============================================================
``skill``       skill id (int)
``seq``         sequence number within the skill, 1, 2, 3 … (int)
``action``      ``write`` / ``sign_off`` / ``reopen`` / ``acknowledge``
``entry``       entry id or null
``aspect``      aspect id or null
``judge``       judge id or null
``old``         old value, canonical, exactly 2 decimals ("1.50", "0.00") or null
``new``         new value, same format, or null
``reason``      reason text ("" if none)
``source``      "tablet", "import", "admin", … ("" if none)
``actor``       user id or null
``device``      device description ("" if none)
``ip``          IP address as stored (Django normalises IPv6) or null
``client_key``  the client's idempotency key or null
``created_at``  ISO 8601 in UTC with microseconds, e.g.
                ``2026-05-17T02:03:04.123456+00:00``
``prev_hash``   ``hash`` of the previous record of the skill, or 64 zeros
==============  ==============================================================

``hash`` = lowercase hex HMAC-SHA256 of those bytes, keyed by
``settings.PORTAL_LEDGER_KEY`` (from the environment, never stored in the
database): whoever can write the database but does not hold the key cannot
recompute a chain after changing it. The mark id is deliberately left out:
``LedgerRecord.mark`` is ``SET_NULL`` and the (entry, aspect, judge) triple
already identifies the mark.

Values are hashed in their one canonical form (``canonical_value``): two
decimals, never negative zero — the form the database stores.

Append-only
-----------
``LedgerRecord.save()`` refuses to update an existing row and ``delete()``
refuses; the model's queryset refuses ``update()`` and ``delete()`` too (see
``scoring.models.LedgerRecord``). On PostgreSQL a trigger refuses UPDATE and
DELETE of ledger rows (migration ``scoring.0003``); whole chains of skills
that are being removed go through ``purge_skills``. Whoever owns the tables
can still bypass all of that; the keyed chain and the heads printed at
sign-off are what detect it. ``verify_ledger`` recomputes every hash,
replays every chain to the marks it implies, compares them with the marks
table and the stored results, and reports every break. See docs/integrity.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from competitions.models import Skill
from teams.models import Entry, Judge

from .models import Aspect, AspectKind, EntryResult, LedgerRecord, Mark, SkillMarking
from .results import compute_skill

GENESIS_HASH = "0" * 64
CENT = Decimal("0.01")
Action = LedgerRecord.Action


def canonical_value(value: Decimal | int | str | None) -> Decimal | None:
    """``value`` as the database stores a mark: two decimals, ``-0`` → ``0``."""
    if value is None:
        return None
    value = Decimal(value).quantize(CENT)
    return value.copy_abs() if value.is_zero() else value


def format_value(value: Decimal | None) -> str | None:
    value = canonical_value(value)
    return None if value is None else f"{value:f}"


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def ledger_key() -> bytes:
    """The chain's HMAC key (``PORTAL_LEDGER_KEY``)."""
    key = getattr(settings, "PORTAL_LEDGER_KEY", "")
    if not key:
        raise ImproperlyConfigured("PORTAL_LEDGER_KEY is not set: the mark ledger cannot be kept")
    return key.encode("utf-8")


def canonical_bytes(
    *,
    skill_id: int,
    seq: int,
    action: str,
    entry_id: int | None,
    aspect_id: int | None,
    judge_id: int | None,
    old_value: Decimal | None,
    new_value: Decimal | None,
    reason: str,
    source: str,
    actor_id: int | None,
    device: str,
    ip_address: str | None,
    client_key: str | None,
    created_at: datetime,
    prev_hash: str,
) -> bytes:
    payload = {
        "skill": skill_id,
        "seq": seq,
        "action": action,
        "entry": entry_id,
        "aspect": aspect_id,
        "judge": judge_id,
        "old": format_value(old_value),
        "new": format_value(new_value),
        "reason": reason or "",
        "source": source or "",
        "actor": actor_id,
        "device": device or "",
        "ip": ip_address or None,
        "client_key": client_key or None,
        "created_at": format_time(created_at),
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def keyed_hash(data: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``data`` under the ledger key."""
    return hmac.new(ledger_key(), data, hashlib.sha256).hexdigest()


def record_hash(record: LedgerRecord) -> str:
    """The hash ``record`` should carry, recomputed from its stored content."""
    data = canonical_bytes(
        skill_id=record.skill_id,
        seq=record.seq,
        action=record.action,
        entry_id=record.entry_id,
        aspect_id=record.aspect_id,
        judge_id=record.judge_id,
        old_value=record.old_value,
        new_value=record.new_value,
        reason=record.reason,
        source=record.source,
        actor_id=record.actor_id,
        device=record.device,
        ip_address=record.ip_address,
        client_key=record.client_key,
        created_at=record.created_at,
        prev_hash=record.prev_hash,
    )
    return keyed_hash(data)


def normalise_ip(ip: str | None) -> str | None:
    """The IP as the database will store it, so the hash survives a round trip."""
    if not ip:
        return None
    return LedgerRecord._meta.get_field("ip_address").get_prep_value(ip)


def chain(marking: SkillMarking, records: Iterable[LedgerRecord]) -> None:
    """Chain ``records``, in order, onto ``marking``'s head and move the head:
    each gets its skill, ``seq`` and ``prev_hash`` from the head before it,
    its values and IP in the form the database stores (so the hash survives
    a round trip) and its ``hash``. Nothing is saved: the caller saves the
    records (one ``save``, or one ``bulk_create``) and ``marking``.

    The one place a record is chained (``append``, ``marks.write_mark``,
    ``batch.write_marks``). The caller holds ``marking`` locked
    (select_for_update) inside a transaction: that is what guarantees a
    single predecessor.
    """
    for record in records:
        record.skill_id = marking.skill_id
        record.seq = marking.ledger_length + 1
        record.prev_hash = marking.ledger_head
        record.ip_address = normalise_ip(record.ip_address)
        record.old_value = canonical_value(record.old_value)
        record.new_value = canonical_value(record.new_value)
        record.hash = record_hash(record)
        marking.ledger_head = record.hash
        marking.ledger_length = record.seq


def append(marking: SkillMarking, **fields) -> LedgerRecord:
    """Append a record to ``marking``'s chain, save it and move the head
    (``marking`` itself is saved by the caller)."""
    record = LedgerRecord(**fields)
    chain(marking, [record])
    record.save(force_insert=True)
    return record


# ---------------------------------------------------------------- heads at sign-off


def signed_off_head(skill: Skill | int) -> str | None:
    """The chain head the skill's current sign-off recorded (the hash of its
    sign-off record, which is the head while the skill stays signed off), or
    None when the skill is not signed off. Printed wherever a signed-off
    result leaves the database (sign-off page, public results, workbook)."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    marking = (
        SkillMarking.objects.filter(skill_id=skill_id, status=SkillMarking.Status.SIGNED_OFF)
        .only("ledger_head")
        .first()
    )
    return marking.ledger_head if marking else None


def signed_off_heads(skill_ids: Iterable[int]) -> dict[int, str]:
    """``signed_off_head`` of many skills at once (skills not signed off are left out)."""
    return dict(
        SkillMarking.objects.filter(
            skill_id__in=list(skill_ids), status=SkillMarking.Status.SIGNED_OFF
        ).values_list("skill_id", "ledger_head")
    )


# ---------------------------------------------------------------- maintenance

PURGE_SETTING = "portal.ledger_purge"


def purge_skills(skill_ids: list[int]) -> int:
    """Delete the whole ledger chains and the marks of ``skill_ids`` — for
    programmes being removed (the demo's reset, benchmarks), never for a
    skill that stays. Returns rows removed.

    The only DELETE the PostgreSQL trigger lets through: it runs under the
    transaction-local setting ``portal.ledger_purge`` (``SET LOCAL``), which
    ends with the transaction. Raw SQL, not the ORM: the ORM refuses ledger
    deletes and would load every mark to null ``LedgerRecord.mark``.
    """
    if not skill_ids:
        return 0
    removed = 0
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_SETTING])
        for model in (LedgerRecord, Mark):
            table = qn(model._meta.db_table)
            column = qn(model._meta.get_field("skill").column)
            for i in range(0, len(skill_ids), 500):
                chunk = skill_ids[i : i + 500]
                cursor.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                removed += max(cursor.rowcount, 0)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, '', true)", [PURGE_SETTING])
    return removed


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Break:
    """One thing ``verify_ledger`` found wrong."""

    skill_id: int
    skill_code: str
    seq: int | None  # the ledger record concerned, if one is
    entry: str  # competitor number, "" when not about an entry
    aspect: str  # aspect code, "" when not about an aspect
    problem: str

    def __str__(self) -> str:
        where = [f"skill {self.skill_code or self.skill_id}"]
        if self.seq is not None:
            where.append(f"record {self.seq}")
        if self.entry:
            where.append(f"entry {self.entry}")
        if self.aspect:
            where.append(f"aspect {self.aspect}")
        return f"{' '.join(where)}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    breaks: tuple[Break, ...] = ()
    skills_checked: int = 0
    records_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.breaks

    # The first break reported (skills by code, each in chain order), for
    # callers that need one.
    @property
    def skill_id(self) -> int | None:
        return self.breaks[0].skill_id if self.breaks else None

    @property
    def seq(self) -> int | None:
        return self.breaks[0].seq if self.breaks else None

    @property
    def problem(self) -> str:
        return self.breaks[0].problem if self.breaks else ""

    def __str__(self) -> str:
        return "ok" if self.ok else "\n".join(str(b) for b in self.breaks)


_RECORD_FIELDS = (
    "skill_id",
    "seq",
    "action",
    "entry_id",
    "aspect_id",
    "judge_id",
    "old_value",
    "new_value",
    "reason",
    "source",
    "actor_id",
    "device",
    "ip_address",
    "client_key",
    "created_at",
    "prev_hash",
    "hash",
)


@dataclass
class _Implied:
    """A mark as the ledger says it is: replayed from its write records."""

    value: Decimal
    version: int
    judge_id: int
    seq: int  # the record that last changed it


def _v(value: Decimal | None) -> str:
    return format_value(value) or "—"


@dataclass
class _SkillCheck:
    """Replays one skill's chain; collects its breaks."""

    skill: Skill
    marking: SkillMarking | None
    aspects: dict[int, tuple[str, str]]  # id → (code, kind)
    entries: dict[int, str]  # id → competitor number
    judges: dict[int, str] = field(default_factory=dict)  # id → code
    breaks: list[Break] = field(default_factory=list)
    marks: dict[tuple, _Implied] = field(default_factory=dict)
    signed_off: bool = False
    records: int = 0

    def add(self, problem: str, seq: int | None = None, entry_id=None, aspect_id=None) -> None:
        self.breaks.append(
            Break(
                skill_id=self.skill.pk,
                skill_code=self.skill.code,
                seq=seq,
                entry=self.entries.get(entry_id, str(entry_id or "")),
                aspect=self.aspects.get(aspect_id, (str(aspect_id or ""), ""))[0],
                problem=problem,
            )
        )

    def key(self, entry_id: int, aspect_id: int, judge_id: int | None) -> tuple:
        kind = self.aspects.get(aspect_id, ("", AspectKind.MEASUREMENT))[1]
        return (entry_id, aspect_id, judge_id if kind == AspectKind.JUDGEMENT else None)

    def judge(self, judge_id: int | None) -> str:
        return self.judges.get(judge_id, str(judge_id)) if judge_id else "—"

    # -- the chain

    def walk(self) -> None:
        expected_seq, prev = 1, GENESIS_HASH
        records = (
            LedgerRecord.objects.filter(skill_id=self.skill.pk)
            .order_by("seq")
            .only(*_RECORD_FIELDS)
        )
        for record in records.iterator(chunk_size=2000):
            self.records += 1
            if record.seq != expected_seq:
                missing = (
                    f"record {expected_seq}"
                    if record.seq == expected_seq + 1
                    else f"records {expected_seq}–{record.seq - 1}"
                )
                self.add(f"{missing} missing (deleted)", seq=expected_seq)
            elif record.prev_hash != prev:
                self.add("prev_hash does not link to the previous record", seq=record.seq)
            if not hmac.compare_digest(record_hash(record), record.hash):
                self.add(
                    "content does not match its keyed hash (record altered or re-chained)",
                    seq=record.seq,
                    entry_id=record.entry_id,
                    aspect_id=record.aspect_id,
                )
            self.replay(record)
            prev, expected_seq = record.hash, record.seq + 1
        self.check_state(expected_seq - 1, prev)

    def replay(self, record: LedgerRecord) -> None:
        if record.action == Action.SIGN_OFF:
            if self.signed_off:
                self.add("signed off twice without a reopening", seq=record.seq)
            self.signed_off = True
            return
        if record.action == Action.REOPEN:
            if not self.signed_off:
                self.add("reopened although not signed off", seq=record.seq)
            self.signed_off = False
            return
        if record.action != Action.WRITE:
            return
        where = {"seq": record.seq, "entry_id": record.entry_id, "aspect_id": record.aspect_id}
        if self.signed_off:
            self.add("mark written while the skill was signed off", **where)
        if record.entry_id is None or record.aspect_id is None or record.judge_id is None:
            self.add("write record without entry, aspect or judge", **where)
            return
        key = self.key(record.entry_id, record.aspect_id, record.judge_id)
        implied = self.marks.get(key)
        before = implied.value if implied else None
        if canonical_value(record.old_value) != before:
            self.add(
                f"old value {_v(record.old_value)} is not the value the ledger "
                f"held before ({_v(before)})",
                **where,
            )
        new = canonical_value(record.new_value)
        if new is None:
            self.add("write record without a new value", **where)
            return
        if record.old_value is not None and canonical_value(record.old_value) == new:
            return  # a confirmation: the key is remembered, the mark unchanged
        if implied is None:
            self.marks[key] = _Implied(new, 1, record.judge_id, record.seq)
        else:
            implied.value, implied.version = new, implied.version + 1
            implied.judge_id, implied.seq = record.judge_id, record.seq

    def check_state(self, length: int, head: str) -> None:
        if self.marking is None:
            if length:
                self.add("ledger records without a marking state", seq=1)
            return
        if self.marking.ledger_length != length:
            short = self.marking.ledger_length > length
            self.add(
                f"marking state counts {self.marking.ledger_length} records but "
                f"{length} are stored" + (" (records at the end are missing)" if short else ""),
                seq=length + 1 if short else length,
            )
        elif self.marking.ledger_head != head:
            self.add("marking state head hash does not match the last record", seq=length)
        if self.marking.is_signed_off != self.signed_off:
            self.add(
                f"status: the marking state says {self.marking.status}, "
                f"the ledger says {'signed_off' if self.signed_off else 'open'}"
            )

    # -- the marks table

    def compare_marks(self) -> None:
        rows = Mark.objects.filter(skill_id=self.skill.pk).values_list(
            "entry_id", "aspect_id", "judge_id", "kind", "value", "version"
        )
        for entry_id, aspect_id, judge_id, kind, value, version in rows.iterator(chunk_size=5000):
            key = self.key(entry_id, aspect_id, judge_id)
            where = {"entry_id": entry_id, "aspect_id": aspect_id}
            label = f" (judge {self.judge(judge_id)})" if kind == AspectKind.JUDGEMENT else ""
            implied = self.marks.pop(key, None)
            if implied is None:
                self.add(
                    f"mark {_v(value)}{label} in the marks table has no ledger record", **where
                )
                continue
            where["seq"] = implied.seq
            diffs = []
            if canonical_value(value) != implied.value:
                diffs.append(f"value: table {_v(value)}, ledger {_v(implied.value)}")
            if version != implied.version:
                diffs.append(f"version: table {version}, ledger {implied.version}")
            if judge_id != implied.judge_id:
                diffs.append(
                    f"judge: table {self.judge(judge_id)}, ledger {self.judge(implied.judge_id)}"
                )
            for diff in diffs:
                self.add(f"mark{label} differs from the ledger — {diff}", **where)
        for (entry_id, aspect_id, judge_id), implied in sorted(self.marks.items()):
            label = f" (judge {self.judge(judge_id)})" if judge_id else ""
            self.add(
                f"mark{label} missing from the marks table (ledger: {_v(implied.value)}, "
                f"version {implied.version})",
                seq=implied.seq,
                entry_id=entry_id,
                aspect_id=aspect_id,
            )

    # -- stored results of a signed-off skill

    def compare_results(self) -> None:
        if self.marking is None or not self.marking.is_signed_off:
            return
        stored = {
            r.entry_id: r
            for r in EntryResult.objects.filter(skill_id=self.skill.pk).only(
                "entry_id", "raw_total", "final_score", "rank", "scale_score", "complete"
            )
        }
        for e in compute_skill(self.skill).entries:
            row = stored.pop(e.entry_id, None)
            if row is None:
                self.add("stored result missing", entry_id=e.entry_id)
                continue
            recomputed = {
                "raw_total": e.raw_total_decimal,
                "final_score": e.final_score,
                "rank": e.rank,
                "scale_score": e.scale_score,
                "complete": e.complete,
            }
            for name, want in recomputed.items():
                got = getattr(row, name)
                if got != want:
                    self.add(
                        f"stored result {name}: stored {got}, recomputed {want}",
                        entry_id=e.entry_id,
                    )
        for entry_id in sorted(stored):
            self.add("stored result of an entry the skill does not have", entry_id=entry_id)


def _check_skill(skill: Skill, marking: SkillMarking | None) -> _SkillCheck:
    check = _SkillCheck(
        skill=skill,
        marking=marking,
        aspects={
            pk: (code, kind)
            for pk, code, kind in Aspect.objects.filter(skill_id=skill.pk).values_list(
                "pk", "code", "kind"
            )
        },
        entries=dict(Entry.objects.filter(skill_id=skill.pk).values_list("pk", "competitor_no")),
    )
    check.walk()
    judge_ids = {i.judge_id for i in check.marks.values()}
    judge_ids |= set(
        Mark.objects.filter(skill_id=skill.pk).values_list("judge_id", flat=True).distinct()
    )
    check.judges = dict(Judge.objects.filter(pk__in=judge_ids).values_list("pk", "code"))
    check.compare_marks()
    check.compare_results()
    return check


def verify_ledger(skill_ids: list[int] | None = None) -> VerifyReport:
    """Check every skill (ordered by skill code): its keyed chain, the marks
    its replay implies against the marks table, its marking state, and for a
    signed-off skill the stored results against a recomputation. Every break
    is reported, in every skill."""
    skills = Skill.objects.all()
    if skill_ids is not None:
        skills = skills.filter(pk__in=skill_ids)
    markings = {m.skill_id: m for m in SkillMarking.objects.filter(skill__in=skills)}
    with_data = set(
        LedgerRecord.objects.filter(skill__in=skills).values_list("skill_id", flat=True).distinct()
    ) | set(Mark.objects.filter(skill__in=skills).values_list("skill_id", flat=True).distinct())
    breaks: list[Break] = []
    checked = records = 0
    for skill in skills.filter(pk__in=set(markings) | with_data).order_by("code", "pk"):
        check = _check_skill(skill, markings.get(skill.pk))
        checked += 1
        records += check.records
        breaks += check.breaks
    return VerifyReport(breaks=tuple(breaks), skills_checked=checked, records_checked=records)


def head_recorded(skill: Skill, head: str) -> bool:
    """Whether ``head`` (as printed at a sign-off) is the hash of a sign-off
    record of ``skill`` — the check an auditor runs against a printed head."""
    return LedgerRecord.objects.filter(
        skill=skill, action=Action.SIGN_OFF, hash=head.strip().lower()
    ).exists()
