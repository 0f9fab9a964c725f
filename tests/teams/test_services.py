"""The rules of teams.services: athletes' ID numbers, entries' quota,
deadline, once-per-event and competitor numbers, withdrawal, and what judges see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from competitions.models import Event
from scoring.models import SkillMarking
from teams import idnumbers, services
from teams.models import Athlete, Entry, EntryMember, Quota
from tests import factories as f

BORN = dt.date(1999, 3, 8)


def valid_id(gender: str = "F", born: dt.date = BORN, seq: int = 7) -> str:
    return idnumbers.make_id_number("320582", born, seq, gender)


def codes(exc: ValidationError, field: str) -> set[str | None]:
    return {e.code for e in exc.error_dict[field]}


# ---------------------------------------------------------------- athletes


def test_add_athlete_fills_birth_date_and_gender_from_the_id_number(world):
    number = valid_id("F")
    a = services.add_athlete(world.del_a, name=" 王芳 ", id_number=number.lower())
    a.refresh_from_db()
    assert (a.name, a.id_number, a.birth_date, a.gender) == ("王芳", number, BORN, "F")
    assert a.delegation == world.del_a


def test_add_athlete_without_id_number_is_allowed(world):
    a = services.add_athlete(world.del_a, name="刘洋", id_number="  ")
    assert a.id_number is None


def test_add_athlete_refuses_a_bad_checksum(world):
    number = valid_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(world.del_a, name="王芳", id_number=wrong)
    assert codes(caught.value, "id_number") == {"id_checksum"}
    assert not Athlete.objects.filter(name="王芳").exists()


def test_add_athlete_refuses_a_malformed_number(world):
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(world.del_a, name="王芳", id_number="12345")
    assert codes(caught.value, "id_number") == {"id_shape"}


def test_add_athlete_refuses_a_birth_date_mismatch(world):
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(
            world.del_a, name="王芳", id_number=valid_id("F"), birth_date=dt.date(1999, 3, 9)
        )
    assert codes(caught.value, "birth_date") == {"id_birth_mismatch"}


def test_add_athlete_refuses_a_gender_mismatch(world):
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(world.del_a, name="王芳", id_number=valid_id("F"), gender="M")
    assert codes(caught.value, "gender") == {"id_gender_mismatch"}


def test_add_athlete_refuses_an_id_number_already_registered_anywhere(world):
    number = valid_id()
    services.add_athlete(world.del_b, name="王芳", id_number=number)
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(world.del_a, name="王芳芳", id_number=number)
    assert codes(caught.value, "id_number") == {"id_duplicate"}
    # The message does not say which delegation holds the number.
    assert world.del_b.name not in " ".join(caught.value.messages)


def test_add_athlete_requires_a_name(world):
    with pytest.raises(ValidationError) as caught:
        services.add_athlete(world.del_a, name="  ")
    assert "name" in caught.value.error_dict


def test_update_athlete_keeps_its_own_id_number_and_refuses_bad_changes(world):
    number = valid_id("M", seq=3)
    a = services.add_athlete(world.del_a, name="赵磊", id_number=number)
    services.update_athlete(a, name="赵磊", id_number=number, employer="苏州建工", gender="M")
    a.refresh_from_db()
    assert a.employer == "苏州建工"

    with pytest.raises(ValidationError) as caught:
        services.update_athlete(a, name="赵磊", id_number=number, birth_date=dt.date(2000, 1, 1))
    assert "birth_date" in caught.value.error_dict
    # A refused change leaves the object as it was.
    assert a.birth_date == BORN


# ---------------------------------------------------------------- entries


def test_register_entry_assigns_a_random_competitor_number(world):
    athlete = f.athlete(delegation=world.del_a)
    entry = services.register_entry(world.del_a, world.skill, [athlete])
    assert entry.delegation == world.del_a
    assert list(entry.athletes.all()) == [athlete]
    no = int(entry.competitor_no)
    assert services.COMPETITOR_NO_MIN <= no <= services.COMPETITOR_NO_MAX
    # The number does not carry the delegation's code or id.
    assert world.del_a.code not in entry.competitor_no


def test_competitor_numbers_are_unique_in_the_skill_and_retried_on_collision(world, monkeypatch):
    first = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    draws = iter([first.competitor_no, first.competitor_no, "4242"])
    monkeypatch.setattr(services, "_new_competitor_no", lambda: next(draws))
    second = services.register_entry(world.del_b, world.skill, [f.athlete(delegation=world.del_b)])
    assert second.competitor_no == "4242"


def test_register_team_entry_needs_exactly_team_size_athletes(world):
    a1, a2, a3 = (f.athlete(delegation=world.del_a) for _ in range(3))
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.team_skill, [a1])
    assert caught.value.code == "wrong_team_size"
    with pytest.raises(ValidationError):
        services.register_entry(world.del_a, world.team_skill, [a1, a2, a3])
    # The same athlete twice is one athlete.
    with pytest.raises(ValidationError):
        services.register_entry(world.del_a, world.team_skill, [a1, a1])
    entry = services.register_entry(world.del_a, world.team_skill, [a1, a2])
    assert set(entry.athletes.all()) == {a1, a2}


def test_register_entry_refuses_another_delegations_athlete(world):
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_b)])
    assert caught.value.code == "foreign_athlete"
    assert not Entry.objects.exists()


def test_register_entry_refuses_when_the_quota_is_full(world):
    Quota.objects.filter(skill=world.skill, delegation=world.del_a).update(max_entries=1)
    services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    extra = f.athlete(delegation=world.del_a)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.skill, [extra])
    assert caught.value.code == "quota_full"
    assert "quota for W01 砌筑 is full (1 of 1 places used)" in caught.value.messages[0]
    # Chinese by default.
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.skill, [extra])
    assert "名额已满" in caught.value.messages[0]
    assert Entry.objects.filter(delegation=world.del_a).count() == 1


def test_register_entry_without_a_quota_row_says_there_are_no_places(world):
    other = f.skill(event=world.event, code="W09", name="电池制造工")
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, other, [f.athlete(delegation=world.del_a)])
    assert caught.value.code == "no_quota"
    assert "没有名额" in caught.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, other, [f.athlete(delegation=world.del_a)])
    assert "no places in W09 电池制造工" in caught.value.messages[0]


def test_register_entry_refuses_after_the_deadline(world):
    athlete = f.athlete(delegation=world.del_a)
    later = world.event.registration_deadline + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.skill, [athlete], now=later)
    assert caught.value.code == "registration_closed"
    # Right at the deadline is still in time.
    services.register_entry(
        world.del_a, world.skill, [athlete], now=world.event.registration_deadline
    )


def test_register_entry_refuses_once_the_event_is_under_way(world):
    Event.objects.filter(pk=world.event.pk).update(status=Event.Status.COMPETITION)
    world.skill.event.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    assert caught.value.code == "registration_closed"


def test_same_athlete_cannot_be_entered_twice_in_one_event(world):
    athlete = f.athlete(delegation=world.del_a, name="孙丽")
    partner = f.athlete(delegation=world.del_a)
    services.register_entry(world.del_a, world.skill, [athlete])
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.team_skill, [athlete, partner])
    assert caught.value.code == "already_entered"
    assert "孙丽" in caught.value.messages[0]
    # Another event is another matter.
    other_event = f.event(status=Event.Status.REGISTRATION)
    other_skill = f.skill(event=other_event)
    f.quota(other_skill, world.del_a)
    services.register_entry(world.del_a, other_skill, [athlete])


def test_the_database_constraint_backs_up_the_once_per_event_check(world, monkeypatch):
    """If the check misses (a concurrent registration), the constraint's
    IntegrityError becomes the same clear message and nothing is kept."""
    athlete = f.athlete(delegation=world.del_a)
    partner = f.athlete(delegation=world.del_a)
    services.register_entry(world.del_a, world.skill, [athlete])
    real_filter = EntryMember.objects.filter
    monkeypatch.setattr(EntryMember.objects, "filter", lambda *a, **k: real_filter(*a, **k).none())
    with pytest.raises(ValidationError) as caught:
        services.register_entry(world.del_a, world.team_skill, [athlete, partner])
    assert caught.value.code == "already_entered"
    assert not Entry.objects.filter(skill=world.team_skill).exists()


def test_registration_problem_matches_the_rules(world):
    assert services.registration_problem(world.del_a, world.skill) is None
    other = f.skill(event=world.event)
    assert services.registration_problem(world.del_a, other).code == "no_quota"
    later = world.event.registration_deadline + dt.timedelta(minutes=1)
    problem = services.registration_problem(world.del_a, world.skill, now=later)
    assert problem.code == "registration_closed"


def test_withdraw_own_entry_before_the_deadline_frees_the_place(world):
    athlete = f.athlete(delegation=world.del_a)
    entry = services.register_entry(world.del_a, world.skill, [athlete])
    services.withdraw_entry(world.del_a, entry)
    assert not Entry.objects.filter(pk=entry.pk).exists()
    # The athlete may be entered again.
    services.register_entry(world.del_a, world.skill, [athlete])


def test_withdraw_after_the_deadline_is_refused(world):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    later = world.event.registration_deadline + dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as caught:
        services.withdraw_entry(world.del_a, entry, now=later)
    assert caught.value.code == "registration_closed"
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_withdraw_another_delegations_entry_is_refused(world):
    entry = services.register_entry(world.del_b, world.skill, [f.athlete(delegation=world.del_b)])
    with pytest.raises(PermissionDenied):
        services.withdraw_entry(world.del_a, entry)
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_delegation_places_groups_quotas_and_entries_by_event(world):
    services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    (ev,) = services.delegation_places(world.del_a)
    assert ev.event == world.event and ev.is_open
    rows = {row.skill.code: row for row in ev.skills}
    assert (rows["W01"].used, rows["W01"].available, rows["W01"].can_register) == (1, 1, True)
    assert (rows["W02"].used, rows["W02"].available) == (0, 2)


def test_eligible_athletes_leaves_out_those_already_entered_in_the_event(world):
    entered = f.athlete(delegation=world.del_a)
    free = f.athlete(delegation=world.del_a)
    f.athlete(delegation=world.del_b)
    services.register_entry(world.del_a, world.skill, [entered])
    assert list(services.eligible_athletes(world.del_a, world.team_skill)) == [free]


# ---------------------------------------------------------------- judges


def test_names_are_revealed_only_after_sign_off(world):
    assert services.names_revealed(world.skill) is False
    SkillMarking.objects.create(skill=world.skill, status=SkillMarking.Status.SIGNED_OFF)
    assert services.names_revealed(world.skill) is True


def test_judge_entries_leave_out_the_judges_own_delegation(world):
    own = f.entry(world.skill, delegation=world.del_b, competitor_no="1111")
    other = f.entry(world.skill, delegation=world.del_a, competitor_no="2222")
    assert services.judge_entries(world.skill, world.judge) == [other]
    assert set(services.judge_entries(world.skill, world.chief)) == {own, other}


def test_judge_panel_lists_the_chief_first(world):
    extra = f.judge(world.skill, code="A0001")
    panel = services.judge_panel(world.skill)
    assert panel[0].judge == world.chief
    assert {a.judge for a in panel} == {world.chief, world.judge, extra}


def test_registration_deadline_comes_from_the_event(world):
    # registration_open() is the model's rule; the service only asks it.
    assert world.event.registration_open(timezone.now())
