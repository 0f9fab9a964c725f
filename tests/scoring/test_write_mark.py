"""write_mark: the one path of a mark."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring import signoff
from scoring.marks import write_mark
from scoring.models import DiscrepancyAcknowledgement, LedgerRecord, Mark, SkillMarking
from scoring.refusals import Locked, NotAllowed, NotRanked, OutOfRange, SchemeIncomplete, StaleMark
from teams.models import Entry, Judge
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    return scheme_skill(m_aspects=["2.50", "67.50"], j_aspects=["20", "10"])


def test_first_write_creates_mark_and_ledger_record(s):
    entry, aspect, judge = s.entries[0], s.m_aspects[0], s.judges[0]
    result = write_mark(
        entry=entry,
        aspect=aspect,
        judge=judge,
        value="1.5",
        actor=judge.user,
        device="iPad 7",
        ip="10.0.0.8",
        client_key="k-1",
    )
    assert result.created and result.changed and not result.replayed
    assert result.version == 1 and result.value == Decimal("1.50")
    mark = Mark.objects.get()
    assert mark.value == Decimal("1.50") and mark.kind == "M" and mark.skill_id == s.skill.pk
    record = LedgerRecord.objects.get()
    assert (record.seq, record.action, record.old_value, record.new_value) == (
        1,
        "write",
        None,
        Decimal("1.50"),
    )
    assert record.actor == judge.user and record.device == "iPad 7"
    assert record.ip_address == "10.0.0.8" and record.source == "tablet"
    marking = SkillMarking.objects.get(skill=s.skill)
    assert marking.ledger_length == 1 and marking.ledger_head == record.hash
    assert record.prev_hash == "0" * 64


def test_change_keeps_old_value_in_ledger_and_bumps_version(s):
    entry, aspect = s.entries[0], s.m_aspects[1]
    write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="60")
    result = write_mark(
        entry=entry, aspect=aspect, judge=s.judges[1], value="61.25", reason="recount"
    )
    assert result.changed and not result.created and result.version == 2
    assert Mark.objects.count() == 1
    mark = Mark.objects.get()
    # An M mark is one per (entry, aspect), attributed to its last writer.
    assert mark.judge == s.judges[1] and mark.value == Decimal("61.25")
    last = LedgerRecord.objects.order_by("seq").last()
    assert (last.seq, last.old_value, last.new_value, last.reason) == (
        2,
        Decimal("60.00"),
        Decimal("61.25"),
        "recount",
    )


def test_judgement_marks_are_one_per_judge(s):
    entry, aspect = s.entries[0], s.j_aspects[0]
    for judge, v in zip(s.judges, ["1", "2", 3], strict=True):
        write_mark(entry=entry, aspect=aspect, judge=judge, value=v)
    assert Mark.objects.filter(entry=entry, aspect=aspect).count() == 3
    assert sorted(Mark.objects.values_list("value", flat=True)) == [1, 2, 3]


def test_same_value_changes_nothing_and_records_nothing(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0])
    write_mark(**args, value="2")
    again = write_mark(**args, value="2.00")
    assert not again.changed and again.version == 1 and again.record is None
    assert LedgerRecord.objects.count() == 1


def test_same_value_with_client_key_records_a_confirmation(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0])
    write_mark(**args, value="2")
    SkillMarking.objects.filter(skill=s.skill).update(results_computed_at="2026-01-01T00:00Z")
    again = write_mark(**args, value="2", client_key="confirm-1")
    assert not again.changed and again.version == 1
    assert again.record.old_value == again.record.new_value == Decimal("2.00")
    # A confirmation does not make results stale.
    assert SkillMarking.objects.get(skill=s.skill).results_computed_at is not None
    # Someone changes the mark; the retry of the confirmation must not write 2 back.
    write_mark(**args, value="1")
    replay = write_mark(**args, value="2", client_key="confirm-1")
    assert replay.replayed and replay.value == Decimal("2.00") and replay.version == 1
    assert Mark.objects.get().value == Decimal("1.00")


def test_write_makes_results_stale(s):
    SkillMarking.objects.create(skill=s.skill, results_computed_at="2026-01-01T00:00Z")
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")
    assert SkillMarking.objects.get(skill=s.skill).results_computed_at is None


# -- idempotency ------------------------------------------------------------------


def test_retry_with_same_client_key_is_replayed(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0])
    first = write_mark(**args, value="1", client_key="tap-42")
    retry = write_mark(**args, value="1", client_key="tap-42")
    assert retry.replayed and not retry.changed and retry.version == first.version == 1
    assert Mark.objects.count() == 1 and LedgerRecord.objects.count() == 1


def test_replay_returns_original_outcome_even_after_a_later_change(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0])
    write_mark(**args, value="1", client_key="a")
    write_mark(**args, value="2", client_key="b")
    write_mark(**args, value="2.5", client_key="c")
    retry = write_mark(**args, value="2", client_key="b")
    assert retry.replayed and retry.value == Decimal("2.00") and retry.version == 2
    assert retry.mark.value == Decimal("2.50")
    assert LedgerRecord.objects.count() == 3


def test_client_key_reused_for_another_mark_is_refused(s):
    write_mark(
        entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1", client_key="x"
    )
    with pytest.raises(NotAllowed) as exc:
        write_mark(
            entry=s.entries[1], aspect=s.m_aspects[0], judge=s.judges[0], value="1", client_key="x"
        )
    assert exc.value.code == "client_key_reused"


def test_replayed_key_answers_only_the_judge_it_was_for(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0])
    write_mark(**args, judge=s.judges[0], value="1", client_key="mine")
    # Another judge of the same skill, same M mark, same key: refused, not "saved".
    with pytest.raises(NotAllowed) as exc:
        write_mark(**args, judge=s.judges[1], value="1", client_key="mine")
    assert exc.value.code == "client_key_reused"
    assert write_mark(**args, judge=s.judges[0], value="1", client_key="mine").replayed


def test_replayed_key_by_a_judge_of_another_skill_is_refused(s):
    write_mark(
        entry=s.entries[0], aspect=s.j_aspects[0], judge=s.judges[0], value="2", client_key="k9"
    )
    outsider = f.judge(scheme_skill().skill)
    with pytest.raises(NotAllowed) as exc:
        write_mark(
            entry=s.entries[0], aspect=s.j_aspects[0], judge=outsider, value="2", client_key="k9"
        )
    assert exc.value.code != "client_key_reused"  # the assignment check answered first
    assert LedgerRecord.objects.filter(client_key="k9").count() == 1


def test_replayed_key_of_a_recused_judge_is_refused(s):
    write_mark(
        entry=s.entries[0], aspect=s.j_aspects[0], judge=s.judges[0], value="2", client_key="r1"
    )
    # The judge turns out to be of the entry's delegation: recused from now on.
    Judge.objects.filter(pk=s.judges[0].pk).update(delegation=s.entries[0].delegation)
    with pytest.raises(NotAllowed):
        write_mark(
            entry=s.entries[0], aspect=s.j_aspects[0], judge=s.judges[0], value="2", client_key="r1"
        )


def test_replay_is_checked_against_the_lock_first(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0])
    write_mark(**args, value="1", client_key="before-lock")
    SkillMarking.objects.filter(skill=s.skill).update(status="signed_off")
    with pytest.raises(Locked):
        write_mark(**args, value="1", client_key="before-lock")


# -- optimistic versions ------------------------------------------------------------


def test_expected_version_zero_refuses_an_existing_mark(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[1], judge=s.judges[0])
    write_mark(**args, value="10", expected_version=0)
    with pytest.raises(StaleMark) as exc:
        write_mark(**args, value="11", expected_version=0)
    assert exc.value.current_version == 1 and exc.value.current_value == Decimal("10.00")
    assert exc.value.code == "stale"
    assert "10.00" in exc.value.message


def test_stale_version_is_refused_with_current_state(s):
    args = dict(entry=s.entries[0], aspect=s.m_aspects[1], judge=s.judges[0])
    write_mark(**args, value="10")
    write_mark(**args, value="12", expected_version=1)
    with pytest.raises(StaleMark) as exc:
        write_mark(**args, value="13", expected_version=1)
    assert (exc.value.current_value, exc.value.current_version) == (Decimal("12.00"), 2)
    assert Mark.objects.get().value == Decimal("12.00")
    assert write_mark(**args, value="13", expected_version=2).version == 3


def test_expected_version_on_missing_mark(s):
    with pytest.raises(StaleMark) as exc:
        write_mark(
            entry=s.entries[0],
            aspect=s.m_aspects[1],
            judge=s.judges[0],
            value="1",
            expected_version=3,
        )
    assert exc.value.current_version == 0 and exc.value.current_value is None


# -- values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("NaN", "not_a_number"),
        (1.5, "not_a_number"),
        ("-0.01", "out_of_range"),
        ("2.51", "out_of_range"),
        ("1.255", "too_many_decimals"),
    ],
)
def test_measurement_values_refused(s, raw, code):
    with pytest.raises(OutOfRange) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value=raw)
    assert exc.value.code == code
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()


def test_out_of_range_message_names_the_maximum(s):
    with pytest.raises(OutOfRange) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="3")
    assert str(exc.value) == "评分超出范围：本评分点满分为 2.50"


def test_out_of_range_message_in_english(s):
    from django.utils import translation

    with translation.override("en"), pytest.raises(OutOfRange) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="3")
    assert str(exc.value) == "Mark out of range: this aspect's maximum is 2.50."


@pytest.mark.parametrize("raw", ["2.50", "0", "1.5", Decimal("2.5"), 2])
def test_measurement_values_accepted(s, raw):
    r = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value=raw)
    assert r.value == Decimal(str(raw)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("raw", ["4", "-1", "1.5", "x"])
def test_judgement_values_refused(s, raw):
    with pytest.raises(OutOfRange):
        write_mark(entry=s.entries[0], aspect=s.j_aspects[0], judge=s.judges[0], value=raw)


def test_judgement_accepts_whole_scores_written_with_decimals(s):
    r = write_mark(entry=s.entries[0], aspect=s.j_aspects[0], judge=s.judges[0], value="2.0")
    assert r.value == Decimal("2.00")


# -- refusals -----------------------------------------------------------------------


def test_absent_entry_is_not_marked(s):
    entry = s.entries[0]
    Entry.objects.filter(pk=entry.pk).update(status=Entry.Status.ABSENT)
    with pytest.raises(NotRanked):
        write_mark(entry=entry, aspect=s.m_aspects[0], judge=s.judges[0], value="1")


def test_incomplete_scheme_refuses_marks(s):
    s.m_aspects[0].max_mark = Decimal("3.50")
    s.m_aspects[0].save()
    with pytest.raises(SchemeIncomplete) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")
    assert "101.00" in str(exc.value)


def test_recusal_refused(s):
    entry = s.entries[0]
    judge = f.judge(s.skill, delegation=entry.delegation)
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=entry, aspect=s.m_aspects[0], judge=judge, value="1")
    assert exc.value.code == "own_delegation"
    assert "回避" in str(exc.value)
    assert not Mark.objects.exists()


def test_unassigned_judge_refused(s):
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=f.judge(), value="1")
    assert exc.value.code == "not_assigned"


def test_aspect_of_other_skill_refused(s):
    other = scheme_skill()
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=s.entries[0], aspect=other.m_aspects[0], judge=s.judges[0], value="1")
    assert exc.value.code == "wrong_skill"


def test_chief_may_enter_measurement_not_judgement(s):
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.chief, value="1")
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=s.entries[0], aspect=s.j_aspects[0], judge=s.chief, value="1")
    assert exc.value.code == "chief_judgement"


def test_signed_off_skill_refuses_writes(s):
    SkillMarking.objects.create(skill=s.skill, status=SkillMarking.Status.SIGNED_OFF)
    with pytest.raises(Locked):
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")


def test_changed_judgement_score_removes_acknowledgement(s):
    entry, aspect = s.entries[0], s.j_aspects[0]
    write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="0")
    write_mark(entry=entry, aspect=aspect, judge=s.judges[1], value="3")
    signoff.acknowledge_discrepancy(entry, aspect, s.chief.user, "seen")
    assert DiscrepancyAcknowledgement.objects.count() == 1
    write_mark(entry=entry, aspect=aspect, judge=s.judges[1], value="2")
    assert not DiscrepancyAcknowledgement.objects.exists()
