"""The mark endpoint's cost in statements, so the gain stays.

One tap: the session with its judge, the entry and aspect (with whether a
re-mark request is open), then write_mark's lock, state and one write —
seven statements counting the savepoint (BEGIN/COMMIT outside tests).
``last_seen_at`` is written at most once a minute, and the re-mark UPDATE
only when a request is open.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tablets import services
from tablets.models import RemarkRequest, TabletSession

pytestmark = pytest.mark.django_db

# session, entry+aspect, SAVEPOINT, lock, state, write, RELEASE; the write is
# three statements instead of one on databases other than PostgreSQL.
TAP = 7 if connection.vendor == "postgresql" else 9


def _sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] or "" for q in queries.captured_queries]


def test_a_tap_costs_seven_statements(world, tablet, post_mark, django_assert_max_num_queries):
    client, _ = tablet(world.jb)
    post_mark(client, world.entries["101"], world.aspect("M1"), "1", "warm", ev=0)
    with django_assert_max_num_queries(TAP):
        response = post_mark(client, world.entries["103"], world.aspect("J1"), "2", "q-1", ev=0)
    assert response.status_code == 200
    assert response.json() == {"status": "saved", "value": "2", "version": 1, "replayed": False}


def test_a_change_and_a_replay_cost_no_more(
    world, tablet, post_mark, django_assert_max_num_queries
):
    client, _ = tablet(world.jb)
    entry, aspect = world.entries["103"], world.aspect("M2")
    post_mark(client, entry, aspect, "1", "c-1", ev=0)
    with django_assert_max_num_queries(TAP):
        assert post_mark(client, entry, aspect, "2", "c-2", ev=1).json()["version"] == 2
    # A replay reads the original record and the mark again: still bounded.
    with django_assert_max_num_queries(TAP + 2):
        assert post_mark(client, entry, aspect, "1", "c-1", ev=0).json()["replayed"] is True


def test_refusals_are_as_cheap(world, tablet, post_mark, django_assert_max_num_queries):
    client, _ = tablet(world.ja)  # delegation A: recused from 101
    post_mark(client, world.entries["102"], world.aspect("M1"), "1", "warm")  # marking state
    with django_assert_max_num_queries(TAP):
        response = post_mark(client, world.entries["101"], world.aspect("J1"), "2", "r-1")
    assert response.status_code == 403 and response.json()["code"] == "own_delegation"


def test_an_unknown_entry_costs_two_statements(
    world, tablet, post_mark, django_assert_max_num_queries
):
    client, _ = tablet(world.jb)
    entry = world.entries["101"]
    entry.pk = 10**9  # not saved: an id nobody has
    with django_assert_max_num_queries(2):
        response = post_mark(client, entry, world.aspect("J1"), "2", "u-1")
    assert response.status_code == 404


def test_last_seen_is_written_at_most_once_a_minute(world, tablet, post_mark):
    client, session = tablet(world.jb)
    update = 'UPDATE "tablets_tabletsession"'
    with CaptureQueriesContext(connection) as queries:
        post_mark(client, world.entries["101"], world.aspect("M1"), "1", "s-1")
        post_mark(client, world.entries["102"], world.aspect("M1"), "1", "s-2")
    assert not any(q.startswith(update) for q in _sql(queries))
    earlier = timezone.now() - services.LAST_SEEN_EVERY - dt.timedelta(seconds=1)
    TabletSession.objects.filter(pk=session.pk).update(last_seen_at=earlier)
    with CaptureQueriesContext(connection) as queries:
        post_mark(client, world.entries["103"], world.aspect("M1"), "1", "s-3")
        post_mark(client, world.entries["104"], world.aspect("M1"), "1", "s-4")
    assert sum(q.startswith(update) for q in _sql(queries)) == 1
    assert TabletSession.objects.get(pk=session.pk).last_seen_at > earlier


def test_the_remark_update_runs_only_when_a_request_is_open(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    entry, aspect = world.entries["103"], world.aspect("J2")
    update = 'UPDATE "tablets_remarkrequest"'
    with CaptureQueriesContext(connection) as queries:
        post_mark(client, entry, aspect, "1", "m-1", ev=0)
    assert not any(q.startswith(update) for q in _sql(queries))
    # Another judge's open request on a J aspect is not this judge's to resolve.
    services.request_remark(entry, aspect, [world.jc], world.organiser, "")
    with CaptureQueriesContext(connection) as queries:
        post_mark(client, entry, aspect, "2", "m-2", ev=1)
    assert not any(q.startswith(update) for q in _sql(queries))
    services.request_remark(entry, aspect, [world.jb], world.organiser, "再看看")
    post_mark(client, entry, aspect, "3", "m-3", ev=2)
    assert RemarkRequest.objects.get(judge=world.jb).resolved_at is not None
    assert RemarkRequest.objects.get(judge=world.jc).resolved_at is None


def test_an_open_measurement_request_is_resolved_by_any_judge(world, tablet, post_mark):
    entry, aspect = world.entries["103"], world.aspect("M2")
    services.request_remark(entry, aspect, [world.jc], world.organiser, "")
    client, _ = tablet(world.jb)
    assert post_mark(client, entry, aspect, "4", "mm-1", ev=0).status_code == 200
    assert RemarkRequest.objects.get().resolved_at is not None


def test_a_revoked_session_is_refused_at_the_next_tap(world, tablet, post_mark):
    client, session = tablet(world.jb)
    assert (
        post_mark(client, world.entries["101"], world.aspect("M1"), "1", "v-1").status_code == 200
    )
    services.end_session(session)
    response = post_mark(client, world.entries["102"], world.aspect("M1"), "1", "v-2")
    assert response.status_code == 401 and response.json()["status"] == "signed_out"
