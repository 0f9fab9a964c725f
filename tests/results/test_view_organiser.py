"""The organiser's event dashboard: per-skill progress with its actions, in
a fixed number of queries."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
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


def test_dashboard_rows_and_actions(client, django_capture_on_commit_callbacks):
    cache.clear()  # refreshes already asked for in this process
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
    url = reverse("results:organiser_event", args=[w.event.code])
    # The mark made X01's stored results stale: the page shows what it can
    # count, says it is updating, and has a worker refresh them (eager here).
    with django_capture_on_commit_callbacks(execute=True) as queued:
        first = client.get(url)
    stale = {p.skill.code: p for p in first.context["dash"].skills}["X01"]
    assert stale.stale and stale.stage == "marking" and stale.marks_expected is None
    assert 'data-stale="yes"' in first.content.decode() and len(queued) == 1
    r = client.get(url)
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


def test_a_stale_skill_shows_its_last_figures_with_their_time(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    """No results are computed on a page load: a skill marked since its last
    refresh shows the figures of that refresh, their time, and is refreshed
    by the worker for the next load."""
    from results import refresh
    from scoring import results

    cache.clear()
    w = world()
    marking = scheme_skill(n_entries=2, n_judges=3, event=w.event, code="X01", name="焊接")
    before = refresh.store_progress(marking.skill)
    scoring.write_mark(
        entry=marking.entries[0],
        aspect=marking.m_aspects[0],
        judge=marking.judges[0],
        value="30",
        source="test",
    )

    def refuse(*args, **kwargs):
        raise AssertionError("results computed on a page load")

    client.force_login(w.organiser)
    url = reverse("results:organiser_event", args=[w.event.code])
    with monkeypatch.context() as m:
        m.setattr(results, "compute_skills", refuse)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            r = client.get(url)
    x01 = {p.skill.code: p for p in r.context["dash"].skills}["X01"]
    assert x01.stale and x01.as_of == before.computed_at
    assert (x01.marks_given, x01.marks_expected, x01.stage) == (0, 16, "marking")
    assert 'data-stale="yes"' in r.content.decode() and len(queued) == 1
    for callback in queued:
        callback()  # the worker (eager here) refreshes X01
    x01 = {p.skill.code: p for p in client.get(url).context["dash"].skills}["X01"]
    assert not x01.stale and (x01.marks_given, x01.marks_expected) == (1, 16)
    # Asked once per REFRESH_EVERY seconds, however often the page is loaded.
    scoring.write_mark(
        entry=marking.entries[1],
        aspect=marking.m_aspects[0],
        judge=marking.judges[0],
        value="20",
        source="test",
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.get(url)
        client.get(url)
    assert len(queued) == 0
