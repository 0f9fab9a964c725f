"""write_mark's fast path: few statements, and the same answers as the slow rules.

``write_mark`` no longer calls ``scheme_problems`` and ``panels.load_panel``
on every write: it reads one SQL boolean for the scheme and the panel facts of
one (judge, entry, aspect) in the statement that locks the skill. These tests
pin the statement count and check those shortcuts against the full rules.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from scoring import ledger, marks, panels, schemes, signoff
from scoring.marks import write_mark
from scoring.models import (
    Aspect,
    AspectKind,
    Criterion,
    DiscrepancyAcknowledgement,
    LedgerRecord,
    Mark,
    MarkingGroup,
    SkillMarking,
    SubCriterion,
)
from scoring.refusals import NotAllowed, SchemeIncomplete, StaleMark
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


# PostgreSQL writes the mark, the ledger record and the marking head in one
# statement; other databases (SQLite for a quick start) in three.
WRITES = 1 if connection.vendor == "postgresql" else 3


@pytest.fixture
def s():
    return scheme_skill(m_aspects=["2.50", "67.50"], j_aspects=["20", "10"])


def _write(s, value="1", **kw):
    kw.setdefault("entry", s.entries[0])
    kw.setdefault("aspect", s.m_aspects[0])
    kw.setdefault("judge", s.judges[0])
    return write_mark(value=value, **kw)


# -- statements ---------------------------------------------------------------------


def test_a_new_mark_costs_five_statements_on_postgresql(s, django_assert_max_num_queries):
    _write(s, entry=s.entries[1])  # the skill's marking state exists
    # SAVEPOINT (BEGIN outside tests), lock + facts, key + mark, the write, RELEASE (COMMIT).
    with django_assert_max_num_queries(4 + WRITES):
        result = _write(s, client_key="k-new")
    assert result.created and result.record.pk and result.mark.pk


def test_a_changed_judgement_score_costs_five_statements_on_postgresql(
    s, django_assert_max_num_queries
):
    _write(s, aspect=s.j_aspects[0], value="1")
    with django_assert_max_num_queries(4 + WRITES):
        result = _write(s, aspect=s.j_aspects[0], value="2", client_key="k-change")
    assert result.version == 2 and result.changed


def test_the_first_write_of_a_skill_creates_its_marking_state(s):
    assert not SkillMarking.objects.filter(skill=s.skill).exists()
    _write(s)
    assert SkillMarking.objects.get(skill=s.skill).ledger_length == 1


def test_writes_keep_the_chain_and_the_rows_as_save_would(s):
    first = _write(s, value="1", client_key="k1")
    again = _write(s, value="1", client_key="k2")  # confirmation
    changed = _write(s, value="2", expected_version=1, client_key="k3")
    j = _write(s, aspect=s.j_aspects[0], value="3")
    records = list(LedgerRecord.objects.filter(skill=s.skill).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert [(r.old_value, r.new_value) for r in records] == [
        (None, Decimal("1.00")),
        (Decimal("1.00"), Decimal("1.00")),
        (Decimal("1.00"), Decimal("2.00")),
        (None, Decimal("3.00")),
    ]
    assert all(r.mark_id is not None for r in records)
    assert [r.pk for r in records] == [
        first.record.pk,
        again.record.pk,
        changed.record.pk,
        j.record.pk,
    ]
    assert ledger.verify_ledger().ok
    mark = Mark.objects.get(pk=changed.mark.pk)
    assert (mark.value, mark.version) == (Decimal("2.00"), 2)
    assert mark.updated_at == changed.mark.updated_at
    marking = SkillMarking.objects.get(skill=s.skill)
    assert marking.ledger_head == records[-1].hash and marking.results_computed_at is None
    # The returned objects behave as saved ones: a record still refuses changes.
    with pytest.raises(Exception, match="append-only"):
        changed.record.save()


def test_a_refusal_then_a_write_on_the_same_connection(s):
    """A refusal rolls back (psycopg then drops any prepared statements);
    the next write on the same connection works."""
    _write(s, value="1")
    with pytest.raises(StaleMark):
        _write(s, value="2", expected_version=0)
    assert _write(s, value="2", expected_version=1).version == 2


def test_the_portable_path_writes_the_same(s, monkeypatch):
    """Other databases (SQLite) write with one ORM statement per row: the
    same rows and chain."""
    monkeypatch.setattr(marks, "_one_statement", lambda: False)
    created = _write(s, value="1", client_key="p1")
    confirmed = _write(s, value="1", client_key="p2")
    changed = _write(s, value="2.5", expected_version=1, client_key="p3")
    assert created.created and confirmed.record and changed.version == 2
    assert _write(s, value="9", client_key="p1").replayed
    assert LedgerRecord.objects.filter(skill=s.skill).count() == 3
    assert Mark.objects.get().value == Decimal("2.50")
    assert ledger.verify_ledger().ok


def test_a_changed_score_drops_the_acknowledgement_only_when_there_is_one(s):
    entry, aspect = s.entries[0], s.j_aspects[0]
    _write(s, entry=entry, aspect=aspect, judge=s.judges[0], value="0")
    _write(s, entry=entry, aspect=aspect, judge=s.judges[1], value="3")
    signoff.acknowledge_discrepancy(entry, aspect, s.chief.user, "seen")
    with CaptureQueriesContext(connection) as queries:
        _write(s, entry=entry, aspect=aspect, judge=s.judges[1], value="2")
    assert not DiscrepancyAcknowledgement.objects.exists()
    assert any("DELETE" in (q["sql"] or "") for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        _write(s, entry=entry, aspect=aspect, judge=s.judges[1], value="1")
    assert not any("DELETE" in (q["sql"] or "") for q in queries.captured_queries)


# -- the scheme: one SQL boolean, no cache --------------------------------------------


def _break(kind: str, s) -> None:
    """Give the scheme of ``s`` one problem of the given kind."""
    if kind == "total":
        Aspect.objects.filter(pk=s.m_aspects[0].pk).update(max_mark=Decimal("3.50"))
    elif kind == "no_aspects":
        Mark.objects.all().delete()
        Aspect.objects.filter(skill=s.skill).delete()
    elif kind == "criterion":
        Criterion.objects.filter(skill=s.skill, code="A").update(max_mark=Decimal("71"))
    elif kind == "other_skill":
        other = scheme_skill()
        sub = SubCriterion.objects.filter(criterion__skill=other.skill).first()
        Aspect.objects.filter(pk=s.m_aspects[0].pk).update(sub_criterion=sub)
    else:
        raise AssertionError(kind)


PROBLEMS = ["total", "no_aspects", "criterion", "other_skill"]


@pytest.mark.parametrize("kind", PROBLEMS)
def test_the_sql_scheme_check_agrees_with_scheme_problems(s, kind):
    assert not schemes.scheme_problems(s.skill) and not schemes.scheme_has_problem(s.skill)
    _break(kind, s)
    assert schemes.scheme_problems(s.skill)
    assert schemes.scheme_has_problem(s.skill)


def test_warnings_and_unstated_criteria_are_not_problems():
    s = scheme_skill(descriptors=False)  # J aspects without descriptors: warnings only
    Criterion.objects.filter(skill=s.skill, code="A").update(max_mark=None)
    assert schemes.scheme_warnings(s.skill) and not schemes.scheme_problems(s.skill)
    assert not schemes.scheme_has_problem(s.skill)


def test_two_decimal_totals_are_exact():
    s = scheme_skill(m_aspects=["33.33", "33.33"], j_aspects=["33.34"])
    assert not schemes.scheme_has_problem(s.skill)
    Aspect.objects.filter(pk=s.j_aspects[0].pk).update(max_mark=Decimal("33.35"))
    assert schemes.scheme_has_problem(s.skill) and schemes.scheme_problems(s.skill)


@pytest.mark.parametrize("kind", ["total", "criterion", "other_skill"])
def test_a_scheme_change_after_writes_is_seen_by_the_next_write(s, kind):
    """Nothing about the scheme is remembered between writes: a change made
    behind the admin's back (queryset update, no signals) refuses the next
    write at once, and the message comes from scheme_problems."""
    _write(s, value="1")
    _break(kind, s)
    with pytest.raises(SchemeIncomplete) as exc:
        _write(s, value="2")
    assert str(exc.value).endswith(" ".join(schemes.scheme_problems(s.skill)))
    assert Mark.objects.get().value == Decimal("1.00")


def test_a_repaired_scheme_opens_marking_again(s):
    Aspect.objects.filter(pk=s.m_aspects[0].pk).update(max_mark=Decimal("3.50"))
    with pytest.raises(SchemeIncomplete):
        _write(s)
    Aspect.objects.filter(pk=s.m_aspects[0].pk).update(max_mark=Decimal("2.50"))
    assert _write(s).created


# -- the panel: facts of one (judge, entry, aspect) -----------------------------------


def _panel_world():
    """Judges in every situation the panel rules know: free, recused, chief,
    unassigned, and narrowed by groups of entries, of aspects, of both, and
    a group listing nothing (covers everything)."""
    s = scheme_skill(n_entries=3, n_judges=6)
    e0, e1, _e2 = s.entries
    m0, _m1 = s.m_aspects
    j0, _j1 = s.j_aspects
    free, by_entry, by_aspect, by_both, two_groups, listing_nothing = s.judges
    recused = f.judge(s.skill, delegation=e0.delegation)
    stranger = f.judge()  # assigned to no skill
    other_skill_group = MarkingGroup.objects.create(skill=scheme_skill().skill, name="elsewhere")
    other_skill_group.judges.add(free)

    def group(name, judges, entries=(), aspects=()):
        g = MarkingGroup.objects.create(skill=s.skill, name=name)
        g.judges.add(*judges)
        g.entries.add(*entries)
        g.aspects.add(*aspects)

    group("entries", [by_entry, two_groups], entries=[e0])
    group("aspects", [by_aspect], aspects=[j0, m0])
    group("both", [by_both, two_groups], entries=[e1], aspects=[j0])
    group("nothing listed", [listing_nothing])
    judges = [*s.judges, recused, stranger, s.chief]
    return s, judges


def test_panel_facts_answer_as_the_whole_panel():
    s, judges = _panel_world()
    seen = set()
    for judge, entry, aspect in itertools.product(judges, s.entries, s.aspects):
        expected = panels.check(judge, entry, aspect)
        with transaction.atomic():
            facts = marks._lock_with_facts(s.skill.pk, entry.pk, judge.pk, aspect.pk)
        got = facts.panel(judge.pk).check(
            judge.pk, entry.pk, facts.entry_delegation_id, aspect.pk, aspect.kind
        )
        assert (got and got.code) == (expected and expected.code), (judge, entry, aspect)
        assert (got and got.message) == (expected and expected.message)
        seen.add(expected and expected.code)
    # Every rule was exercised, and some pairs are allowed.
    assert seen == {
        None,
        panels.NOT_ASSIGNED,
        panels.OWN_DELEGATION,
        panels.CHIEF_JUDGEMENT,
        panels.OUTSIDE_GROUP,
    }


def test_write_mark_refuses_outside_the_group_and_allows_inside():
    s, judges = _panel_world()
    by_both = judges[3]
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=s.entries[0], aspect=s.j_aspects[0], judge=by_both, value="1")
    assert exc.value.code == panels.OUTSIDE_GROUP
    assert write_mark(entry=s.entries[1], aspect=s.j_aspects[0], judge=by_both, value="1").created


def test_entry_facts_come_from_the_database(s):
    """The caller's entry object may be stale: status and delegation are read
    again (a judge moved into the entry's delegation is recused at once)."""
    entry = s.entries[0]
    judge = s.judges[0]
    judge.delegation = entry.delegation
    judge.save()
    with pytest.raises(NotAllowed) as exc:
        write_mark(entry=entry, aspect=s.m_aspects[0], judge=judge, value="1")
    assert exc.value.code == panels.OWN_DELEGATION
    assert AspectKind.MEASUREMENT == s.m_aspects[0].kind
