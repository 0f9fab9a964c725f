"""Attachments are served through the checking view only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from appeals import services

from . import files
from .builders import published_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return published_world()


@pytest.fixture
def attachment(w):
    appeal = services.file_appeal(w.entry_a, w.lead_a, "x", [files.pdf("证据.pdf")])
    return appeal.attachments.get()


def url(attachment):
    return reverse("appeals:attachment", args=[attachment.pk])


@pytest.mark.parametrize("who", ["lead_a", "chief", "organiser"])
def test_who_may_see_the_appeal_downloads(client, w, attachment, who):
    client.force_login(getattr(w, who))
    response = client.get(url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == files.PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who, status", [("lead_b", 404), ("judge", 403), ("no_role", 403)])
def test_others_cannot(client, w, attachment, who, status):
    client.force_login(getattr(w, who))
    assert client.get(url(attachment)).status_code == status


def test_anonymous_goes_to_login(client, attachment):
    response = client.get(url(attachment))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_file_is_not_under_media_root(attachment):
    assert not attachment.file.path.startswith(str(settings.MEDIA_ROOT))
