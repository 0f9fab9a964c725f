"""Who may mark what: assignment, recusal (回避), chief judges, marking groups."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring import panels
from scoring.models import MarkingGroup
from teams.models import Entry
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    return scheme_skill(n_entries=4, n_judges=3)


def test_assigned_judge_may_mark_everything(s):
    for entry in s.entries:
        for aspect in s.aspects:
            assert panels.refusal(s.judges[0], entry, aspect) is None


def test_own_delegation_is_refused(s):
    entry = s.entries[0]
    judge = f.judge(s.skill, delegation=entry.delegation)
    found = panels.check(judge, entry, s.m_aspects[0])
    assert found.code == panels.OWN_DELEGATION and "回避" in found.message
    assert panels.refusal(judge, s.entries[1], s.m_aspects[0]) is None


def test_unassigned_judge_is_refused(s):
    other_skill = scheme_skill()
    assert panels.check(other_skill.judges[0], s.entries[0], s.m_aspects[0]).code == (
        panels.NOT_ASSIGNED
    )


def test_chief_judge_enters_measurements_only(s):
    assert panels.refusal(s.chief, s.entries[0], s.m_aspects[0]) is None
    assert panels.check(s.chief, s.entries[0], s.j_aspects[0]).code == panels.CHIEF_JUDGEMENT


def test_chief_judge_is_recused_too(s):
    entry = f.entry(s.skill, delegation=s.chief.delegation)
    assert panels.check(s.chief, entry, s.m_aspects[0]).code == panels.OWN_DELEGATION


def test_marking_group_narrows_entries_and_aspects(s):
    judge = s.judges[0]
    group = MarkingGroup.objects.create(skill=s.skill, name="G1")
    group.judges.add(judge)
    group.entries.add(s.entries[0], s.entries[1])
    group.aspects.add(s.j_aspects[0])
    assert panels.refusal(judge, s.entries[0], s.j_aspects[0]) is None
    assert panels.check(judge, s.entries[2], s.j_aspects[0]).code == panels.OUTSIDE_GROUP
    assert panels.check(judge, s.entries[0], s.j_aspects[1]).code == panels.OUTSIDE_GROUP
    # Judges in no group are not narrowed.
    assert panels.refusal(s.judges[1], s.entries[2], s.j_aspects[1]) is None


def test_group_without_entries_covers_all_entries(s):
    judge = s.judges[0]
    g = MarkingGroup.objects.create(skill=s.skill, name="aspects only")
    g.judges.add(judge)
    g.aspects.add(s.m_aspects[0])
    assert panels.refusal(judge, s.entries[3], s.m_aspects[0]) is None
    assert panels.refusal(judge, s.entries[3], s.m_aspects[1]) is not None


def test_union_of_groups(s):
    judge = s.judges[0]
    a = MarkingGroup.objects.create(skill=s.skill, name="a")
    b = MarkingGroup.objects.create(skill=s.skill, name="b")
    a.judges.add(judge)
    b.judges.add(judge)
    a.entries.add(s.entries[0])
    b.entries.add(s.entries[1])
    assert panels.refusal(judge, s.entries[0], s.j_aspects[0]) is None
    assert panels.refusal(judge, s.entries[1], s.j_aspects[0]) is None
    assert panels.refusal(judge, s.entries[2], s.j_aspects[0]) is not None


def test_groups_do_not_override_recusal(s):
    entry = s.entries[0]
    judge = f.judge(s.skill, delegation=entry.delegation)
    g = MarkingGroup.objects.create(skill=s.skill, name="g")
    g.judges.add(judge)
    g.entries.add(entry)
    assert panels.check(judge, entry, s.m_aspects[0]).code == panels.OWN_DELEGATION


def test_eligible_judges(s):
    assert set(panels.eligible_judges(s.skill)) == {j.pk for j in s.judges}
    assert set(panels.eligible_judges(s.skill, include_chief=True)) == {
        j.pk for j in [*s.judges, s.chief]
    }
    assert panels.chief_judge_id(s.skill) == s.chief.pk


def test_expected_judgement_judges(s):
    recused = f.judge(s.skill, delegation=s.entries[0].delegation)
    narrowed = s.judges[2]
    g = MarkingGroup.objects.create(skill=s.skill, name="g")
    g.judges.add(narrowed)
    g.entries.add(s.entries[1])
    g.aspects.add(s.j_aspects[1])
    Entry.objects.filter(pk=s.entries[3].pk).update(status=Entry.Status.WITHDRAWN)

    expected = panels.expected_judgement_judges(s.skill)

    base = {s.judges[0].pk, s.judges[1].pk}
    ranked = s.entries[:3]
    assert set(expected) == {(e.pk, a.pk) for e in ranked for a in s.j_aspects}
    assert expected[(s.entries[0].pk, s.j_aspects[0].pk)] == frozenset(base)
    assert expected[(s.entries[1].pk, s.j_aspects[0].pk)] == frozenset(base | {recused.pk})
    assert expected[(s.entries[1].pk, s.j_aspects[1].pk)] == frozenset(
        base | {recused.pk, narrowed.pk}
    )
    assert expected[(s.entries[2].pk, s.j_aspects[1].pk)] == frozenset(base | {recused.pk})
    assert all(s.chief.pk not in judges for judges in expected.values())


def test_expected_judgement_judges_query_count_does_not_grow():
    small = scheme_skill(n_entries=2, n_judges=2, j_aspects=["10", "10"], m_aspects=["80"])
    big = scheme_skill(n_entries=20, n_judges=6, j_aspects=["5"] * 12, m_aspects=["40"])
    for s in (small, big):
        g = MarkingGroup.objects.create(skill=s.skill, name="g")
        g.judges.add(s.judges[0])
        g.entries.add(s.entries[0])
    with CaptureQueriesContext(connection) as q_small:
        panels.expected_judgement_judges(small.skill)
    with CaptureQueriesContext(connection) as q_big:
        result = panels.expected_judgement_judges(big.skill)
    assert len(q_big) == len(q_small) <= 6
    assert len(result) == 20 * 12
