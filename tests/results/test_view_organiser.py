"""The organiser's event dashboard: per-skill progress with its actions, in
a fixed number of queries."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals.models import Appeal
from competitions.models import Skill
from scoring import services as scoring
from tests import factories as f
from tests.scoring.builders import scheme_skill

from .builders import world

pytestmark = pytest.mark.django_db


def test_dashboard_rows_and_actions(client):
    w = world()
    w.publish()
    Appeal.objects.create(
        entry=w.entries["a1"],
        skill=w.skill,
        delegation=w.del_a,
        text="复核",
        filed_by=w.lead_a,
        deadline=w.skill.publication.published_at,
    )
    marking = scheme_skill(n_entries=2, n_judges=3, event=w.event, code="X01", name="焊接")
    e0 = marking.entries[0]
    scoring.write_mark(
        entry=e0, aspect=marking.m_aspects[0], judge=marking.judges[0], value="30", source="test"
    )
    client.force_login(w.organiser)
    r = client.get(reverse("results:organiser_event", args=[w.event.code]))
    assert r.status_code == 200
    rows = {p.skill.code: p for p in r.context["dash"].skills}
    w07, w99, x01 = rows["W07"], rows["W99"], rows["X01"]
    assert (w07.published, w07.signed_off, w07.appeals_open, w07.awards) == (True, True, 1, 3)
    assert (w99.published, w99.signed_off, w99.stage) == (False, True, "signed_off")
    assert x01.stage == "marking" and x01.marks_given == 1
    # 2 entries × (2 M + 2 J × 3 judges) = 16 expected.
    assert x01.marks_expected == 16 and x01.complete == 0
    page = r.content.decode()
    for url in (
        reverse("scoring:sign_off", args=[x01.skill.pk]),
        reverse("scoring:results", args=[x01.skill.pk]),
        reverse("results:publication_event", args=[w.event.code]),
        reverse("results:advancement_skill", args=[w.skill.pk]),
        reverse("results:publication_unpublish", args=[w.skill.pk]),
        reverse("results:rankings_export", args=[w.event.code]),
        reverse("interchange:event_workbook_export", args=[w.event.code]),
    ):
        assert url in page
    # W99 is signed off and not published: its publish button is on the row.
    assert f'name="skill" value="{w99.skill.pk}"' in page


def test_query_count_does_not_grow_with_skills(client):
    w = world()
    client.force_login(w.organiser)
    url = reverse("results:organiser_event", args=[w.event.code])
    f.entry(f.skill(event=w.event, code="Y000"))  # one skill still marking
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    Skill.objects.bulk_create(
        Skill(event=w.event, code=f"Z{i:03d}", name="赛项") for i in range(60)
    )
    for s in Skill.objects.filter(code__startswith="Z")[:20]:
        f.entry(s)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) <= len(few) + 2, [q["sql"][:80] for q in many.captured_queries]
    assert time.perf_counter() - started < 2


def test_only_organisers(client):
    w = world()
    url = reverse("results:organiser_event", args=[w.event.code])
    assert client.get(url).status_code == 302
    for user in (w.lead_a, w.chief, w.judge):
        client.force_login(user)
        assert client.get(url).status_code == 403
