"""The appeals list: each role sees its own scope; leads see what they can appeal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals import services

from .builders import published_world

pytestmark = pytest.mark.django_db

URL = reverse("appeals:list")


@pytest.fixture
def w():
    return published_world()


def test_lead_sees_appealable_entries_and_own_appeals(client, w):
    client.force_login(w.lead_a)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("appeals:file", args=[w.entry_a.pk]) in html
    assert reverse("appeals:file", args=[w.entry_b.pk]) not in html
    appeal = services.file_appeal(w.entry_a, w.lead_a, "x")
    assert reverse("appeals:detail", args=[appeal.pk]) in client.get(URL).content.decode()


def test_scopes(client, w):
    appeal = services.file_appeal(w.entry_a, w.lead_a, "x")
    link = reverse("appeals:detail", args=[appeal.pk])
    for who, sees in [
        ("organiser", True),
        ("chief", True),
        ("lead_a", True),
        ("lead_b", False),
        ("other_chief", False),
    ]:
        client.force_login(getattr(w, who))
        response = client.get(URL)
        assert response.status_code == 200
        assert (link in response.content.decode()) is sees, who


def test_decided_appeals_move_to_their_section(client, w):
    appeal = services.file_appeal(w.entry_a, w.lead_a, "x")
    services.decide(appeal, w.organiser, services.Decision.REJECT, "无误")
    client.force_login(w.organiser)
    response = client.get(URL)
    assert response.context["open_appeals"] == []
    assert response.context["closed_appeals"] == [appeal]


@pytest.mark.parametrize("who", ["judge", "no_role"])
def test_roles_without_appeals_are_forbidden(client, w, who):
    client.force_login(getattr(w, who))
    assert client.get(URL).status_code == 403
