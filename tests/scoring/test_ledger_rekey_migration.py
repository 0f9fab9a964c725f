"""Migration scoring.0002: chains hashed before the key existed are re-keyed
when they verify under the old rule, and left (so still reported) when not."""

from __future__ import annotations

import hashlib
import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from scoring import ledger
from scoring.marks import write_mark
from scoring.models import LedgerRecord

from .builders import scheme_skill
from .test_ledger import behind_the_portal

pytestmark = pytest.mark.django_db
migration = importlib.import_module("scoring.migrations.0002_rechain_ledger_with_key")


def _write_old_chain(skill, *, negative_zero_seq: int | None = None) -> None:
    """Hash ``skill``'s records as the portal did before the key (plain
    SHA-256; the record ``negative_zero_seq`` with its 0 serialised "-0.00")."""
    prev = ledger.GENESIS_HASH
    with behind_the_portal() as cur:
        for r in LedgerRecord.objects.filter(skill=skill).order_by("seq"):
            neg = r.seq == negative_zero_seq
            data = migration._payload(
                r,
                prev,
                migration._value(r.old_value, negative_zero=neg),
                migration._value(r.new_value, negative_zero=neg),
            )
            digest = hashlib.sha256(data).hexdigest()
            cur.execute(
                "UPDATE scoring_ledgerrecord SET prev_hash = %s, hash = %s WHERE id = %s",
                [prev, digest, r.pk],
            )
            prev = digest
        cur.execute(
            "UPDATE scoring_skillmarking SET ledger_head = %s WHERE skill_id = %s", [prev, skill.pk]
        )


def _fill(s) -> None:
    for i, value in enumerate(["3", "0", "7"]):
        write_mark(entry=s.entries[i], aspect=s.m_aspects[0], judge=s.judges[0], value=value)


def test_old_chains_are_rekeyed_and_broken_ones_left_broken():
    good, bad = scheme_skill(), scheme_skill()
    _fill(good)
    _fill(bad)
    _write_old_chain(good.skill, negative_zero_seq=2)  # the old "-0" bug is no tampering
    _write_old_chain(bad.skill)
    with behind_the_portal() as cur:  # tampered under the old rule
        cur.execute(
            "UPDATE scoring_ledgerrecord SET reason = 'x' WHERE skill_id = %s AND seq = 1",
            [bad.skill.pk],
        )
    assert {b.skill_id for b in ledger.verify_ledger().breaks} == {good.skill.pk, bad.skill.pk}

    state = MigrationLoader(connection).project_state(("scoring", "0002_rechain_ledger_with_key"))
    with behind_the_portal():
        migration.rechain(state.apps, SimpleNamespace(connection=connection))

    report = ledger.verify_ledger()
    assert {b.skill_id for b in report.breaks} == {bad.skill.pk}
    # The re-keyed chain is the same history: same records, new hashes.
    assert list(
        LedgerRecord.objects.filter(skill=good.skill).order_by("seq").values_list("new_value")
    ) == [(v,) for v in (3, 0, 7)]
