"""The ledger chain head recorded at sign-off leaves the database with the
results: on the public page of the skill and in the rankings workbook —
and only for published skills."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from portal.exporters import Presentation, write_workbook
from results import exporters
from scoring.models import SkillMarking

from .builders import world

pytestmark = pytest.mark.django_db

HEAD = "5e" * 32
HIDDEN_HEAD = "7a" * 32


@pytest.fixture
def w():
    w = world()
    SkillMarking.objects.filter(skill=w.skill).update(ledger_head=HEAD)
    SkillMarking.objects.filter(skill=w.hidden).update(ledger_head=HIDDEN_HEAD)
    return w


def test_public_page_footer_shows_the_head_once_published(client, w):
    url = reverse("results:skill", args=[w.event.code, w.skill.code])
    assert client.get(url).status_code == 404  # not published yet: nothing
    w.publish()
    page = client.get(url).content.decode()
    assert "签核时的成绩链头" in page and HEAD in page
    hidden = client.get(reverse("results:skill", args=[w.event.code, w.hidden.code]))
    assert hidden.status_code == 404


def test_rankings_workbook_carries_the_head(w):
    w.publish()
    buffer = io.BytesIO()
    write_workbook(exporters.rankings_sheets(w.event), buffer, presentation=Presentation())
    wb = load_workbook(io.BytesIO(buffer.getvalue()))
    summary = [[c.value for c in row] for row in wb["汇总"].iter_rows()]
    assert summary[1][-1] == "成绩链头"
    assert summary[2][0] == "W07" and summary[2][-1] == HEAD
    caption = wb["W07 砌筑"]["A1"].value
    assert HEAD in caption and "成绩链头" in caption
    every_cell = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row)
    assert HIDDEN_HEAD not in every_cell
