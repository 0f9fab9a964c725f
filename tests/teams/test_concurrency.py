"""Two registrations at the same moment, on two threads with their own
database connections (real transactions, PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from teams import services
from teams.models import Entry, EntryMember, Quota
from tests import factories as f

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL)"
    ),
]


def _blocked_on_a_lock() -> bool:
    """Whether another session of this database waits for a row lock now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh, not this transaction's
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def _race(monkeypatch, calls) -> list:
    """Run ``calls`` at once. Each call, once past the quota and once-per-event
    checks and before inserting, waits until every other call has got as far
    (then the lock is missing and both saw a free place) or until another
    session is blocked on the row lock (the lock works): a barrier on what
    happened, not a sleep that hopes the other thread was fast enough."""
    real = services._new_competitor_no
    arrived = {"n": 0}
    guard = threading.Lock()

    def slow_number() -> str:
        with guard:
            arrived["n"] += 1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with guard:
                if arrived["n"] >= len(calls):
                    break
            if _blocked_on_a_lock():
                break
            time.sleep(0.01)
        return real()

    monkeypatch.setattr(services, "_new_competitor_no", slow_number)
    start = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            start.wait()
            outcomes[i] = call()
        except ValidationError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # surfaced by the assertions below
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_simultaneous_registrations_cannot_exceed_the_quota(world, monkeypatch):
    Quota.objects.filter(skill=world.skill, delegation=world.del_a).update(max_entries=1)
    a1 = f.athlete(delegation=world.del_a)
    a2 = f.athlete(delegation=world.del_a)
    outcomes = _race(
        monkeypatch,
        [
            lambda: services.register_entry(world.del_a, world.skill, [a1]),
            lambda: services.register_entry(world.del_a, world.skill, [a2]),
        ],
    )
    assert sorted(o if isinstance(o, str) else "entry" for o in outcomes) == [
        "entry",
        "quota_full",
    ], outcomes
    assert Entry.objects.filter(skill=world.skill, delegation=world.del_a).count() == 1


def test_one_athlete_in_two_skills_at_once_is_entered_only_once(world, monkeypatch):
    """Different skills lock different quota rows, so only the database's
    athlete_once_per_event constraint stops the second entry; the service
    turns its IntegrityError into the usual message and keeps nothing."""
    athlete = f.athlete(delegation=world.del_a)
    partner = f.athlete(delegation=world.del_a)
    outcomes = _race(
        monkeypatch,
        [
            lambda: services.register_entry(world.del_a, world.skill, [athlete]),
            lambda: services.register_entry(world.del_a, world.team_skill, [athlete, partner]),
        ],
    )
    assert sorted(o if isinstance(o, str) else "entry" for o in outcomes) == [
        "already_entered",
        "entry",
    ], outcomes
    assert EntryMember.objects.filter(athlete=athlete).count() == 1
    assert Entry.objects.filter(delegation=world.del_a).count() == 1
