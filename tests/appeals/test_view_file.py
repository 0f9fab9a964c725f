"""A lead files an appeal: the form, the window shown, attachments, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import services
from appeals.models import Appeal
from competitions.models import SkillPublication

from . import files
from .builders import published_world, world

pytestmark = pytest.mark.django_db


def url(entry):
    return reverse("appeals:file", args=[entry.pk])


def test_form_shows_the_deadline(client):
    w = published_world()
    client.force_login(w.lead_a)
    response = client.get(url(w.entry_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="attachments"' in html
    deadline = SkillPublication.objects.get(skill=w.skill).published_at + dt.timedelta(hours=2)
    assert services.format_deadline(deadline) in html  # "北京时间 …", to the minute


def test_filing_with_attachments(client):
    w = published_world()
    client.force_login(w.lead_a)
    response = client.post(
        url(w.entry_a),
        {
            "text": "第3题测量值记录错误",
            "attachments": [files.pdf("记录.pdf"), files.upload("p.png", files.PNG)],
        },
    )
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert appeal.text == "第3题测量值记录错误"
    assert sorted(appeal.attachments.values_list("original_name", flat=True)) == [
        "p.png",
        "记录.pdf",
    ]


def test_a_refused_attachment_is_reported_and_nothing_is_filed(client):
    w = published_world()
    client.force_login(w.lead_a)
    response = client.post(
        url(w.entry_a), {"text": "x", "attachments": [files.upload("run.exe", b"MZ")]}
    )
    assert response.status_code == 400
    assert "run.exe" in response.context["error"]
    assert not Appeal.objects.exists()


def test_after_the_window_the_deadline_is_shown_and_nothing_filed(client):
    w = published_world(at=timezone.now() - dt.timedelta(hours=3))
    client.force_login(w.lead_a)
    deadline = SkillPublication.objects.get(skill=w.skill).published_at + dt.timedelta(hours=2)
    shown = "北京时间 " + timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")  # to the minute
    page = client.get(url(w.entry_a))
    assert page.status_code == 200
    assert shown in page.content.decode()
    assert 'name="text"' not in page.content.decode()
    response = client.post(url(w.entry_a), {"text": "late"})
    assert response.status_code == 400
    assert shown in response.context["error"]
    assert not Appeal.objects.exists()


def test_before_publication_there_is_no_form(client):
    w = world()
    client.force_login(w.lead_a)
    page = client.get(url(w.entry_a))
    assert page.status_code == 200 and 'name="text"' not in page.content.decode()
    assert page.context["problem"]


def test_another_delegations_entry_is_404(client):
    w = published_world()
    client.force_login(w.lead_a)
    assert client.get(url(w.entry_b)).status_code == 404
    assert client.post(url(w.entry_b), {"text": "x"}).status_code == 404
    assert not Appeal.objects.exists()


def test_empty_text_is_a_form_error(client):
    w = published_world()
    client.force_login(w.lead_a)
    response = client.post(url(w.entry_a), {"text": ""})
    assert response.status_code == 400 and "text" in response.context["form"].errors
