"""Adding and editing athletes: the form and the service's ID rules, and
another delegation's athlete is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from teams import idnumbers, services
from teams.forms import AthleteForm
from teams.models import Athlete
from tests import factories as f

ADD = reverse("teams:athlete_add")
BORN = dt.date(2000, 2, 29)


def valid_id(gender: str = "M", seq: int = 5) -> str:
    return idnumbers.make_id_number("320111", BORN, seq, gender)


def bad_checksum(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


def post(client, user, url, **data):
    client.force_login(user)
    return client.post(url, {"name": "黄河", **data})


# ---- the form on its own


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id_number": bad_checksum(valid_id())}, "id_number"),
        ({"id_number": "3201112000"}, "id_number"),
        ({"id_number": valid_id(), "birth_date": "2000-03-01"}, "birth_date"),
        ({"id_number": valid_id("M"), "gender": "F"}, "gender"),
    ],
    ids=["checksum", "shape", "birth-date-mismatch", "gender-mismatch"],
)
def test_form_refuses_bad_id_numbers(db, data, field):
    form = AthleteForm({"name": "黄河", **data})
    assert not form.is_valid()
    assert field in form.errors


def test_form_accepts_a_good_id_number_in_lower_case(db):
    number = idnumbers.make_id_number("320111", BORN, 9, "M")
    form = AthleteForm({"name": "黄河", "id_number": number.lower(), "gender": "M"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["id_number"] == number


# ---- through the page


def test_lead_adds_an_athlete_to_their_own_delegation(client, world):
    number = valid_id()
    response = post(client, world.lead_a, ADD, id_number=number, employer="苏州电力")
    assert response.status_code == 302
    assert response.url == reverse("teams:delegation")
    athlete = Athlete.objects.get(id_number=number)
    assert (athlete.delegation, athlete.birth_date, athlete.gender) == (world.del_a, BORN, "M")


def test_posting_a_delegation_field_does_not_move_the_athlete(client, world):
    post(client, world.lead_a, ADD, delegation=world.del_b.pk)
    assert Athlete.objects.get(name="黄河").delegation == world.del_a


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id_number": bad_checksum(valid_id())}, "校验位"),
        ({"id_number": valid_id(), "birth_date": "2000-03-01"}, "出生日期与身份证号不符"),
        ({"id_number": valid_id("M"), "gender": "F"}, "性别与身份证号不符"),
    ],
    ids=["checksum", "birth-date-mismatch", "gender-mismatch"],
)
def test_page_shows_id_errors_in_chinese_and_saves_nothing(client, world, data, message):
    response = post(client, world.lead_a, ADD, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Athlete.objects.exists()


def test_duplicate_id_number_is_refused_by_the_service_through_the_page(client, world):
    number = valid_id()
    services.add_athlete(world.del_b, name="别人", id_number=number)
    response = post(client, world.lead_a, ADD, id_number=number)
    assert response.status_code == 200
    assert "该身份证号的选手已登记" in response.content.decode()
    assert Athlete.objects.count() == 1


def test_edit_page_never_shows_the_full_id_number(client, world):
    number = valid_id()
    athlete = services.add_athlete(world.del_a, name="黄河", id_number=number)
    client.force_login(world.lead_a)
    html = client.get(reverse("teams:athlete_edit", args=[athlete.pk])).content.decode()
    assert idnumbers.mask(number) in html
    assert number not in html


def test_edit_with_blank_id_keeps_the_number_and_checks_it_against_changes(client, world):
    number = valid_id("M")
    athlete = services.add_athlete(world.del_a, name="黄河", id_number=number)
    url = reverse("teams:athlete_edit", args=[athlete.pk])
    response = post(client, world.lead_a, url, employer="无锡机械", gender="M")
    assert response.status_code == 302
    athlete.refresh_from_db()
    assert (athlete.id_number, athlete.employer) == (number, "无锡机械")
    # The kept number still has to agree with a changed gender.
    response = post(client, world.lead_a, url, gender="F")
    assert response.status_code == 200
    assert "性别与身份证号不符" in response.content.decode()
    athlete.refresh_from_db()
    assert athlete.gender == "M"


def test_edit_can_replace_the_id_number(client, world):
    athlete = services.add_athlete(world.del_a, name="黄河", id_number=valid_id("M", 1))
    new = valid_id("M", 2)
    url = reverse("teams:athlete_edit", args=[athlete.pk])
    assert post(client, world.lead_a, url, id_number=new).status_code == 302
    athlete.refresh_from_db()
    assert athlete.id_number == new


def test_another_delegations_athlete_is_not_found(client, world):
    other = f.athlete(delegation=world.del_b, name="吴敏")
    url = reverse("teams:athlete_edit", args=[other.pk])
    client.force_login(world.lead_a)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "改名"}).status_code == 404
    other.refresh_from_db()
    assert other.name == "吴敏"
