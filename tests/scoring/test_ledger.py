"""The hash-chained ledger and verify_ledger."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from scoring import ledger
from scoring.models import LedgerAppendOnly, LedgerRecord, SkillMarking
from scoring.services import write_mark

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


def _fill(s, n=4):
    for i in range(n):
        write_mark(
            entry=s.entries[i % len(s.entries)],
            aspect=s.m_aspects[0],
            judge=s.judges[0],
            value=str(i + 1),
            reason=f"r{i}",
            device="平板 3",
            ip="2001:db8::0:1",
            client_key=f"k{s.skill.pk}-{i}",
        )


def _verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def two_skills():
    a, b = scheme_skill(), scheme_skill()
    _fill(a)
    _fill(b)
    return a, b


def test_chain_is_consistent(two_skills):
    a, _b = two_skills
    records = list(LedgerRecord.objects.filter(skill=a.skill).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == ledger.GENESIS_HASH
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash
    for rec in records:
        assert ledger.record_hash(rec) == rec.hash
    report = ledger.verify_ledger()
    assert report.ok and report.records_checked == 8 and report.skills_checked == 2


def test_command_prints_ok(two_skills):
    code, out = _verify()
    assert code == 0 and out.strip() == "ok"


def test_tampered_value_is_found(two_skills):
    _a, b = two_skills
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE scoring_ledgerrecord SET new_value = 9 WHERE skill_id = %s AND seq = 3",
            [b.skill.pk],
        )
    report = ledger.verify_ledger()
    assert not report.ok and (report.skill_id, report.seq) == (b.skill.pk, 3)
    code, out = _verify()
    assert code == 1
    assert f"skill {b.skill.pk}" in out and "record 3" in out


def test_deleted_record_is_found(two_skills):
    a, _b = two_skills
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s AND seq = 2", [a.skill.pk]
        )
    report = ledger.verify_ledger()
    assert (report.ok, report.skill_id, report.seq) == (False, a.skill.pk, 2)
    assert "missing" in report.problem


def test_deleted_last_record_is_found(two_skills):
    a, _b = two_skills
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s AND seq = 4", [a.skill.pk]
        )
    report = ledger.verify_ledger()
    assert (report.ok, report.skill_id, report.seq) == (False, a.skill.pk, 4)


def test_rewritten_record_with_recomputed_hash_breaks_the_link(two_skills):
    a, _b = two_skills
    rec = LedgerRecord.objects.get(skill=a.skill, seq=2)
    rec.reason = "forged"
    forged = ledger.record_hash(rec)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE scoring_ledgerrecord SET reason = 'forged', hash = %s WHERE id = %s",
            [forged, rec.pk],
        )
    report = ledger.verify_ledger()
    assert (report.skill_id, report.seq) == (a.skill.pk, 3)
    assert "prev_hash" in report.problem


def test_marking_state_head_is_checked(two_skills):
    a, _b = two_skills
    SkillMarking.objects.filter(skill=a.skill).update(ledger_head="f" * 64)
    report = ledger.verify_ledger()
    assert (report.ok, report.skill_id, report.seq) == (False, a.skill.pk, 4)


def test_orm_refuses_to_change_or_delete_records(two_skills):
    a, _b = two_skills
    rec = LedgerRecord.objects.filter(skill=a.skill).first()
    rec.reason = "edited"
    with pytest.raises(LedgerAppendOnly):
        rec.save()
    with pytest.raises(LedgerAppendOnly):
        rec.delete()
    with pytest.raises(LedgerAppendOnly):
        LedgerRecord.objects.filter(pk=rec.pk).update(reason="x")
    with pytest.raises(LedgerAppendOnly):
        LedgerRecord.objects.filter(pk=rec.pk).delete()
    assert ledger.verify_ledger().ok


def test_ipv6_is_hashed_as_stored(two_skills):
    rec = LedgerRecord.objects.first()
    assert rec.ip_address == "2001:db8::1"
    assert ledger.record_hash(rec) == rec.hash
