"""Selection rounds: qualifiers of a signed-off skill advance into the same
skill of the next event, with new numbers; listed, logged and reversible
until that event starts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from competitions.models import AdvancedEntry, Advancement, Event
from results import advancement
from results.advancement import AdvancementRefused
from scoring.models import SkillMarking
from teams.models import Entry, EntryMember
from tests import factories as f
from tests.appeals.builders import result, sign_off

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 1)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Rounds:
    """Round 1 (done) → a training round → round 2 (registration) → final,
    each with skill S01; round 1's entries rank 1, 2, 2, 4, 5 and one absent."""

    def __init__(self, team_size: int = 1) -> None:
        self.programme = f.programme()

        def ev(kind, status, day, code):
            return f.event(
                programme=self.programme,
                kind=kind,
                status=status,
                starts_on=day,
                ends_on=day,
                code=f"{code}-{self.programme.pk}",
            )

        K, S = Event.Kind, Event.Status
        self.round1 = ev(K.SELECTION, S.CLOSED, dt.date(2026, 4, 1), "r1")
        self.training = ev(K.TRAINING, S.REGISTRATION, dt.date(2026, 5, 10), "tr")
        self.round2 = ev(K.SELECTION, S.REGISTRATION, dt.date(2026, 6, 1), "r2")
        self.final = ev(K.FINAL, S.DRAFT, dt.date(2026, 9, 1), "final")
        self.source = f.skill(event=self.round1, code="S01", team_size=team_size)
        f.skill(event=self.training, code="S01", team_size=team_size)
        self.target = f.skill(event=self.round2, code="S01", team_size=team_size)
        f.skill(event=self.final, code="S01", team_size=team_size)
        self.entries = []
        for score, rank in [("95", 1), ("90", 2), ("90", 2), ("85.5", 4), ("70", 5)]:
            entry = f.entry(self.source)
            result(entry, score, rank)
            self.entries.append(entry)
        absent = f.entry(self.source, status=Entry.Status.ABSENT)
        result(absent, "0", None)
        sign_off(self.source)
        self.organiser = f.organiser()


@pytest.fixture
def r():
    return Rounds()


def test_next_event_skips_training_rounds(r):
    assert advancement.next_event(r.round1) == r.round2
    assert advancement.next_event(r.round2) == r.final
    assert advancement.next_event(r.final) is None
    assert advancement.target_skill(r.source) == r.target


def test_top_n_includes_everyone_tied_with_the_nth(r):
    got = advancement.qualifiers(r.source, top_n=2)
    assert [q.entry for q in got] == r.entries[:3]
    assert [q.rank for q in got] == [1, 2, 2]
    assert [q.entry for q in advancement.qualifiers(r.source, top_n=3)] == r.entries[:3]
    assert [q.entry for q in advancement.qualifiers(r.source, top_n=4)] == r.entries[:4]
    assert len(advancement.qualifiers(r.source, top_n=100)) == 5  # the absent entry never


def test_min_score_is_inclusive(r):
    got = advancement.qualifiers(r.source, min_score=Decimal("85.50"))
    assert [q.entry for q in got] == r.entries[:4]
    assert advancement.qualifiers(r.source, min_score=Decimal("95.01")) == []


def test_the_rule_needs_exactly_one_value(r):
    with pytest.raises(AdvancementRefused):
        advancement.plan(r.source)
    with pytest.raises(AdvancementRefused):
        advancement.plan(r.source, top_n=2, min_score=Decimal(80))
    with pytest.raises(AdvancementRefused):
        advancement.plan(r.source, top_n=0)


def test_advance_creates_new_entries_with_new_numbers(r):
    done = advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    assert (done.source_skill, done.target_skill, done.rule, done.top_n, done.by) == (
        r.source,
        r.target,
        Advancement.Rule.TOP_N,
        2,
        r.organiser,
    )
    rows = list(done.entries.select_related("created_entry", "source_entry"))
    assert [row.source_entry for row in rows] == r.entries[:3]
    for row in rows:
        new, old = row.created_entry, row.source_entry
        assert new.skill == r.target
        assert new.delegation_id == old.delegation_id == row.delegation_id
        assert [m.athlete_id for m in new.members.all()] == [
            m.athlete_id for m in old.members.all()
        ]
        assert new.competitor_no != old.competitor_no
        assert row.competitor_no == new.competitor_no
        assert row.source_competitor_no == old.competitor_no
        assert 1000 <= int(new.competitor_no) <= 9999
        assert row.names == old.names()
    numbers = [row.competitor_no for row in rows]
    assert len(set(numbers)) == len(numbers)
    assert Entry.objects.filter(skill=r.target).count() == 3
    # The source round keeps its entries untouched.
    assert Entry.objects.filter(skill=r.source).count() == 6


def test_team_entries_keep_all_their_members():
    r = Rounds(team_size=2)
    done = advancement.advance(r.source, r.organiser, min_score=Decimal(90), today=TODAY)
    for row in done.entries.all():
        assert row.created_entry.members.count() == 2


def test_refused_before_sign_off(r):
    SkillMarking.objects.filter(skill=r.source).update(status=SkillMarking.Status.OPEN)
    with pytest.raises(AdvancementRefused) as exc:
        advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    assert str(r.source) in exc.value.message
    assert not Advancement.objects.exists()


@pytest.mark.parametrize("who", ["lead", "chief", "plain"])
def test_only_organisers_advance(r, who):
    user = {
        "lead": lambda: f.lead(),
        "chief": lambda: f.judge(r.source, role="chief").user,
        "plain": lambda: f.user(),
    }[who]()
    with pytest.raises(PermissionDenied):
        advancement.advance(r.source, user, top_n=2, today=TODAY)


@pytest.mark.parametrize(
    "change",
    [
        {"status": Event.Status.COMPETITION},
        {"status": Event.Status.CLOSED},
        {"starts_on": TODAY},
    ],
)
def test_refused_once_the_next_event_has_started(r, change):
    Event.objects.filter(pk=r.round2.pk).update(**change)
    with pytest.raises(AdvancementRefused) as exc:
        advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    assert r.round2.name in exc.value.message
    assert not Entry.objects.filter(skill=r.target).exists()


def test_refused_when_a_qualifier_is_already_in_the_next_event(r):
    athlete = r.entries[1].members.get().athlete
    other = f.skill(event=r.round2)
    f.entry(other, athletes=[athlete])
    plan = advancement.plan(r.source, top_n=2, today=TODAY)
    assert not plan.can_confirm
    assert plan.qualifiers[1].already_entered == (athlete.name,)
    with pytest.raises(AdvancementRefused) as exc:
        advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    assert athlete.name in exc.value.message
    # All or nothing.
    assert not Entry.objects.filter(skill=r.target).exists()
    assert not Advancement.objects.exists()


def test_advancing_twice_is_refused(r):
    advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    with pytest.raises(AdvancementRefused):
        advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    assert Entry.objects.filter(skill=r.target).count() == 1


def test_refused_without_a_next_skill_or_with_another_team_size(r):
    lone = f.skill(event=r.final, code="S99")
    sign_off(lone)
    plan = advancement.plan(lone, top_n=1, today=TODAY)
    assert plan.target is None and plan.problems

    r.target.team_size = 2
    r.target.save()
    with pytest.raises(AdvancementRefused) as exc:
        advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    assert exc.value.code == "blocked"


def test_new_numbers_avoid_those_taken_in_the_target(r, monkeypatch):
    taken = f.entry(r.target, competitor_no="5000")
    # The qualifier's old number is a possible draw too, and must be refused.
    Entry.objects.filter(pk=r.entries[0].pk).update(competitor_no="6000")
    draws = iter(["5000", "6000", "5001"])
    monkeypatch.setattr(advancement.secrets, "randbelow", lambda n: int(next(draws)) - 1000)
    done = advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    assert done.entries.get().competitor_no == "5001"
    assert taken.competitor_no == "5000"


# ---------------------------------------------------------------- undo


def test_undo_deletes_the_created_entries_and_keeps_the_record(r):
    done = advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    created = list(done.entries.values_list("created_entry", flat=True))
    advancement.undo(done, r.organiser, today=TODAY)
    done.refresh_from_db()
    assert done.is_undone and done.undone_by == r.organiser
    assert not Entry.objects.filter(pk__in=created).exists()
    assert not EntryMember.objects.filter(event=r.round2).exists()
    # The record stays: numbers and names, without the deleted entries.
    assert AdvancedEntry.objects.filter(advancement=done, created_entry__isnull=True).count() == 3
    # After an undo the qualifiers can be advanced again.
    advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)


def test_undo_twice_is_refused(r):
    done = advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    advancement.undo(done, r.organiser, today=TODAY)
    with pytest.raises(AdvancementRefused):
        advancement.undo(done, r.organiser, today=TODAY)


def test_undo_refused_once_the_next_event_has_started(r):
    done = advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    with pytest.raises(AdvancementRefused) as exc:
        advancement.undo(done, r.organiser, today=r.round2.starts_on)
    assert r.round2.name in exc.value.message
    Event.objects.filter(pk=r.round2.pk).update(status=Event.Status.COMPETITION)
    with pytest.raises(AdvancementRefused):
        advancement.undo(done, r.organiser, today=TODAY)
    assert Entry.objects.filter(skill=r.target).count() == 1


def test_undo_copes_with_a_lead_withdrawing_one_entry(r):
    done = advancement.advance(r.source, r.organiser, top_n=2, today=TODAY)
    done.entries.first().created_entry.delete()
    advancement.undo(done, r.organiser, today=TODAY)
    assert not Entry.objects.filter(skill=r.target).exists()


def test_undo_only_by_organisers(r):
    done = advancement.advance(r.source, r.organiser, top_n=1, today=TODAY)
    with pytest.raises(PermissionDenied):
        advancement.undo(done, f.lead(), today=TODAY)


def test_default_today_is_the_local_date(r):
    # The real clock: move round 2 to tomorrow (and the final after it).
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    later = today + dt.timedelta(days=100)
    Event.objects.filter(pk=r.final.pk).update(starts_on=later, ends_on=later)
    Event.objects.filter(pk=r.round2.pk).update(starts_on=tomorrow, ends_on=tomorrow)
    done = advancement.advance(r.source, r.organiser, top_n=1)
    assert advancement.undo_problem(done) is None
    Event.objects.filter(pk=r.round2.pk).update(starts_on=today, ends_on=today)
    done.refresh_from_db()
    assert advancement.undo_problem(done)
