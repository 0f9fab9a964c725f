"""The appeal page: history, attachments, answer and decision forms by role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals import services
from appeals.models import Appeal
from competitions import publication
from scoring.models import LedgerRecord, SkillMarking

from . import files
from .builders import published_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return published_world()


@pytest.fixture
def appeal(w):
    return services.file_appeal(w.entry_a, w.lead_a, "第3题评分有误", [files.pdf("证据.pdf")])


def url(appeal):
    return reverse("appeals:detail", args=[appeal.pk])


def test_lead_sees_history_and_attachments_but_no_forms(client, w, appeal):
    client.force_login(w.lead_a)
    html = client.get(url(appeal)).content.decode()
    assert "第3题评分有误" in html
    assert reverse("appeals:attachment", args=[appeal.attachments.get().pk]) in html
    assert 'id="answer"' not in html and 'id="decide"' not in html


def test_chief_answers_but_does_not_decide(client, w, appeal):
    client.force_login(w.chief)
    html = client.get(url(appeal)).content.decode()
    assert 'id="answer"' in html and 'id="decide"' not in html
    response = client.post(url(appeal), {"action": "answer", "text": "已复核记录"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.ANSWERED
    assert client.post(url(appeal), {"action": "uphold", "text": "x"}).status_code == 403
    assert publication.is_published(w.skill)


def test_organiser_rejects(client, w, appeal):
    client.force_login(w.organiser)
    assert 'id="decide"' in client.get(url(appeal)).content.decode()
    response = client.post(url(appeal), {"action": "reject", "text": "评分无误"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.REJECTED
    html = client.get(url(appeal)).content.decode()
    assert "评分无误" in html and 'id="decide"' not in html


def test_organiser_upholds(client, w, appeal):
    client.force_login(w.organiser)
    response = client.post(url(appeal), {"action": "uphold", "text": "重新测量"}, follow=True)
    assert response.status_code == 200
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.UPHELD
    assert SkillMarking.objects.get(skill=w.skill).status == SkillMarking.Status.OPEN
    assert LedgerRecord.objects.filter(skill=w.skill, action="reopen").exists()
    assert not publication.is_published(w.skill)


def test_refusals_are_shown(client, w, appeal):
    client.force_login(w.organiser)
    missing = client.post(url(appeal), {"action": "reject", "text": ""})
    assert missing.status_code == 400 and missing.context["error"]
    unknown = client.post(url(appeal), {"action": "shrug", "text": "x"})
    assert unknown.status_code == 400
    appeal.refresh_from_db()
    assert appeal.is_open


@pytest.mark.parametrize("who, status", [("lead_b", 404), ("other_chief", 404), ("judge", 403)])
def test_others_cannot_see_it(client, w, appeal, who, status):
    client.force_login(getattr(w, who))
    assert client.get(url(appeal)).status_code == status
    assert client.post(url(appeal), {"action": "answer", "text": "x"}).status_code == status
