"""Sign-off, reopening, acknowledging discrepancies, 解密."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from scoring import ledger, signoff
from scoring.marks import write_mark
from scoring.models import DiscrepancyAcknowledgement, LedgerRecord, SkillMarking
from scoring.refusals import Incomplete, Locked, MarkRefused, NotAllowed
from scoring.status import marking_status
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


def _mark_all(s, j_score=lambda e, a, j: "2"):
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="10")
        for aspect in s.j_aspects:
            for judge in s.judges:
                write_mark(
                    entry=entry, aspect=aspect, judge=judge, value=j_score(entry, aspect, judge)
                )


@pytest.fixture
def s():
    return scheme_skill(n_entries=2, n_judges=3)


def test_sign_off_locks_and_reveals(s):
    _mark_all(s)
    assert not signoff.names_revealed(s.skill)
    record = signoff.sign_off(s.skill, s.chief.user)
    assert record.action == LedgerRecord.Action.SIGN_OFF and record.actor == s.chief.user
    marking = SkillMarking.objects.get(skill=s.skill)
    assert marking.is_signed_off and marking.signed_off_by == s.chief.user
    assert signoff.names_revealed(s.skill)
    with pytest.raises(Locked):
        write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="9")
    with pytest.raises(Locked):
        signoff.sign_off(s.skill, s.chief.user)


def test_sign_off_refused_while_incomplete(s):
    _mark_all(s)
    entry = f.entry(s.skill)  # a late entry without marks
    with pytest.raises(Incomplete) as exc:
        signoff.sign_off(s.skill, s.chief.user)
    assert [e.entry_id for e in exc.value.status.incomplete] == [entry.pk]
    assert "1" in exc.value.message
    assert not SkillMarking.objects.get(skill=s.skill).is_signed_off


def test_missing_judge_score_is_reported_by_judge_code(s):
    _mark_all(s)
    late_judge = f.judge(s.skill)
    status = marking_status(s.skill)
    assert len(status.incomplete) == 2
    assert f"J1/{late_judge.code}" in status.incomplete[0].missing


def test_sign_off_refused_with_unacknowledged_discrepancy(s):
    flagged = (s.entries[0], s.j_aspects[0])

    def score(e, a, j):
        if (e, a) == flagged:
            return "0" if j == s.judges[0] else "3"
        return "2"

    _mark_all(s, score)
    status = marking_status(s.skill)
    assert [(d.entry_id, d.aspect_id) for d in status.discrepancies] == [
        (flagged[0].pk, flagged[1].pk)
    ]
    d = status.discrepancies[0]
    assert [code for code, _v in d.scores] == sorted(j.code for j in s.judges)
    assert d.spread == 3 and not d.acknowledged
    with pytest.raises(Incomplete):
        signoff.sign_off(s.skill, s.chief.user)

    record = signoff.acknowledge_discrepancy(*flagged, s.chief.user, "评分标准理解不同，已沟通")
    assert record.action == LedgerRecord.Action.ACKNOWLEDGE and record.reason.startswith("评分")
    assert marking_status(s.skill).discrepancies[0].acknowledged
    signoff.sign_off(s.skill, s.chief.user)
    assert ledger.verify_ledger().ok


def test_acknowledge_needs_a_discrepancy(s):
    _mark_all(s)
    with pytest.raises(NotAllowed):
        signoff.acknowledge_discrepancy(s.entries[0], s.j_aspects[0], s.chief.user)
    with pytest.raises(NotAllowed):
        signoff.acknowledge_discrepancy(s.entries[0], s.m_aspects[0], s.chief.user)
    assert not DiscrepancyAcknowledgement.objects.exists()


def test_reopen_needs_a_reason_and_is_in_the_ledger(s):
    _mark_all(s)
    signoff.sign_off(s.skill, s.chief.user)
    with pytest.raises(MarkRefused) as exc:
        signoff.reopen(s.skill, s.chief.user, "   ")
    assert exc.value.code == "reason_required"
    record = signoff.reopen(s.skill, s.chief.user, "申诉复核：M1 重新测量")
    assert record.action == LedgerRecord.Action.REOPEN and record.reason == "申诉复核：M1 重新测量"
    assert not signoff.names_revealed(s.skill)
    write_mark(
        entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="9", reason="复测"
    )
    actions = list(
        LedgerRecord.objects.filter(skill=s.skill)
        .order_by("-seq")
        .values_list("action", flat=True)[:3]
    )
    assert actions == ["write", "reopen", "sign_off"]
    assert ledger.verify_ledger().ok


def test_reopen_refused_when_open(s):
    with pytest.raises(MarkRefused):
        signoff.reopen(s.skill, s.chief.user, "why")


def test_only_chief_or_organiser(s):
    _mark_all(s)
    for user in (s.judges[0].user, f.user(), scheme_skill().chief.user):
        with pytest.raises(PermissionDenied):
            signoff.sign_off(s.skill, user)
        with pytest.raises(PermissionDenied):
            signoff.reopen(s.skill, user, "x")
        with pytest.raises(PermissionDenied):
            signoff.acknowledge_discrepancy(s.entries[0], s.j_aspects[0], user)
    signoff.sign_off(s.skill, f.organiser())
    signoff.reopen(s.skill, f.organiser(), "organiser reopens")


def test_sign_off_refused_without_entries():
    s = scheme_skill(n_entries=0)
    with pytest.raises(Incomplete):
        signoff.sign_off(s.skill, s.chief.user)


def test_reopening_a_published_skill_withdraws_its_results(s):
    from competitions import publication
    from results import publishing

    _mark_all(s)
    signoff.sign_off(s.skill, s.chief.user)
    organiser = f.organiser()
    publishing.publish(s.skill, organiser)
    assert publication.is_published(s.skill)
    signoff.reopen(s.skill, s.chief.user, "申诉：重新核分")
    assert not publication.is_published(s.skill)
    # the public and leads no longer see the results; the organiser still does
    assert not publication.results_visible_to(f.lead(), s.skill)
    assert publication.results_visible_to(organiser, s.skill)


def test_sign_off_computes_awards_and_the_medal_table(s, django_capture_on_commit_callbacks):
    from awards import medals
    from awards.models import Award

    _mark_all(s, j_score=lambda e, a, j: "3" if e == s.entries[0] else "1")
    with django_capture_on_commit_callbacks(execute=True):
        signoff.sign_off(s.skill, s.chief.user)
    awards = {a.entry_id: a.kind for a in Award.objects.filter(entry__skill=s.skill)}
    # Ratio policy, N = 2: 一等奖 r <= h(0.2) = 0, 二等奖 r <= h(0.6) = 1, 三等奖 r <= h(1.2) = 1.
    assert awards == {s.entries[0].pk: "second"}
    # The medal table counts the signed-off skill (a second prize is no medal).
    table = medals.event_medal_table(s.skill.event, include_unpublished=True)
    assert table.published == 1 and table.lines == []
