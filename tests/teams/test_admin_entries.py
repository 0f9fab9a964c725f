"""An entry added or changed in the admin obeys the rules of the lead's page
and the event workbook (teams.services.entry_rule_errors): members of the
entry's delegation, at least one, the team size, the quota, one entry per
athlete per event; after the deadline a change needs a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from competitions.models import Event
from teams import services
from teams.models import Entry, EntryMember
from tests import factories as f


@pytest.fixture
def organiser_client(client, world):
    client.force_login(f.organiser())
    return client


def entry_data(skill, delegation, athletes, *, number="501", initial=(), **extra) -> dict:
    """The admin's add/change form: the entry and its members inline."""
    data = {
        "skill": skill.pk,
        "delegation": delegation.pk,
        "competitor_no": number,
        "status": "registered",
        "change_reason": "",
        "members-TOTAL_FORMS": str(len(initial) + len(athletes)),
        "members-INITIAL_FORMS": str(len(initial)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, member in enumerate(initial):
        data[f"members-{i}-id"] = member.pk
        data[f"members-{i}-entry"] = member.entry_id
        data[f"members-{i}-athlete"] = member.athlete_id
    for i, athlete in enumerate(athletes, start=len(initial)):
        data[f"members-{i}-athlete"] = athlete.pk
    data.update(extra)
    return data


def add(client, data):
    return client.post(reverse("admin:teams_entry_add"), data)


def test_a_valid_team_is_added(organiser_client, world):
    a1, a2 = f.athlete(delegation=world.del_a), f.athlete(delegation=world.del_a)
    response = add(organiser_client, entry_data(world.team_skill, world.del_a, [a1, a2]))
    assert response.status_code == 302
    entry = Entry.objects.get(competitor_no="501")
    assert set(entry.athletes.all()) == {a1, a2}
    assert entry.history.count() == 1


def test_members_from_two_delegations_are_refused(organiser_client, world):
    a1, b1 = f.athlete(delegation=world.del_a), f.athlete(delegation=world.del_b)
    response = add(organiser_client, entry_data(world.team_skill, world.del_a, [a1, b1]))
    assert response.status_code == 200
    assert "不属于该参赛单元所在的代表团" in response.content.decode()
    assert not Entry.objects.filter(competitor_no="501").exists()


def test_an_entry_without_members_is_refused(organiser_client, world):
    response = add(organiser_client, entry_data(world.skill, world.del_a, []))
    assert response.status_code == 200
    assert "至少需要一名选手" in response.content.decode()
    assert not Entry.objects.exists()


def test_the_wrong_team_size_is_refused(organiser_client, world):
    a1 = f.athlete(delegation=world.del_a)
    response = add(organiser_client, entry_data(world.team_skill, world.del_a, [a1]))
    assert response.status_code == 200
    assert "需要 2 名选手" in response.content.decode()
    assert not Entry.objects.exists()


def test_the_quota_is_obeyed(organiser_client, world):
    for _ in range(2):  # the quota is 2
        services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    extra = f.athlete(delegation=world.del_a)
    response = add(organiser_client, entry_data(world.skill, world.del_a, [extra]))
    assert response.status_code == 200
    assert "名额已满" in response.content.decode()
    assert Entry.objects.filter(skill=world.skill).count() == 2


def test_an_athlete_already_entered_in_the_event_is_refused(organiser_client, world):
    athlete = f.athlete(delegation=world.del_a)
    services.register_entry(world.del_a, world.skill, [athlete])
    partner = f.athlete(delegation=world.del_a)
    response = add(organiser_client, entry_data(world.team_skill, world.del_a, [athlete, partner]))
    assert response.status_code == 200
    assert "已报名" in response.content.decode()
    assert EntryMember.objects.filter(athlete=athlete).count() == 1


def test_moving_an_entry_to_another_delegation_leaves_its_members_behind(organiser_client, world):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    url = reverse("admin:teams_entry_change", args=[entry.pk])
    data = entry_data(
        world.skill, world.del_b, [], number=entry.competitor_no, initial=list(entry.members.all())
    )
    response = organiser_client.post(url, data)
    assert response.status_code == 200
    # Said next to the member (the model's check) or for the whole entry.
    assert "不属于" in response.content.decode()
    entry.refresh_from_db()
    assert entry.delegation == world.del_a


def test_removing_every_member_of_a_saved_entry_is_refused(organiser_client, world):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    members = list(entry.members.all())
    data = entry_data(world.skill, world.del_a, [], number=entry.competitor_no, initial=members)
    data["members-0-DELETE"] = "on"
    response = organiser_client.post(reverse("admin:teams_entry_change", args=[entry.pk]), data)
    assert response.status_code == 200
    assert "至少需要一名选手" in response.content.decode()
    assert entry.members.count() == 1


def test_an_unchanged_entry_saves_although_the_quota_is_used_up(organiser_client, world):
    entries = [
        services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
        for _ in range(2)
    ]
    entry = entries[0]
    data = entry_data(
        world.skill,
        world.del_a,
        [],
        number=entry.competitor_no,
        initial=list(entry.members.all()),
        status="absent",
    )
    response = organiser_client.post(reverse("admin:teams_entry_change", args=[entry.pk]), data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "absent"


def test_after_the_deadline_a_change_needs_a_reason_which_the_history_keeps(
    organiser_client, world
):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    Event.objects.filter(pk=world.event.pk).update(
        registration_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    url = reverse("admin:teams_entry_change", args=[entry.pk])
    members = list(entry.members.all())
    data = entry_data(
        world.skill, world.del_a, [], number=entry.competitor_no, initial=members, status="absent"
    )
    response = organiser_client.post(url, data)
    assert response.status_code == 200
    assert "请填写修改原因" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == "registered"

    data["change_reason"] = "选手因病未到场"
    assert organiser_client.post(url, data).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "absent"
    assert entry.history.latest().history_change_reason == "选手因病未到场"
    history = organiser_client.get(reverse("admin:teams_entry_history", args=[entry.pk]))
    assert "选手因病未到场" in history.content.decode()
