"""The lead's delegation page: own athletes with masked ID numbers, own
entries per event and skill with quota and deadline, nothing of others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from competitions.models import Event
from teams import idnumbers, services
from tests import factories as f

URL = reverse("teams:delegation")


@pytest.fixture
def page(client, world):
    def get(user=None):
        client.force_login(user or world.lead_a)
        response = client.get(URL)
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_athletes_are_listed_with_masked_id_numbers_only(world, page):
    number = idnumbers.make_id_number("320582", dt.date(2001, 9, 30), 12, "M")
    services.add_athlete(world.del_a, name="周杰", id_number=number)
    html = page()
    assert "周杰" in html
    assert idnumbers.mask(number) in html
    assert number not in html
    # Nor the hidden middle part (the birth date digits) on its own.
    assert number[6:14] not in html


def test_other_delegations_athletes_and_entries_are_not_shown(world, page):
    other = f.athlete(delegation=world.del_b, name="吴敏")
    f.entry(world.skill, athletes=[other], competitor_no="8765")
    html = page()
    assert "吴敏" not in html
    assert "8765" not in html
    assert world.del_b.name not in html


def test_entries_show_quota_used_and_the_deadline(world, page):
    athlete = f.athlete(delegation=world.del_a, name="郑爽")
    entry = services.register_entry(world.del_a, world.skill, [athlete])
    html = page()
    assert world.event.name in html
    assert "W01 砌筑" in html
    assert entry.competitor_no in html and "郑爽" in html
    assert "1 / 2" in html  # W01: one of two places used
    assert "0 / 2" in html  # W02: none used
    deadline = timezone.localtime(world.event.registration_deadline)
    assert deadline.strftime("%Y-%m-%d %H:%M") in html
    assert "报名中" in html
    assert reverse("teams:register_entry", args=[world.skill.pk]) in html
    assert reverse("teams:withdraw_entry", args=[entry.pk]) in html


def test_closed_event_offers_neither_registration_nor_withdrawal(world, page):
    athlete = f.athlete(delegation=world.del_a)
    entry = services.register_entry(world.del_a, world.skill, [athlete])
    Event.objects.filter(pk=world.event.pk).update(
        registration_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    html = page()
    assert "报名已截止" in html
    assert reverse("teams:register_entry", args=[world.skill.pk]) not in html
    assert reverse("teams:withdraw_entry", args=[entry.pk]) not in html


def test_full_quota_is_said_instead_of_a_register_button(world, page):
    for _ in range(2):
        services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    html = page()
    assert "2 / 2" in html
    assert "名额已满" in html
    assert reverse("teams:register_entry", args=[world.skill.pk]) not in html


def test_page_is_chinese_by_default_and_english_on_request(world, client):
    client.force_login(world.lead_a)
    assert "选手" in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.cookies["django_language"] = "en"  # what the language switch sets
    html = client.get(URL).content.decode()
    assert "Athletes" in html and "Entries and quotas" in html
