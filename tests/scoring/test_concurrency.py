"""Parallel writers on PostgreSQL: no lost update, no duplicate, idempotent retries.

Each thread uses its own database connection (Django gives one per thread)
and closes it at the end; a barrier releases them together.
"""

from __future__ import annotations

import itertools
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from scoring import ledger
from scoring.marks import write_mark
from scoring.models import LedgerRecord, Mark, SkillMarking
from scoring.refusals import MarkRefused, StaleMark

from .builders import scheme_skill

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

N = 8


def _run_parallel(fn, n=N):
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def worker(i):
        try:
            barrier.wait()
            outcomes[i] = fn(i)
        except Exception as exc:  # collected for the assertions
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_blind_writes_to_one_mark():
    s = scheme_skill(n_judges=N)
    entry, aspect = s.entries[0], s.m_aspects[0]
    values = [Decimal(i + 1) for i in range(N)]

    outcomes = _run_parallel(
        lambda i: write_mark(entry=entry, aspect=aspect, judge=s.judges[i], value=values[i])
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Mark.objects.filter(entry=entry, aspect=aspect).count() == 1
    mark = Mark.objects.get(entry=entry, aspect=aspect)
    records = list(LedgerRecord.objects.filter(skill=s.skill).order_by("seq"))
    assert [r.seq for r in records] == list(range(1, N + 1))
    assert mark.value in values and mark.value == records[-1].new_value
    assert mark.version == N
    # Every record's old value is its predecessor's new value: no update lost.
    assert records[0].old_value is None
    for prev, rec in itertools.pairwise(records):
        assert rec.old_value == prev.new_value
    assert sorted(r.new_value for r in records) == values
    marking = SkillMarking.objects.get(skill=s.skill)
    assert marking.ledger_length == N and marking.ledger_head == records[-1].hash
    assert ledger.verify_ledger().ok


def test_create_only_writes_let_exactly_one_win():
    s = scheme_skill(n_judges=N)
    entry, aspect = s.entries[0], s.m_aspects[1]

    outcomes = _run_parallel(
        lambda i: write_mark(
            entry=entry, aspect=aspect, judge=s.judges[i], value=str(i + 1), expected_version=0
        )
    )

    won = [o for o in outcomes if not isinstance(o, Exception)]
    stale = [o for o in outcomes if isinstance(o, StaleMark)]
    assert len(won) == 1 and len(stale) == N - 1, outcomes
    assert all(o.current_version == 1 for o in stale)
    assert Mark.objects.get(entry=entry, aspect=aspect).value == won[0].value
    assert LedgerRecord.objects.filter(skill=s.skill).count() == 1


def test_retries_with_one_client_key_write_once():
    s = scheme_skill()
    entry, aspect, judge = s.entries[0], s.j_aspects[0], s.judges[0]

    outcomes = _run_parallel(
        lambda i: write_mark(
            entry=entry, aspect=aspect, judge=judge, value="2", client_key="tablet-7-tap-99"
        )
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(1 for o in outcomes if o.replayed) == N - 1
    assert sum(1 for o in outcomes if o.created) == 1
    assert LedgerRecord.objects.filter(client_key="tablet-7-tap-99").count() == 1
    assert Mark.objects.filter(entry=entry, aspect=aspect).count() == 1


def test_parallel_first_writes_to_a_new_skill_create_one_marking_state():
    s = scheme_skill(n_entries=N)
    outcomes = _run_parallel(
        lambda i: write_mark(
            entry=s.entries[i], aspect=s.m_aspects[0], judge=s.judges[0], value="1"
        )
    )
    assert not [o for o in outcomes if isinstance(o, MarkRefused | Exception)], outcomes
    assert SkillMarking.objects.filter(skill=s.skill).count() == 1
    assert SkillMarking.objects.get(skill=s.skill).ledger_length == N
    assert ledger.verify_ledger().ok
