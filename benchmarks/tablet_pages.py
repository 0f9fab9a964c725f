"""The chief judge's board, its grid, the tablet poll and the judge's entry
page on the national preset, for the largest skill and a small one.

Builds (or with ``--reuse`` keeps) the national preset with every mark, as
``benchmarks.scoring`` does (its builder: COPY on PostgreSQL), then times
each page through Django's test ``Client`` (the whole request: middleware,
session or tablet cookie, view, template; no network), taking turns with a
floor so that a change of machine load hits all alike:

* floor: ``GET /healthz`` through the same client — what any request costs
  before the page does anything;
* chief board and grid refresh (the grid's HTML size too); with the board,
  ``scoring.services.marking_status`` alone ("its status": completeness and
  discrepancies, the scoring app's share of the board);
* tablet poll: answered 200 (no ``If-None-Match``) and 304 (the tablet sends
  back the ETag it was given and nothing changed);
* the judge's entry page (one competitor's marking sheet).

For the largest skill (51 entries, 60 aspects) and the smallest of the final,
to show which pages depend on the skill's size. Prints best and median of
each, the ratio of the medians to the floor, the median CPU time of this
process (Django's share, steadier than wall time on a shared machine), the
number of SQL statements of one request and the load average. After the
timings a mark written by another judge must turn the 304 into a 200
(checked; exit status 1 if not).

Runs with ``DJANGO_DEBUG=0`` (a throwaway secret key): debug query logging
would add to every page. ``python -m benchmarks.tablet_pages`` runs this file
alone (e.g. copied into a checkout of older code, to compare).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELP = "chief board, grid, tablet poll and entry page vs GET /healthz"

# Targets (docs/sizes.md), ms.
TARGETS = {"board": 100.0, "grid": 30.0, "poll 304": 5.0, "poll 200": 5.0, "entry page": 30.0}
GRID_BYTES_TARGET = 150_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("provincial", "national"), default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests of each page")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data built by a previous run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway SQLite file")


def run(args: argparse.Namespace) -> int:
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("PORTAL_LEDGER_KEY", "benchmark-tablet-pages")
    from benchmarks import django_env

    sqlite_file = Path(f"/tmp/portal-bench-pages-{os.getpid()}.sqlite3")
    database, migrate_seconds = django_env.setup(sqlite_file)
    from django.conf import settings
    from django.test.utils import override_settings

    # Static files unhashed: the manifest of hashed names needs collectstatic.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
    try:
        return _run(args, database, migrate_seconds)
    finally:
        if sqlite_file.exists() and not args.keep:
            sqlite_file.unlink()


# -- the data ---------------------------------------------------------------------------


def _final_with_marks(args: argparse.Namespace):
    from benchmarks import scoring as scoring_bench
    from competitions.models import Event
    from demo import builder as demo
    from scoring.models import Mark

    final = Event.objects.filter(code=demo.DEMO_EVENT_CODES[-1]).first()
    have_marks = final is not None and Mark.objects.filter(skill__event=final).exists()
    if not (args.reuse and have_marks):
        for label, seconds in scoring_bench._build(args).items():
            print(f"build: {label}: {seconds:.1f} s")
        final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    return final


def _pick_skills(final) -> list[tuple[Any, int]]:
    """The largest skill of the final and its smallest (≥ 2 entries), with their sizes."""
    from django.db.models import Count, Q

    from competitions.models import Skill
    from teams.models import Entry

    sized = list(
        Skill.objects.filter(event=final)
        .annotate(n=Count("entries", filter=Q(entries__status=Entry.Status.REGISTERED)))
        .filter(n__gte=2)
        .order_by("-n", "code")
    )
    largest, smallest = sized[0], sized[-1]
    return [(largest, largest.n), (smallest, smallest.n)]


def _organiser():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="bench-pages-organiser", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def _marked_pair(skill):
    """A judge and an entry they score (a J mark of theirs), and another
    judge who may write an M mark of that entry (for the change check)."""
    from scoring import panels
    from scoring.models import Aspect, AspectKind, Mark

    mark = Mark.objects.filter(skill=skill, kind=AspectKind.JUDGEMENT).order_by("id").first()
    entry, judge = mark.entry, mark.judge
    panel = panels.load_panel(skill)
    m_aspects = list(Aspect.objects.filter(skill=skill, kind=AspectKind.MEASUREMENT))
    for other in sorted(panel.judges):
        if other == judge.pk:
            continue
        for aspect in m_aspects:
            if panel.check(other, entry.pk, entry.delegation_id, aspect.pk, aspect.kind) is None:
                return judge, entry, other, aspect
    raise RuntimeError("no second judge may write an M mark of the entry")


# -- timing -----------------------------------------------------------------------------


@dataclass
class Timings:
    """Per measure: wall times, this process's CPU times (what Django spent,
    without the database server; steadier than wall time when the machine is
    shared) and the number of SQL statements of one run."""

    wall: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    queries: dict[str, int] = field(default_factory=dict)


def _interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> Timings:
    """Each function ``repeat`` times, in turns (see benchmarks/scoring.py),
    then once more counting its SQL statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = Timings()
    for _ in range(repeat):
        for name, fn in fns.items():
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            out.wall[name].append(time.perf_counter() - wall)
            out.cpu[name].append(time.process_time() - cpu)
    for name, fn in fns.items():
        with CaptureQueriesContext(connection) as captured:
            fn()
        out.queries[name] = len(captured)
    return out


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def _ok(response, *statuses: int):
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request['PATH_INFO']}: HTTP {response.status_code}")
    return response


def _pages(skill, organiser) -> tuple[dict[str, Callable[[], object]], dict]:
    """The requests to time for one skill, and facts about them."""
    from django.test import Client
    from django.urls import reverse

    from scoring import services as scoring
    from tablets import services
    from tablets.auth import COOKIE
    from tablets.models import TabletSession

    judge, entry, other, m_aspect = _marked_pair(skill)
    chief = Client(SERVER_NAME="localhost")
    chief.force_login(organiser, backend="django.contrib.auth.backends.ModelBackend")
    tablet = Client(SERVER_NAME="localhost")
    _session, token = services.start_session(judge, via=TabletSession.Via.PIN)
    tablet.cookies[COOKIE] = token
    board = reverse("tablets:board", kwargs={"skill_pk": skill.pk})
    grid = reverse("tablets:board_grid", kwargs={"skill_pk": skill.pk})
    poll = reverse("tablets:api_poll", kwargs={"skill_pk": skill.pk}) + f"?entry={entry.pk}"
    page = reverse("tablets:entry", kwargs={"skill_pk": skill.pk, "no": entry.competitor_no})
    first = _ok(tablet.get(poll, secure=True), 200)
    etag = first.headers.get("ETag", "")
    facts = {
        "grid bytes": len(_ok(chief.get(grid, secure=True), 200).content),
        "board bytes": len(_ok(chief.get(board, secure=True), 200).content),
        "etag": etag,
        "poll": poll,
        "tablet": tablet,
        "judge": judge,
        "entry": entry,
        "other": other,
        "m_aspect": m_aspect,
    }
    conditional = {"If-None-Match": etag} if etag else {}
    _ok(tablet.get(page, secure=True), 200)
    fns: dict[str, Callable[[], object]] = {
        "floor": lambda: _ok(chief.get("/healthz", secure=True), 200),
        "board": lambda: _ok(chief.get(board, secure=True), 200),
        # What the board asks the scoring app (not the tablets app's to speed up).
        "  its status": lambda: scoring.marking_status(skill),
        "grid": lambda: _ok(chief.get(grid, secure=True), 200),
        "poll 200": lambda: _ok(tablet.get(poll, secure=True), 200),
        "poll 304": lambda: _ok(tablet.get(poll, secure=True, headers=conditional), 200, 304),
        "entry page": lambda: _ok(tablet.get(page, secure=True), 200),
    }
    return fns, facts


def _change_check(skill, facts: dict) -> str:
    """A mark by another judge must end the 304s: the tablet learns of it."""
    from scoring import services as scoring
    from scoring.models import Mark
    from teams.models import Judge

    tablet, poll, etag = facts["tablet"], facts["poll"], facts["etag"]
    if not etag:
        return "no ETag (older code): every poll is a 200"
    if tablet.get(poll, secure=True, headers={"If-None-Match": etag}).status_code != 304:
        return "FAIL: unchanged poll not answered 304"
    other = Judge.objects.get(pk=facts["other"])
    current = Mark.objects.filter(entry=facts["entry"], aspect=facts["m_aspect"]).first()
    scoring.write_mark(
        entry=facts["entry"],
        aspect=facts["m_aspect"],
        judge=other,
        value="0.5" if current is not None and current.value == 0 else "0",
        actor_id=other.user_id,
        client_key=f"bench-pages-{secrets.token_hex(8)}",
        source="tablet",
    )
    after = tablet.get(poll, secure=True, headers={"If-None-Match": etag})
    if after.status_code != 200 or after.headers.get("ETag") == etag:
        return "FAIL: a new mark left the poll at 304"
    return "ok: 304 while unchanged, 200 with a new ETag after another judge's mark"


def _report(label: str, timings: Timings, facts: dict) -> None:
    floor = statistics.median(timings.wall["floor"])
    print(f"\n{label}")
    print(
        f"  {'measure':<14} {'best':>9} {'median':>9} {'× floor':>8} {'CPU med':>9}"
        f" {'SQL':>4}  target (median)"
    )
    for name, ts in timings.wall.items():
        med = statistics.median(ts)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"≤ {target:g} ms {'PASS' if med * 1000 <= target else 'MISS'}"
        best, cpu = min(ts) * 1000, statistics.median(timings.cpu[name]) * 1000
        print(
            f"  {name:<14} {best:7.2f}ms {med * 1000:7.2f}ms {med / floor:7.1f}×"
            f" {cpu:7.2f}ms {timings.queries[name]:4d}  {verdict}"
        )
    size = facts["grid bytes"]
    print(
        f"  grid HTML {size / 1000:.1f} KB (target ≤ {GRID_BYTES_TARGET / 1000:g} KB "
        f"{'PASS' if size <= GRID_BYTES_TARGET else 'MISS'}); board HTML "
        f"{facts['board bytes'] / 1000:.1f} KB; poll ETag {'yes' if facts['etag'] else 'no'}"
    )


def _run(args: argparse.Namespace, database: str, migrate_seconds: float) -> int:
    from django.db import connection

    from scoring.models import Mark

    print(f"database: {database} (migrate {migrate_seconds:.2f} s)")
    final = _final_with_marks(args)
    print(f"data: {Mark.objects.filter(skill__event=final).count()} marks in the final")
    organiser = _organiser()
    failed = False
    for skill, size in _pick_skills(final):
        fns, facts = _pages(skill, organiser)
        _interleaved(fns, 2)  # warm: templates, prepared statements
        before = _load()
        timings = _interleaved(fns, args.repeat)
        label = (
            f"{skill.code} ({size} entries) · {connection.vendor}"
            f" · before {before}, after {_load()}"
        )
        _report(label, timings, facts)
        check = _change_check(skill, facts)
        print(f"  change check: {check}")
        failed = failed or check.startswith("FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tablet_pages", description=HELP)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
