"""Organisers read appeals in the admin; nobody changes them there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals import services

from . import files
from .builders import published_world

pytestmark = pytest.mark.django_db


def test_organiser_reads_an_appeal_with_its_trace(client):
    w = published_world()
    appeal = services.file_appeal(w.entry_a, w.lead_a, "第3题", [files.pdf("证据.pdf")])
    client.force_login(w.organiser)
    assert client.get(reverse("admin:appeals_appeal_changelist")).status_code == 200
    html = client.get(reverse("admin:appeals_appeal_change", args=[appeal.pk])).content.decode()
    assert reverse("appeals:attachment", args=[appeal.attachments.get().pk]) in html
    assert client.get(reverse("admin:appeals_appeal_add")).status_code == 403
    assert client.post(reverse("admin:appeals_appeal_delete", args=[appeal.pk])).status_code == 403


def test_non_organisers_are_sent_to_the_admin_login(client):
    w = published_world()
    client.force_login(w.chief)
    response = client.get(reverse("admin:appeals_appeal_changelist"))
    assert response.status_code == 302 and "admin/login" in response["Location"]
