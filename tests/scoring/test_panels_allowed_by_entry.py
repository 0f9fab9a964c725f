"""``panels.allowed_by_entry`` gives, per entry, exactly the aspects
``Panel.check`` allows one judge — recusal, chief judges, overlapping marking
groups listing entries, aspects or both."""

from __future__ import annotations

import pytest

from scoring import panels
from scoring.models import MarkingGroup
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


def checked_one_by_one(panel, judge_id, entries, aspects) -> dict[int, frozenset[int]]:
    return {
        e.pk: frozenset(
            a.pk
            for a in aspects
            if panel.check(judge_id, e.pk, e.delegation_id, a.pk, a.kind) is None
        )
        for e in entries
    }


def test_same_answer_as_check_for_every_judge():
    s = scheme_skill(n_entries=6, n_judges=4)
    recused = f.judge(s.skill, delegation=s.entries[0].delegation)
    entries_only = MarkingGroup.objects.create(skill=s.skill, name="E")
    entries_only.judges.add(s.judges[0])
    entries_only.entries.add(s.entries[1], s.entries[2])
    aspects_only = MarkingGroup.objects.create(skill=s.skill, name="A")
    aspects_only.judges.add(s.judges[1], recused)
    aspects_only.aspects.add(s.j_aspects[0], s.m_aspects[0])
    both = MarkingGroup.objects.create(skill=s.skill, name="B")
    both.judges.add(s.judges[1])
    both.entries.add(s.entries[3])
    both.aspects.add(s.j_aspects[-1])
    outsider = scheme_skill().judges[0]  # assigned to another skill only

    panel = panels.load_panel(s.skill)
    pairs = [(e.pk, e.delegation_id) for e in s.entries]
    kinds = [(a.pk, a.kind) for a in s.aspects]
    for judge in [*s.judges, recused, s.chief, outsider]:
        got = panels.allowed_by_entry(panel, judge.pk, pairs, kinds)
        assert got == checked_one_by_one(panel, judge.pk, s.entries, s.aspects), judge.code
    # The cases above do narrow: not everything is allowed to everyone.
    assert panels.allowed_by_entry(panel, recused.pk, pairs, kinds)[s.entries[0].pk] == set()
    chief = panels.allowed_by_entry(panel, s.chief.pk, pairs, kinds)[s.entries[1].pk]
    assert chief == {a.pk for a in s.m_aspects}
