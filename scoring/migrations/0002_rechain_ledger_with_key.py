"""Re-hash every existing ledger chain with the HMAC key (docs/integrity.md).

Until this migration a record's hash was a plain SHA-256 of its canonical
content, which anyone who can write the database can recompute. From now on
it is HMAC-SHA256 keyed by ``PORTAL_LEDGER_KEY``. A chain is re-hashed only
if it verifies under the old rule (a value hashed as ``-0.00`` where the
database stores ``0.00`` counts as verifying: that was a bug of the old
serialisation, not tampering); a chain that does not verify is left as it
is, so ``verify_ledger`` goes on reporting it. The skill's marking head moves
with its chain when it pointed at the chain's last record.

Self-contained on purpose: the serialisation below is the one of this
migration's time, whatever ``scoring.ledger`` becomes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import UTC
from decimal import Decimal

from django.conf import settings
from django.db import migrations

GENESIS = "0" * 64
CENT = Decimal("0.01")


def _value(value, negative_zero: bool = False):
    if value is None:
        return None
    value = Decimal(value).quantize(CENT)
    if value.is_zero():
        value = -value.copy_abs() if negative_zero else value.copy_abs()
    return f"{value:f}"


def _payload(r, prev_hash: str, old: str | None, new: str | None) -> bytes:
    payload = {
        "skill": r.skill_id,
        "seq": r.seq,
        "action": r.action,
        "entry": r.entry_id,
        "aspect": r.aspect_id,
        "judge": r.judge_id,
        "old": old,
        "new": new,
        "reason": r.reason or "",
        "source": r.source or "",
        "actor": r.actor_id,
        "device": r.device or "",
        "ip": r.ip_address or None,
        "client_key": r.client_key or None,
        "created_at": r.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _old_hash_matches(r) -> bool:
    olds = {_value(r.old_value), _value(r.old_value, negative_zero=True)}
    news = {_value(r.new_value), _value(r.new_value, negative_zero=True)}
    return any(
        hashlib.sha256(_payload(r, r.prev_hash, old, new)).hexdigest() == r.hash
        for old, new in itertools.product(olds, news)
    )


def rechain(apps, schema_editor) -> None:
    LedgerRecord = apps.get_model("scoring", "LedgerRecord")
    SkillMarking = apps.get_model("scoring", "SkillMarking")
    db = schema_editor.connection.alias
    records = LedgerRecord.objects.using(db)
    skill_ids = sorted(set(records.values_list("skill_id", flat=True).distinct()))
    if not skill_ids:
        return
    key = settings.PORTAL_LEDGER_KEY.encode("utf-8")
    for skill_id in skill_ids:
        chain = list(records.filter(skill_id=skill_id).order_by("seq"))
        prev, intact = GENESIS, True
        for i, r in enumerate(chain, start=1):
            if r.seq != i or r.prev_hash != prev or not _old_hash_matches(r):
                intact = False
                break
            prev = r.hash
        if not intact:
            print(f"\n  scoring: ledger of skill {skill_id} does not verify; left as it is")
            continue
        old_head, prev = prev, GENESIS
        for r in chain:
            r.prev_hash = prev
            r.hash = hmac.new(
                key, _payload(r, prev, _value(r.old_value), _value(r.new_value)), hashlib.sha256
            ).hexdigest()
            prev = r.hash
        records.bulk_update(chain, ["prev_hash", "hash"], batch_size=1000)
        SkillMarking.objects.using(db).filter(
            skill_id=skill_id, ledger_head=old_head, ledger_length=len(chain)
        ).update(ledger_head=prev)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop, elidable=True)]
