"""Stored results of published skills: read as stored while they are
current, recomputed when not (decided by counts in the database), and for a
lead only their own delegation's rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from results import services
from scoring.models import EntryResult, SkillMarking
from teams.models import Entry
from tests import factories as f

from .builders import world

pytestmark = pytest.mark.django_db


def ranks(rows) -> dict[str, int | None]:
    return {r.entry.competitor_no: r.rank for r in rows}


def test_current_rows_are_read_as_stored():
    w = world()
    assert services.fresh_skills([w.skill, w.hidden]) == {w.skill.pk, w.hidden.pk}
    rows = services.published_results([w.skill])[w.skill.pk]
    assert ranks(rows) == {"101": 1, "102": 2, "103": 3, "104": 4}


@pytest.mark.parametrize("change", ["withdrawn", "new entry", "computed before sign-off"])
def test_a_skill_whose_rows_may_be_stale_is_not_read_as_stored(change):
    w = world()
    if change == "withdrawn":
        Entry.objects.filter(pk=w.entries["b1"].pk).update(status=Entry.Status.WITHDRAWN)
    elif change == "new entry":
        f.entry(w.skill, delegation=w.del_a, competitor_no="105")
    else:
        SkillMarking.objects.filter(skill=w.skill).update(
            results_computed_at=timezone.now() - dt.timedelta(days=1)
        )
    assert services.fresh_skills([w.skill, w.hidden]) == {w.hidden.pk}


def test_a_withdrawn_entry_loses_its_rank_when_recomputed(monkeypatch):
    w = world()
    Entry.objects.filter(pk=w.entries["b1"].pk).update(status=Entry.Status.WITHDRAWN)
    asked = []
    recomputed = [
        EntryResult(entry=e, skill=w.skill, rank=None if e.pk == w.entries["b1"].pk else 1)
        for e in Entry.objects.filter(skill=w.skill)
    ]

    def results_for(skill):
        asked.append(skill.pk)
        return recomputed

    monkeypatch.setattr(services, "results_for", results_for)
    rows = services.published_results([w.skill, w.hidden])
    assert asked == [w.skill.pk]
    assert ranks(rows[w.skill.pk])["102"] is None
    assert ranks(rows[w.hidden.pk]) == {"202": 1, "201": 2}


def test_only_the_entries_asked_for():
    w = world()
    own = [w.entries["a1"].pk, w.entries["a2"].pk]
    rows = services.published_results([w.skill], own)[w.skill.pk]
    assert ranks(rows) == {"101": 1, "103": 3}
    cols = services.award_columns_for([w.skill], own)
    assert set(cols) == set(own) and cols[w.entries["a1"].pk][0] == "金牌"
