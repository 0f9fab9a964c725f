"""Withdrawing an entry once marking has started in its skill: refused with a
message (never a 500), and the page no longer offers the button."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from competitions.models import Event, SkillPublication
from scoring import marks
from teams import services
from teams.models import Entry
from tests import factories as f
from tests.scoring.builders import scheme_skill


@pytest.fixture
def marked(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = f.event(
        status=Event.Status.REGISTRATION,
        registration_deadline=timezone.now() + dt.timedelta(days=3),
    )
    s = scheme_skill(n_entries=2, n_judges=1, event=event)
    delegation = s.entries[0].delegation
    f.quota(s.skill, delegation, 3)
    # A second entry of the same delegation, not marked yet.
    unmarked = f.entry(s.skill, delegation=delegation)
    lead = f.lead(delegation)
    return s, lead, unmarked


def mark_first(s) -> None:
    marks.write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="12.5")


def test_before_marking_the_button_is_offered_and_works(client, marked):
    _s, lead, unmarked = marked
    client.force_login(lead)
    html = client.get(reverse("teams:delegation")).content.decode()
    assert reverse("teams:withdraw_entry", args=[unmarked.pk]) in html
    assert client.post(reverse("teams:withdraw_entry", args=[unmarked.pk])).status_code == 302
    assert not Entry.objects.filter(pk=unmarked.pk).exists()


def test_a_marked_entry_is_refused_with_a_message_not_a_500(client, marked):
    s, lead, _unmarked = marked
    mark_first(s)
    client.force_login(lead)
    url = reverse("teams:withdraw_entry", args=[s.entries[0].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "已开始评分" in page.content.decode()
    assert "primary danger" not in page.content.decode()  # no Withdraw button
    response = client.post(url)
    assert response.status_code == 400
    assert "已开始评分" in response.content.decode()
    assert Entry.objects.filter(pk=s.entries[0].pk).exists()


def test_once_marking_started_no_entry_of_the_skill_can_be_withdrawn(client, marked):
    s, lead, unmarked = marked
    mark_first(s)
    client.force_login(lead)
    html = client.get(reverse("teams:delegation")).content.decode()
    assert reverse("teams:withdraw_entry", args=[unmarked.pk]) not in html
    assert reverse("teams:withdraw_entry", args=[s.entries[0].pk]) not in html
    assert "已开始评分，不能再撤销报名" in html
    assert client.post(reverse("teams:withdraw_entry", args=[unmarked.pk])).status_code == 400
    assert Entry.objects.filter(pk=unmarked.pk).exists()


def test_a_mark_written_after_the_check_still_cannot_be_lost(client, marked, monkeypatch):
    """The page's check and the delete are not atomic: a mark can arrive in
    between. The ledger protects the entry; the lead gets the message."""
    s, lead, _unmarked = marked
    mark_first(s)
    monkeypatch.setattr(services, "skills_with_marking_started", lambda ids: set())
    client.force_login(lead)
    response = client.post(reverse("teams:withdraw_entry", args=[s.entries[0].pk]))
    assert response.status_code == 400
    assert "已开始评分" in response.content.decode()
    assert s.entries[0].marks.count() == 1


def test_a_published_skill_offers_no_withdrawal(marked):
    s, _lead, unmarked = marked
    SkillPublication.objects.create(skill=s.skill, published=True, published_at=timezone.now())
    problem = services.withdrawal_problem(unmarked.delegation, unmarked)
    assert problem is not None and problem.code == "marking_started"
