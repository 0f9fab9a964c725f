"""Withdrawing an entry: own, before the deadline; others' entries are 404."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from competitions.models import Event
from teams import services
from teams.models import Entry
from tests import factories as f


def url(entry) -> str:
    return reverse("teams:withdraw_entry", args=[entry.pk])


def test_lead_confirms_then_withdraws_their_own_entry(client, world):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    client.force_login(world.lead_a)
    page = client.get(url(entry))
    assert page.status_code == 200
    assert entry.competitor_no in page.content.decode()
    assert Entry.objects.filter(pk=entry.pk).exists()  # GET changes nothing
    response = client.post(url(entry))
    assert response.status_code == 302
    assert not Entry.objects.filter(pk=entry.pk).exists()


def test_withdrawal_after_the_deadline_is_refused(client, world):
    entry = services.register_entry(world.del_a, world.skill, [f.athlete(delegation=world.del_a)])
    Event.objects.filter(pk=world.event.pk).update(
        registration_deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    client.force_login(world.lead_a)
    assert "请联系组委会" in client.get(url(entry)).content.decode()
    response = client.post(url(entry))
    assert response.status_code == 400
    assert "报名已截止" in response.content.decode()
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_another_delegations_entry_is_not_found(client, world):
    entry = services.register_entry(world.del_b, world.skill, [f.athlete(delegation=world.del_b)])
    client.force_login(world.lead_a)
    assert client.get(url(entry)).status_code == 404
    assert client.post(url(entry)).status_code == 404
    assert Entry.objects.filter(pk=entry.pk).exists()
