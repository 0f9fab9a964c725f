"""Results recompute when the panel changes, not only when a mark does."""

import pytest

from scoring.marks import write_mark
from scoring.models import MarkingGroup, SkillMarking
from scoring.results import recompute_skill, results_for
from scoring.signoff import reopen, sign_off
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


def fully_marked():
    s = scheme_skill(n_entries=2, n_judges=3)
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="10")
        for aspect in s.j_aspects:
            for judge in s.judges:
                write_mark(entry=entry, aspect=aspect, judge=judge, value="2")
    recompute_skill(s.skill)
    return s


def stamp(skill):
    return SkillMarking.objects.get(skill=skill).results_computed_at


def test_a_judge_added_to_the_panel_makes_entries_incomplete():
    s = fully_marked()
    assert all(r.complete for r in results_for(s.skill))
    f.judge(s.skill)  # a new judge is now expected on every judgement aspect
    assert stamp(s.skill) is None
    assert not any(r.complete for r in results_for(s.skill))


def test_marking_group_changes_mark_results_stale():
    s = fully_marked()
    group = MarkingGroup.objects.create(skill=s.skill, name="第一组")
    assert stamp(s.skill) is None
    recompute_skill(s.skill)
    group.judges.add(s.judges[0])
    assert stamp(s.skill) is None
    recompute_skill(s.skill)
    s.judges[1].marking_groups.add(group)  # from the judge's side
    assert stamp(s.skill) is None


def test_a_signed_off_skill_keeps_its_final_results_until_reopened():
    s = fully_marked()
    sign_off(s.skill, f.organiser())
    final = [(r.entry_id, r.final_score, r.rank) for r in results_for(s.skill)]
    assert all(rank is not None for _e, _f, rank in final)
    f.judge(s.skill)  # added after sign-off: nobody can mark for them now
    assert stamp(s.skill) is not None
    assert [(r.entry_id, r.final_score, r.rank) for r in results_for(s.skill)] == final
    reopen(s.skill, f.organiser(), "a judge was missing from the panel")
    assert not any(r.complete for r in results_for(s.skill))
