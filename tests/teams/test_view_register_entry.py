"""Registering an entry from the lead's page: eligible athletes only, the
quota, the deadline, once per event, team size."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from competitions.models import Event
from teams import services
from teams.models import Entry, Quota
from tests import factories as f


def url(skill) -> str:
    return reverse("teams:register_entry", args=[skill.pk])


def test_form_offers_only_own_athletes_not_yet_entered_in_the_event(client, world):
    free = f.athlete(delegation=world.del_a, name="钱多")
    entered = f.athlete(delegation=world.del_a, name="孙少")
    f.athlete(delegation=world.del_b, name="李外")
    services.register_entry(
        world.del_a, world.team_skill, [entered, f.athlete(delegation=world.del_a)]
    )
    client.force_login(world.lead_a)
    html = client.get(url(world.skill)).content.decode()
    assert "钱多" in html
    assert "孙少" not in html
    assert "李外" not in html
    assert f'value="{free.pk}"' in html


def test_lead_registers_an_individual_entry(client, world):
    athlete = f.athlete(delegation=world.del_a)
    client.force_login(world.lead_a)
    response = client.post(url(world.skill), {"athletes": [athlete.pk]})
    assert response.status_code == 302
    entry = Entry.objects.get(skill=world.skill)
    assert entry.delegation == world.del_a
    assert list(entry.athletes.all()) == [athlete]
    page = client.get(response.url).content.decode()
    assert entry.competitor_no in page  # the success message and the table


def test_team_entry_needs_team_size_athletes(client, world):
    a1, a2 = (f.athlete(delegation=world.del_a) for _ in range(2))
    client.force_login(world.lead_a)
    response = client.post(url(world.team_skill), {"athletes": [a1.pk]})
    assert response.status_code == 200
    assert "请恰好选择 2 名选手" in response.content.decode()
    assert client.post(url(world.team_skill), {"athletes": [a1.pk, a2.pk]}).status_code == 302
    assert set(Entry.objects.get(skill=world.team_skill).athletes.all()) == {a1, a2}


def test_full_quota_is_refused_with_the_message(client, world):
    Quota.objects.filter(skill=world.skill, delegation=world.del_a).update(max_entries=1)
    services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    athlete = f.athlete(delegation=world.del_a)
    client.force_login(world.lead_a)
    html = client.get(url(world.skill)).content.decode()
    assert "名额已满" in html
    assert 'name="athletes"' not in html
    response = client.post(url(world.skill), {"athletes": [athlete.pk]})
    assert "名额已满" in response.content.decode()
    assert Entry.objects.filter(skill=world.skill).count() == 1


def test_skill_without_quota_says_the_delegation_has_no_places(client, world):
    other = f.skill(event=world.event, code="W07", name="焊接")
    athlete = f.athlete(delegation=world.del_a)
    client.force_login(world.lead_a)
    response = client.post(url(other), {"athletes": [athlete.pk]})
    assert response.status_code == 200
    assert "没有名额" in response.content.decode()
    assert not Entry.objects.exists()


def test_registration_after_the_deadline_is_refused(client, world):
    Event.objects.filter(pk=world.event.pk).update(
        registration_deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    athlete = f.athlete(delegation=world.del_a)
    client.force_login(world.lead_a)
    response = client.post(url(world.skill), {"athletes": [athlete.pk]})
    assert response.status_code == 200
    assert "报名已截止" in response.content.decode()
    assert not Entry.objects.exists()


def test_same_athlete_twice_in_one_event_is_refused(client, world):
    athlete = f.athlete(delegation=world.del_a)
    partner = f.athlete(delegation=world.del_a)
    services.register_entry(world.del_a, world.skill, [athlete])
    client.force_login(world.lead_a)
    response = client.post(url(world.team_skill), {"athletes": [athlete.pk, partner.pk]})
    assert response.status_code == 200
    assert not Entry.objects.filter(skill=world.team_skill).exists()


def test_another_delegations_athlete_cannot_be_posted(client, world):
    theirs = f.athlete(delegation=world.del_b)
    client.force_login(world.lead_a)
    response = client.post(url(world.skill), {"athletes": [theirs.pk]})
    assert response.status_code == 200
    assert not Entry.objects.exists()


def test_unknown_skill_is_not_found(client, world):
    client.force_login(world.lead_a)
    assert client.get(reverse("teams:register_entry", args=[999999])).status_code == 404
