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
``old``         old value as a string with exactly 2 decimals ("1.50") or null
``new``         new value, same format, or null
``reason``      reason text ("" if none)
``source``      "tablet", "import", "admin", … ("" if none)
``actor``       user id or null
``device``      device description ("" if none)
``ip``          IP address as stored (Django normalises IPv6) or null
``client_key``  the client's idempotency key or null
``created_at``  ISO 8601 in UTC with microseconds, e.g.
                ``2026-05-17T02:03:04.123456+00:00``
``prev_hash``   hex SHA-256 of the previous record of the skill, or 64 zeros
==============  ==============================================================

``hash`` = lowercase hex SHA-256 of those bytes. The mark id is deliberately
left out: ``LedgerRecord.mark`` is ``SET_NULL`` and the (entry, aspect, judge)
triple already identifies the mark.

Append-only
-----------
``LedgerRecord.save()`` refuses to update an existing row and ``delete()``
refuses; the model's queryset refuses ``update()`` and ``delete()`` too (see
``scoring.models.LedgerRecord``). Raw SQL can still alter rows — that is what
the hash chain is for: ``verify_ledger`` recomputes every hash and finds the
first record that does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Q

from .models import LedgerRecord, SkillMarking

GENESIS_HASH = "0" * 64
CENT = Decimal("0.01")


def format_value(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{Decimal(value).quantize(CENT):f}"


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


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
    return hashlib.sha256(data).hexdigest()


def normalise_ip(ip: str | None) -> str | None:
    """The IP as the database will store it, so the hash survives a round trip."""
    if not ip:
        return None
    return LedgerRecord._meta.get_field("ip_address").get_prep_value(ip)


def append(marking: SkillMarking, **fields) -> LedgerRecord:
    """Append a record to ``marking``'s chain and move its head.

    The caller holds ``marking`` locked (select_for_update) inside a
    transaction: that is what guarantees a single predecessor.
    """
    record = LedgerRecord(
        skill_id=marking.skill_id,
        seq=marking.ledger_length + 1,
        prev_hash=marking.ledger_head,
        **fields,
    )
    record.ip_address = normalise_ip(record.ip_address)
    record.hash = record_hash(record)
    record.save(force_insert=True)
    marking.ledger_head = record.hash
    marking.ledger_length = record.seq
    return record


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    skills_checked: int = 0
    records_checked: int = 0
    skill_id: int | None = None
    seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return "ok"
        return f"skill {self.skill_id} record {self.seq}: {self.problem}"


def _verify_skill(skill_id: int, marking: SkillMarking | None) -> tuple[int, VerifyReport | None]:
    fields = [
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
    ]
    expected_seq = 1
    prev = GENESIS_HASH
    checked = 0
    records = LedgerRecord.objects.filter(skill_id=skill_id).order_by("seq").only(*fields)
    for record in records.iterator(chunk_size=2000):
        checked += 1
        problem = ""
        seq = record.seq
        if record.seq != expected_seq:
            problem = f"record {expected_seq} is missing (next stored record is {record.seq})"
            seq = expected_seq
        elif record.prev_hash != prev:
            problem = "prev_hash does not link to the previous record"
        elif record_hash(record) != record.hash:
            problem = "content does not match its hash (record altered)"
        if problem:
            return checked, VerifyReport(ok=False, skill_id=skill_id, seq=seq, problem=problem)
        prev = record.hash
        expected_seq += 1

    length = expected_seq - 1
    if marking is None:
        return checked, VerifyReport(
            ok=False, skill_id=skill_id, seq=1, problem="ledger records without a marking state"
        )
    if marking.ledger_length != length:
        return checked, VerifyReport(
            ok=False,
            skill_id=skill_id,
            seq=length + 1,
            problem=(
                f"marking state counts {marking.ledger_length} records but "
                f"{length} are stored (records at the end are missing)"
                if marking.ledger_length > length
                else f"marking state counts {marking.ledger_length} records but {length} are stored"
            ),
        )
    if marking.ledger_head != prev:
        return checked, VerifyReport(
            ok=False,
            skill_id=skill_id,
            seq=length,
            problem="marking state head hash does not match the last record",
        )
    return checked, None


def verify_ledger(skill_ids: list[int] | None = None) -> VerifyReport:
    """Walk every skill's chain (ordered by skill id, then seq) and report
    the first broken record, or ok."""
    markings = SkillMarking.objects.all()
    if skill_ids is not None:
        markings = markings.filter(skill_id__in=skill_ids)
    by_skill = {m.skill_id: m for m in markings}
    with_records = LedgerRecord.objects.values_list("skill_id", flat=True).distinct()
    if skill_ids is not None:
        with_records = with_records.filter(Q(skill_id__in=skill_ids))
    all_ids = sorted(set(by_skill) | set(with_records.order_by()))
    total = 0
    for skill_id in all_ids:
        checked, report = _verify_skill(skill_id, by_skill.get(skill_id))
        total += checked
        if report is not None:
            return VerifyReport(
                ok=False,
                skills_checked=len(all_ids),
                records_checked=total,
                skill_id=report.skill_id,
                seq=report.seq,
                problem=report.problem,
            )
    return VerifyReport(ok=True, skills_checked=len(all_ids), records_checked=total)
