"""The landing page: each role finds its way from there."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_judges_home_links_to_the_tablet_and_chiefs_to_the_board(client):
    skill = f.skill()
    chief = f.judge(skill, role="chief")
    client.force_login(chief.user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("tablets:home") in html and reverse("tablets:board_index") in html
    judge = f.judge(skill)
    client.force_login(judge.user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("tablets:home") in html and reverse("tablets:board_index") not in html


def test_organiser_home_lists_events_with_their_dashboards(client):
    event = f.event(name="2026年全省决赛")
    client.force_login(f.organiser())
    html = client.get(reverse("home")).content.decode()
    assert "2026年全省决赛" in html
    assert reverse("results:organiser_event", args=[event.code]) in html
    assert reverse("awards:certificates", args=[event.code]) in html


def test_lead_home_links_to_the_results_dashboard(client):
    client.force_login(f.lead())
    html = client.get(reverse("home")).content.decode()
    assert reverse("results:lead_home") in html and reverse("teams:delegation") in html
