"""Database rules of the roster models: these hold whatever path writes."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams import idnumbers
from teams.models import Athlete, EntryMember, JudgeAssignment
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_competitor_number_is_unique_within_a_skill_only():
    skill = f.skill()
    f.entry(skill, competitor_no="007")
    f.entry(f.skill(event=skill.event), competitor_no="007")  # another skill: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        f.entry(skill, competitor_no="007")


def test_skill_code_is_unique_within_an_event():
    skill = f.skill(code="A01")
    f.skill(code="A01")  # another event
    with pytest.raises(IntegrityError), transaction.atomic():
        f.skill(event=skill.event, code="A01")


def test_same_athlete_cannot_be_entered_twice_in_one_event():
    skill = f.skill()
    athlete = f.athlete()
    f.entry(skill, athletes=[athlete])
    other_skill = f.skill(event=skill.event)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.entry(other_skill, athletes=[athlete])


def test_same_athlete_may_enter_another_event():
    athlete = f.athlete()
    f.entry(f.skill(), athletes=[athlete])
    f.entry(f.skill(), athletes=[athlete])
    assert athlete.entries.count() == 2


def test_entry_member_takes_the_event_from_the_skill():
    e = f.entry(f.skill())
    member = EntryMember.objects.get(entry=e)
    assert member.event_id == e.skill.event_id


def test_one_chief_judge_per_skill():
    skill = f.skill()
    f.judge(skill, role="chief")
    f.judge(skill, role="judge")
    with pytest.raises(IntegrityError), transaction.atomic():
        f.judge(skill, role="chief")


def test_judge_assigned_once_per_skill():
    skill = f.skill()
    judge = f.judge(skill)
    with pytest.raises(IntegrityError), transaction.atomic():
        JudgeAssignment.objects.create(judge=judge, skill=skill)


def test_team_size_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.skill(team_size=0)


def test_event_cannot_end_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.event(starts_on=dt.date(2026, 5, 2), ends_on=dt.date(2026, 5, 1))


def test_id_number_unique_and_stored_upper_case():
    born = dt.date(2000, 1, 2)
    number = idnumbers.make_id_number("320102", born, 3, "M")
    if not number.endswith("X"):
        # find one ending in X to check normalisation
        for seq in range(100):
            number = idnumbers.make_id_number("320102", born, seq, "M")
            if number.endswith("X"):
                break
    a = f.athlete(id_number=number.lower(), birth_date=born, gender="M")
    a.refresh_from_db()
    assert a.id_number == number
    with pytest.raises(IntegrityError), transaction.atomic():
        f.athlete(id_number=number)


def test_empty_id_numbers_do_not_collide():
    f.athlete(id_number="")
    f.athlete(id_number=None)
    assert Athlete.objects.filter(id_number__isnull=True).count() == 2


def test_full_clean_checks_id_against_birth_date_and_gender():
    born = dt.date(1999, 9, 9)
    number = idnumbers.make_id_number("320102", born, 5, "F")
    a = Athlete(
        delegation=f.delegation(), name="王芳", gender="M", birth_date=born, id_number=number
    )
    with pytest.raises(ValidationError) as exc:
        a.full_clean()
    assert "gender" in exc.value.message_dict
    a.gender = "F"
    a.full_clean()


def test_entry_member_from_another_delegation_is_refused_by_clean():
    e = f.entry(f.skill())
    stranger = f.athlete()
    member = EntryMember(entry=e, athlete=stranger)
    with pytest.raises(ValidationError):
        member.full_clean()
