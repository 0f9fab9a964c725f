"""The keyed hash-chained ledger and verify_ledger, tried as an insider would.

"Behind the portal" is raw SQL on the portal's own database connection; on
PostgreSQL it first switches triggers off (``session_replication_role``,
as the tables' owner or a superuser can), since the append-only trigger
would refuse it otherwise (tested separately).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
from decimal import Decimal
from io import StringIO
from typing import cast

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from scoring import ledger, signoff
from scoring.batch import MarkWrite, write_marks
from scoring.marks import write_mark
from scoring.models import EntryResult, LedgerAppendOnly, LedgerRecord, Mark, SkillMarking
from scoring.refusals import OutOfRange

from .builders import scheme_skill

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)


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


def _verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    except SystemExit as exc:
        return cast(int, exc.code), out.getvalue()
    return 0, out.getvalue()


@contextlib.contextmanager
def behind_the_portal():
    """A cursor that changes rows as someone with database access would."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        try:
            yield cur
        finally:
            if connection.vendor == "postgresql":
                cur.execute("SET session_replication_role = DEFAULT")


def _sign_off(s):
    """Every mark of ``s`` written, then signed off."""
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="10")
        for aspect in s.j_aspects:
            for judge in s.judges:
                write_mark(entry=entry, aspect=aspect, judge=judge, value="2")
    signoff.sign_off(s.skill, s.chief.user)


@pytest.fixture
def two_skills():
    a, b = scheme_skill(), scheme_skill()
    _fill(a)
    _fill(b)
    return a, b


# -- the chain --------------------------------------------------------------------


def test_chain_is_consistent_and_keyed(two_skills, settings):
    a, _b = two_skills
    records = list(LedgerRecord.objects.filter(skill=a.skill).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == ledger.GENESIS_HASH
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash
    for rec in records:
        assert ledger.record_hash(rec) == rec.hash
        # Not a plain SHA-256 anyone could recompute: it needs the key.
        assert hashlib.sha256(ledger.canonical_bytes(**_content(rec))).hexdigest() != rec.hash
    report = ledger.verify_ledger()
    assert report.ok and report.records_checked == 8 and report.skills_checked == 2
    settings.PORTAL_LEDGER_KEY = "another key"
    assert not ledger.verify_ledger().ok


def test_command_prints_ok(two_skills):
    code, out = _verify()
    assert code == 0 and out.strip() == "ok"


def test_tampered_value_is_found(two_skills):
    _a, b = two_skills
    with behind_the_portal() as cur:
        cur.execute(
            "UPDATE scoring_ledgerrecord SET new_value = 9 WHERE skill_id = %s AND seq = 3",
            [b.skill.pk],
        )
    report = ledger.verify_ledger()
    assert not report.ok and (report.skill_id, report.seq) == (b.skill.pk, 3)
    code, out = _verify()
    assert code == 1
    assert f"skill {b.skill.code} record 3" in out


def test_deleted_record_is_found(two_skills):
    a, _b = two_skills
    with behind_the_portal() as cur:
        cur.execute(
            "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s AND seq = 2", [a.skill.pk]
        )
    report = ledger.verify_ledger()
    assert (report.ok, report.skill_id, report.seq) == (False, a.skill.pk, 2)
    assert "missing" in report.problem
    # The mark that record wrote has lost its trace too.
    assert any("no ledger record" in b.problem for b in report.breaks)


def test_deleted_last_record_is_found(two_skills):
    a, _b = two_skills
    with behind_the_portal() as cur:
        cur.execute(
            "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s AND seq = 4", [a.skill.pk]
        )
    report = ledger.verify_ledger()
    assert (report.ok, report.skill_id, report.seq) == (False, a.skill.pk, 4)


def test_rewritten_record_with_recomputed_hash_breaks_the_link(two_skills):
    a, _b = two_skills
    rec = LedgerRecord.objects.get(skill=a.skill, seq=2)
    rec.reason = "forged"
    forged = ledger.record_hash(rec)  # even with the key, the next link breaks
    with behind_the_portal() as cur:
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


# -- one canonical value ------------------------------------------------------------


@pytest.mark.parametrize("typed", ["-0", "-0.00", "0.0", "0", "+0", "-0e3", ".0", "0."])
def test_zero_however_typed_is_stored_hashed_and_verified_as_zero(typed):
    s = scheme_skill(n_entries=1)
    result = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value=typed)
    assert str(result.value) == "0.00"
    record = LedgerRecord.objects.get(skill=s.skill)
    assert str(record.new_value) == "0.00" and not record.new_value.is_signed()
    assert Mark.objects.get().value == 0
    # Written again as another zero: nothing changes, nothing is recorded.
    again = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="-0")
    assert not again.changed and LedgerRecord.objects.count() == 1
    assert ledger.verify_ledger().ok
    assert _verify() == (0, "ok\n")


def test_negative_zero_from_every_path_verifies():
    s = scheme_skill(n_entries=3)
    e0, e1, e2 = s.entries
    # The admin and the tablet send text; an import may hand over a Decimal.
    write_mark(entry=e0, aspect=s.m_aspects[0], judge=s.judges[0], value=Decimal("-0"))
    write_mark(entry=e0, aspect=s.j_aspects[0], judge=s.judges[0], value="-0.00")
    write_mark(entry=e1, aspect=s.m_aspects[0], judge=s.judges[0], value="5", client_key="c1")
    write_mark(entry=e1, aspect=s.m_aspects[0], judge=s.judges[0], value="-0.0", client_key="c2")
    write_marks(
        s.skill,
        [
            MarkWrite(e2, s.m_aspects[0], s.judges[0], "-0.00"),
            MarkWrite(e2, s.m_aspects[1], s.judges[0], Decimal("-0.00")),
            MarkWrite(e2, s.j_aspects[0], s.judges[1], "-0"),
        ],
    )
    assert not Mark.objects.filter(value__lt=0).exists()
    assert all(
        ledger.format_value(v) == "0.00"
        for v in LedgerRecord.objects.exclude(new_value__gt=0).values_list("new_value", flat=True)
    )
    assert ledger.verify_ledger().ok


@pytest.mark.parametrize("typed", ["０", "１.５", "٣", "1_0", "1,5", "1，5", "0x1", "1 2", "⁰"])
def test_full_width_and_other_garbage_is_refused(typed):
    s = scheme_skill(n_entries=1)
    with pytest.raises(OutOfRange) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value=typed)
    assert exc.value.code == "not_a_number" and typed in exc.value.message
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()


def test_format_value_is_canonical():
    assert ledger.format_value(Decimal("-0")) == "0.00"
    assert ledger.format_value(Decimal("-0.00")) == "0.00"
    assert ledger.format_value(Decimal("0E+3")) == "0.00"
    assert ledger.format_value(Decimal("1.5")) == "1.50"


# -- the ledger proves the marks ---------------------------------------------------------


def test_mark_edited_in_the_database_is_found():
    s = scheme_skill()
    _fill(s)
    mark = Mark.objects.filter(skill=s.skill).order_by("pk").first()
    with behind_the_portal() as cur:
        cur.execute("UPDATE scoring_mark SET value = 39 WHERE id = %s", [mark.pk])
    report = ledger.verify_ledger()
    assert not report.ok
    [found] = report.breaks
    assert (found.skill_code, found.entry, found.aspect) == (
        s.skill.code,
        mark.entry.competitor_no,
        mark.aspect.code,
    )
    assert f"table 39.00, ledger {mark.value:.2f}" in found.problem
    code, out = _verify()
    assert code == 1 and f"entry {mark.entry.competitor_no} aspect {mark.aspect.code}" in out


def test_mark_version_judge_and_row_are_compared():
    s = scheme_skill()
    _fill(s, n=3)
    marks = list(Mark.objects.filter(skill=s.skill).order_by("pk"))
    with behind_the_portal() as cur:
        cur.execute("UPDATE scoring_mark SET version = 7 WHERE id = %s", [marks[0].pk])
        cur.execute(
            "UPDATE scoring_mark SET judge_id = %s WHERE id = %s", [s.judges[2].pk, marks[1].pk]
        )
        cur.execute(
            "UPDATE scoring_ledgerrecord SET mark_id = NULL WHERE mark_id = %s", [marks[2].pk]
        )
        cur.execute("DELETE FROM scoring_mark WHERE id = %s", [marks[2].pk])
        cur.execute(
            "INSERT INTO scoring_mark (skill_id, entry_id, aspect_id, judge_id, kind, value,"
            " version, updated_at) VALUES (%s, %s, %s, %s, 'M', 12, 1, CURRENT_TIMESTAMP)",
            [s.skill.pk, s.entries[0].pk, s.m_aspects[1].pk, s.judges[0].pk],
        )
    problems = [b.problem for b in ledger.verify_ledger().breaks]
    assert any("version: table 7, ledger 1" in p for p in problems)
    assert any(f"judge: table {s.judges[2].code}, ledger {s.judges[0].code}" in p for p in problems)
    assert any("missing from the marks table" in p for p in problems)
    assert any("12.00" in p and "has no ledger record" in p for p in problems)
    assert len(problems) == 4


def test_record_and_mark_changed_together_and_rechained_without_the_key_is_found():
    s = scheme_skill()
    _fill(s, n=4)
    target = LedgerRecord.objects.get(skill=s.skill, seq=2)
    # The attacker changes the record and its mark, then recomputes every later
    # hash and the marking head — with SHA-256, or with a key of their own.
    for forge in (
        lambda data: hashlib.sha256(data).hexdigest(),
        lambda data: hmac.new(b"guessed key", data, hashlib.sha256).hexdigest(),
    ):
        with transaction.atomic():
            _rechain(s.skill, forge, seq=2, new_value=Decimal("39"))
            with behind_the_portal() as cur:
                cur.execute(
                    "UPDATE scoring_mark SET value = 39 WHERE entry_id = %s AND aspect_id = %s",
                    [target.entry_id, target.aspect_id],
                )
            report = ledger.verify_ledger()
            assert [b.seq for b in report.breaks] == [2, 3, 4]
            assert all("keyed hash" in b.problem for b in report.breaks)
            transaction.set_rollback(True)
    assert ledger.verify_ledger().ok


def test_history_rechained_with_the_key_is_caught_by_the_printed_head():
    s = scheme_skill(n_entries=2)
    _sign_off(s)
    printed = ledger.signed_off_head(s.skill)
    assert printed == LedgerRecord.objects.get(skill=s.skill, action="sign_off").hash
    assert _verify("--head", f"{s.skill.pk}={printed}")[0] == 0
    # Whoever holds the key too can rewrite history into a consistent chain…
    _rechain(s.skill, lambda data: ledger.keyed_hash(data), seq=1, reason="forged")
    assert ledger.verify_ledger().ok
    # …but not the head printed when the results left the database.
    code, out = _verify("--head", f"{s.skill.pk}={printed}")
    assert code == 1 and printed in out and s.skill.code in out


def _content(rec: LedgerRecord) -> dict:
    return dict(
        skill_id=rec.skill_id,
        seq=rec.seq,
        action=rec.action,
        entry_id=rec.entry_id,
        aspect_id=rec.aspect_id,
        judge_id=rec.judge_id,
        old_value=rec.old_value,
        new_value=rec.new_value,
        reason=rec.reason,
        source=rec.source,
        actor_id=rec.actor_id,
        device=rec.device,
        ip_address=rec.ip_address,
        client_key=rec.client_key,
        created_at=rec.created_at,
        prev_hash=rec.prev_hash,
    )


def _rechain(skill, forge, *, seq: int, **changes) -> None:
    """Change record ``seq`` of ``skill`` (and the old value of the record
    after it that wrote the same mark), recompute every hash from there with
    ``forge`` and move the marking head: a complete rewrite."""
    records = list(LedgerRecord.objects.filter(skill=skill).order_by("seq"))
    prev = records[seq - 2].hash if seq > 1 else ledger.GENESIS_HASH
    with behind_the_portal() as cur:
        for rec in records[seq - 1 :]:
            if rec.seq == seq:
                for name, value in changes.items():
                    setattr(rec, name, value)
            rec.prev_hash = prev
            rec.hash = forge(ledger.canonical_bytes(**_content(rec)))
            cur.execute(
                "UPDATE scoring_ledgerrecord SET new_value = %s, reason = %s, prev_hash = %s,"
                " hash = %s WHERE id = %s",
                [rec.new_value, rec.reason, rec.prev_hash, rec.hash, rec.pk],
            )
            prev = rec.hash
        cur.execute(
            "UPDATE scoring_skillmarking SET ledger_head = %s WHERE skill_id = %s",
            [prev, skill.pk],
        )


# -- every break, every skill ---------------------------------------------------------------


def test_every_break_in_every_skill_is_reported():
    a, b = scheme_skill(), scheme_skill()
    _fill(a)
    _sign_off(b)
    a_marks = list(Mark.objects.filter(skill=a.skill).order_by("pk"))
    b_mark = Mark.objects.filter(skill=b.skill, aspect=b.j_aspects[0]).order_by("pk").first()
    b_result = EntryResult.objects.filter(skill=b.skill).order_by("pk").first()
    with behind_the_portal() as cur:
        # a: two marks edited, a record deleted in the middle
        cur.execute("UPDATE scoring_mark SET value = 33 WHERE id = %s", [a_marks[0].pk])
        cur.execute("UPDATE scoring_mark SET value = 22 WHERE id = %s", [a_marks[1].pk])
        cur.execute(
            "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s AND seq = 4", [a.skill.pk]
        )
        cur.execute(
            "UPDATE scoring_skillmarking SET ledger_length = 3 WHERE skill_id = %s", [a.skill.pk]
        )
        # b (signed off): a judgement score, a ledger reason, a stored result, the status
        cur.execute("UPDATE scoring_mark SET value = 3 WHERE id = %s", [b_mark.pk])
        cur.execute(
            "UPDATE scoring_ledgerrecord SET reason = 'x' WHERE skill_id = %s AND seq = 5",
            [b.skill.pk],
        )
        cur.execute("UPDATE scoring_entryresult SET rank = 9 WHERE id = %s", [b_result.pk])
    report = ledger.verify_ledger()
    by_skill = {
        code: [str(x) for x in report.breaks if x.skill_code == code]
        for code in (a.skill.code, b.skill.code)
    }
    a_found, b_found = by_skill[a.skill.code], by_skill[b.skill.code]
    assert any("33.00" in x for x in a_found) and any("22.00" in x for x in a_found)
    assert any("head hash" in x for x in a_found)  # the end of the chain is gone
    assert any("record 5" in x and "keyed hash" in x for x in b_found)
    assert any(f"judge {b_mark.judge.code}" in x and "table 3.00" in x for x in b_found)
    assert any("stored result rank: stored 9" in x for x in b_found)
    code, out = _verify()
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("broken:")]
    assert len(lines) == len(report.breaks) >= 7


def test_status_changed_behind_the_portal_is_found():
    s = scheme_skill(n_entries=2)
    _sign_off(s)
    SkillMarking.objects.filter(skill=s.skill).update(status="open")
    assert "status" in ledger.verify_ledger().problem


# -- append-only on PostgreSQL --------------------------------------------------------------


@on_postgresql
def test_raw_update_and_delete_of_ledger_rows_are_refused(two_skills):
    a, _b = two_skills
    for sql in (
        "DELETE FROM scoring_ledgerrecord WHERE skill_id = %s",
        "UPDATE scoring_ledgerrecord SET new_value = 9 WHERE skill_id = %s",
        "UPDATE scoring_ledgerrecord SET mark_id = NULL, reason = 'x' WHERE skill_id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, [a.skill.pk])
    assert LedgerRecord.objects.filter(skill=a.skill).count() == 4
    assert ledger.verify_ledger().ok


@on_postgresql
def test_deleting_a_mark_may_null_its_pointer_and_is_then_reported(two_skills):
    a, _b = two_skills
    mark = Mark.objects.filter(skill=a.skill).first()
    mark.delete()  # Django nulls LedgerRecord.mark: the one UPDATE let through
    assert LedgerRecord.objects.filter(skill=a.skill, mark__isnull=True).exists()
    assert "missing from the marks table" in ledger.verify_ledger().problem


def test_purge_removes_whole_chains_only_of_the_skills_named(two_skills):
    a, b = two_skills
    marks = Mark.objects.filter(skill=a.skill).count()
    assert ledger.purge_skills([a.skill.pk]) == 4 + marks
    assert not Mark.objects.filter(skill=a.skill).exists()
    assert not LedgerRecord.objects.filter(skill=a.skill).exists()
    assert LedgerRecord.objects.filter(skill=b.skill).count() == 4
    SkillMarking.objects.filter(skill=a.skill).delete()
    assert ledger.verify_ledger().ok
    if connection.vendor == "postgresql":  # the setting ended with the transaction
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM scoring_ledgerrecord WHERE skill_id = %s", [b.skill.pk])
