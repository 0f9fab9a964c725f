"""Results of a skill on the database: scoring.results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import pytest

from competitions.models import Skill
from scoring import panels, results, results_data
from scoring.models import (
    Aspect,
    AspectKind,
    Criterion,
    EntryResult,
    Mark,
    MarkingGroup,
    SkillMarking,
    SubCriterion,
)
from teams.models import Entry, Judge, JudgeAssignment
from tests import factories as f

pytestmark = pytest.mark.django_db


# -- builders shared by the results, export, consistency and view tests ---------------


@dataclass
class Scheme:
    skill: Skill
    judges: list[Judge]
    chief: Judge
    aspects: dict[str, Aspect] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)


def build_scheme(
    aspects: dict[str, tuple[str, str]],
    *,
    entries: Sequence[str] = ("1", "2", "3"),
    judges: int = 3,
    **skill_kw,
) -> Scheme:
    """A skill with aspects {code: (kind, max_mark)}, entries of distinct
    delegations, ``judges`` panel judges (own delegations) and a chief."""
    skill = f.skill(**skill_kw)
    crit = Criterion.objects.create(skill=skill, code="A", name="模块A")
    sub = SubCriterion.objects.create(criterion=crit, code="A1", name="子模块A1")
    scheme = Scheme(
        skill=skill,
        judges=[f.judge(skill) for _ in range(judges)],
        chief=f.judge(skill, role="chief"),
    )
    for order, (code, (kind, max_mark)) in enumerate(aspects.items()):
        scheme.aspects[code] = Aspect.objects.create(
            skill=skill,
            sub_criterion=sub,
            code=code,
            kind=kind,
            description=code,
            max_mark=Decimal(max_mark),
            order=order,
        )
    for no in entries:
        scheme.entries[no] = f.entry(skill, competitor_no=no)
    return scheme


def put(scheme: Scheme, no: str, code: str, *values) -> None:
    """M: put(s, "1", "M1", "7.5"); J: put(s, "1", "J1", 3, 2, 3) (one per judge)."""
    entry, aspect = scheme.entries[no], scheme.aspects[code]
    if aspect.kind == AspectKind.MEASUREMENT:
        (value,) = values
        Mark.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            kind="M",
            defaults={"skill": scheme.skill, "judge": scheme.chief, "value": Decimal(value)},
        )
        return
    for judge, value in zip(scheme.judges, values, strict=False):
        if value is None:
            continue
        Mark.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            judge=judge,
            kind="J",
            defaults={"skill": scheme.skill, "value": Decimal(value)},
        )


SIMPLE = {"M1": ("M", "40"), "J1": ("J", "30"), "J2": ("J", "30")}


def fill(scheme: Scheme, no: str, m1: str, j1: tuple, j2: tuple) -> None:
    put(scheme, no, "M1", m1)
    put(scheme, no, "J1", *j1)
    put(scheme, no, "J2", *j2)


# -- tests ------------------------------------------------------------------------


def test_complete_skill_ranks_and_scales():
    s = build_scheme(SIMPLE, entries=["1", "2", "3", "4"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))  # 100
    fill(s, "2", "30", (2, 2, 2), (2, 2, 2))  # 30 + 20 + 20 = 70
    fill(s, "3", "30", (2, 2, 2), (2, 2, 2))  # 70
    fill(s, "4", "10.25", (1, 2, 2), (0, 0, 1))  # 10.25 + 50/3 + 10/3 = 30.25
    res = results.compute_skill(s.skill)
    by_no = {e.competitor_no: e for e in res.entries}
    assert [e.competitor_no for e in res.entries] == ["1", "2", "3", "4"]
    assert [by_no[n].rank for n in "1234"] == [1, 2, 2, 4]
    assert by_no["4"].final_score == Decimal("30.25")
    assert by_no["1"].final_score == Decimal("100.00")
    assert all(e.complete for e in res.entries) and res.complete
    # med = 70, MAD = median(30, 0, 0, 39.75) = 15 → D = 22.239
    # S(100) = 700 + 30·30/22.239 = 740.47 → 740; S(30.25) = 700 − 53.62 → 646
    assert [by_no[n].scale_score for n in "1234"] == [740, 700, 700, 646]
    # J1 of entry 4 has scores 1, 2, 2: spread 1, not more than the tolerance 1.
    assert by_no["4"].discrepancies == ()


def test_absent_and_withdrawn_are_not_ranked():
    s = build_scheme(SIMPLE, entries=["1", "2", "3"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    fill(s, "2", "20", (3, 3, 3), (3, 3, 3))
    Entry.objects.filter(pk=s.entries["2"].pk).update(status=Entry.Status.WITHDRAWN)
    Entry.objects.filter(pk=s.entries["3"].pk).update(status=Entry.Status.ABSENT)
    res = results.compute_skill(s.skill)
    by_no = res.by_entry()
    e1, e2, e3 = (by_no[s.entries[n].pk] for n in "123")
    assert (e1.rank, e1.scale_score) == (1, 700)  # alone: all equal → 700
    assert e2.rank is None and e2.final_score is None and not e2.ranked
    assert e2.raw_total == 80  # its marks are kept, partial total shown
    assert e3.rank is None and e3.raw_total is None and e3.missing == ()
    assert [e.competitor_no for e in res.entries] == ["1", "2", "3"]
    assert res.complete  # absent entries need no marks


def test_incomplete_reported_by_aspect_and_judge():
    s = build_scheme(SIMPLE, entries=["1", "2"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    put(s, "2", "J1", 3, None, 2)  # second judge missing; M1 and J2 not marked
    res = results.compute_skill(s.skill)
    e2 = res.by_entry()[s.entries["2"].pk]
    assert not e2.complete and not res.complete
    assert e2.rank is None and e2.final_score is None and e2.scale_score is None
    assert e2.raw_total == 25  # J1 partial: 30 × 2.5 / 3
    expected = [("J1", s.judges[1].code), ("M1", None)] + [("J2", j.code) for j in s.judges]
    assert sorted((m.aspect_code, m.judge_code) for m in e2.missing) == sorted(expected)
    e1 = res.by_entry()[s.entries["1"].pk]
    assert (e1.rank, e1.final_score) == (1, Decimal("100.00"))


def test_recused_and_grouped_judges_are_not_expected():
    s = build_scheme(SIMPLE, entries=["1"], judges=4)
    # Judge 4 is of the entry's delegation: recused, never expected.
    Judge.objects.filter(pk=s.judges[3].pk).update(delegation=s.entries["1"].delegation)
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    assert results.compute_skill(s.skill).complete
    # Narrow judge 3 to J2 only: still complete (they scored J2).
    g = MarkingGroup.objects.create(skill=s.skill, name="G")
    g.judges.add(s.judges[2])
    g.aspects.add(s.aspects["J2"])
    assert results.compute_skill(s.skill).complete


def test_discrepancy_flags_and_trimmed_mean():
    s = build_scheme(
        {"J1": ("J", "60"), "M1": ("M", "40")},
        entries=["1"],
        judges=5,
        judgement_aggregation="trimmed",
    )
    put(s, "1", "J1", 0, 3, 3, 2, 3)  # trimmed: drop 0 and one 3 → (3+2+3)/3 = 8/3
    put(s, "1", "M1", "0.01")
    res = results.compute_skill(s.skill)
    (e,) = res.entries
    assert e.raw_total == Fraction(1, 100) + Fraction(60 * 8, 9)  # 53.343333…
    assert e.final_score == Decimal("53.34")
    assert e.discrepancies == (s.aspects["J1"].pk,)
    assert res.discrepancies == [(e.entry_id, s.aspects["J1"].pk)]


def test_recompute_stores_rows_and_follows_a_mark_change():
    s = build_scheme(SIMPLE, entries=["1", "2"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    fill(s, "2", "20", (3, 3, 3), (3, 3, 3))
    results.recompute_skill(s.skill)
    marking = SkillMarking.objects.get(skill=s.skill)
    assert marking.results_computed_at is not None
    rows = {r.entry.competitor_no: r for r in results.results_for(s.skill)}
    assert (rows["1"].rank, rows["1"].final_score, rows["1"].complete) == (
        1,
        Decimal("100.00"),
        True,
    )
    assert rows["2"].raw_total == Decimal("80.000000")
    assert EntryResult.objects.filter(skill=s.skill).count() == 2

    put(s, "2", "M1", "40.00")  # a later mark: updated_at is newer → stale
    put(s, "1", "M1", "39.99")
    rows = {r.entry.competitor_no: r for r in results.results_for(s.skill)}
    assert (rows["2"].rank, rows["2"].final_score) == (1, Decimal("100.00"))
    assert (rows["1"].rank, rows["1"].final_score) == (2, Decimal("99.99"))


def test_results_for_recomputes_after_withdrawal_and_when_never_computed():
    s = build_scheme(SIMPLE, entries=["1", "2"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    fill(s, "2", "20", (3, 3, 3), (3, 3, 3))
    rows = results.results_for(s.skill)  # never computed: computes
    assert [r.rank for r in rows] == [1, 2]
    Entry.objects.filter(pk=s.entries["1"].pk).update(status=Entry.Status.WITHDRAWN)
    rows = results.results_for(s.skill)
    assert [(r.entry.competitor_no, r.rank) for r in rows] == [("2", 1), ("1", None)]
    Entry.objects.filter(pk=s.entries["1"].pk).update(status=Entry.Status.REGISTERED)
    rows = results.results_for(s.skill)
    assert [(r.entry.competitor_no, r.rank) for r in rows] == [("1", 1), ("2", 2)]


def test_query_count_does_not_grow_with_entries(django_assert_max_num_queries):
    s = build_scheme(SIMPLE, entries=[str(i) for i in range(1, 21)])
    for no in s.entries:
        fill(s, no, "20", (1, 2, 3), (3, 3, 3))
    put(s, "1", "J1", 3, 3, 0)
    with django_assert_max_num_queries(12):
        res = results.compute_skill(s.skill)
    assert [e.rank for e in res.entries][:2] == [1, 1]


def test_python_grouping_matches_database_grouping(monkeypatch):
    s = build_scheme(SIMPLE, entries=["1", "2", "3"])
    fill(s, "1", "40", (3, 2, 3), (3, 0, 3))
    fill(s, "2", "12.34", (1, 2, 3), (3, 3, 3))
    put(s, "3", "J1", 1, None, 3)
    on_db = results.compute_skill(s.skill)
    monkeypatch.setattr(results.connection, "vendor", "sqlite")
    in_python = results.compute_skill(s.skill)
    assert on_db.entries == in_python.entries


def test_results_read_the_same_panels_as_load_panels():
    """The results statement reads panels itself (PostgreSQL); they must be
    the panels ``load_panels`` gives: judges, chief, groups and their covers."""
    s = build_scheme(SIMPLE, entries=["1", "2", "3"], judges=4)
    by_entries = MarkingGroup.objects.create(skill=s.skill, name="E")
    by_entries.judges.add(s.judges[0], s.judges[1])
    by_entries.entries.add(s.entries["1"], s.entries["2"])
    by_aspects = MarkingGroup.objects.create(skill=s.skill, name="A")
    by_aspects.judges.add(s.judges[1], s.judges[2])
    by_aspects.aspects.add(s.aspects["J2"])
    expected = panels.load_panels([s.skill.pk])
    rows = panels._group_rows([s.skill.pk], None)
    assignments = JudgeAssignment.objects.filter(skill=s.skill).values_list(
        "skill_id", "judge_id", "judge__delegation_id", "role"
    )
    assert panels.panels_from_rows([s.skill.pk], assignments, rows) == expected
    loaded = results_data.load([s.skill.pk]).panels
    assert loaded is None or loaded == expected  # None: the ORM path loads them
