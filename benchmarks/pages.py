"""The organiser's event dashboard and a lead's dashboard and Excel, timed
through Django's test client against a floor timed in the same run.

Builds the scoring benchmark's final (``benchmarks.scoring``: the preset's
delegations, skills and entries, a 60-aspect scheme per skill and every
mark) unless ``--reuse`` finds it built, then times, in turns (``--repeat``
rounds; each page and its floor one after the other, so machine load hits
both alike):

while marking (every skill open):

* the organiser's event dashboard with every skill's stored results fresh
  (a worker refreshed them), and with every skill stale (marks written since:
  ``SkillMarking.results_computed_at`` cleared);

after publication (every skill signed off — results stored after the
sign-off — awards computed, published):

* the organiser's event dashboard;
* the demo lead's dashboard and the lead's Excel (``lead_workbook``).

The floor of each page is ``/healthz`` through the same client (request,
session, middleware: what no page can avoid) plus the one query the page
cannot avoid (the event's skills for the organiser; the delegation's
entries for the lead). Prints medians (and best), the ratio page / floor and
each page's query count; the load average before and after. The same file
run from another checkout (``git worktree``) times that checkout's code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import django_env

HELP = "organiser dashboard, lead dashboard and lead Excel (with every mark) vs a floor"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("provincial", "national"), default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=9, help="timed rounds")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the marks built by a previous run"
    )


def run(args: argparse.Namespace) -> int:
    sqlite_file = Path(f"/tmp/portal-bench-pages-{os.getpid()}.sqlite3")
    database, _migrate = django_env.setup(sqlite_file)
    try:
        return _run(args, database)
    finally:
        if sqlite_file.exists():
            sqlite_file.unlink()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def _reset_to_marking(final) -> None:
    """Every skill open again, nothing published or awarded; results stored."""
    from awards.models import Award, Certificate
    from competitions.models import Skill, SkillPublication
    from scoring.models import SkillMarking
    from scoring.results import recompute_skill

    skills = list(final.skills.order_by("code"))
    Certificate.objects.filter(event=final).delete()
    Award.objects.filter(skill__in=skills).delete()
    SkillPublication.objects.filter(skill__in=skills).delete()
    SkillMarking.objects.filter(skill__in=skills).update(
        status=SkillMarking.Status.OPEN, signed_off_at=None, signed_off_by=None
    )
    # The dashboard's figures too, where the code has them (not on main).
    store: Callable[[Skill], object] = recompute_skill
    if importlib.util.find_spec("results.refresh") is not None:
        store = importlib.import_module("results.refresh").store_progress
    for skill in skills:
        store(skill)


def _publish_all(final, organiser) -> None:
    """Signed off (results stored after it), awards computed, published."""
    from django.utils import timezone

    from awards import awarding
    from competitions.models import SkillPublication
    from scoring.models import SkillMarking
    from scoring.results import recompute_skill

    skills = list(final.skills.order_by("code"))
    signed = timezone.now() - dt.timedelta(minutes=5)
    SkillMarking.objects.filter(skill__in=skills).update(
        status=SkillMarking.Status.SIGNED_OFF, signed_off_at=signed, signed_off_by=organiser
    )
    for skill in skills:
        recompute_skill(skill)
        awarding.compute_awards(skill)
    SkillPublication.objects.bulk_create(
        SkillPublication(
            skill=s, published=True, published_at=timezone.now(), published_by=organiser
        )
        for s in skills
    )


def _has_url(name: str) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name, args=["x"])
    except NoReverseMatch:
        return False
    return True


def _rounds(
    measures: dict[str, tuple[Callable[[], object], Callable[[], object]]], repeat: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Each page, then its floor, in turns; ``repeat`` rounds after a warm-up."""
    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in measures}
    for page, floor in measures.values():
        page(), floor()
    for _ in range(repeat):
        for name, (page, floor) in measures.items():
            for fn, times in ((page, out[name][0]), (floor, out[name][1])):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    return out


def _report(results, queries: dict[str, int]) -> None:
    for name, (page, floor) in results.items():
        pm, fm = statistics.median(page), statistics.median(floor)
        print(
            f"  {name:44s} median {pm * 1000:7.1f} ms (best {min(page) * 1000:7.1f})"
            f"  floor {fm * 1000:6.1f} ms  ratio {pm / fm:5.2f}×  {queries[name]:3d} queries"
        )


def _get(client, url: str) -> Callable[[], object]:
    """A GET through ``client`` that must answer 200, its body read."""

    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return response

    return fetch


def _floor(client, query: Callable[[], object]) -> Callable[[], object]:
    """/healthz through the same client, then the one query the page needs."""
    return lambda: (_get(client, "/healthz")(), query())


def _measure(measures, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = {}
    for name, (page, _floor_fn) in measures.items():
        with CaptureQueriesContext(connection) as captured:
            page()
        queries[name] = len(captured)
    _report(_rounds(measures, repeat), queries)


def _final(args: argparse.Namespace):
    """The preset's final with every mark: built unless ``--reuse`` finds it."""
    from benchmarks import scoring as scoring_bench
    from competitions.models import Event
    from demo import builder as demo
    from scoring.models import Mark

    final = Event.objects.filter(code=demo.DEMO_EVENT_CODES[-1]).first()
    if not (args.reuse and final and Mark.objects.filter(skill__event=final).exists()):
        for label, seconds in scoring_bench._build(args).items():
            print(f"build: {label}: {seconds:.1f} s")
        final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    return final


def _while_marking(final, org, repeat: int) -> tuple:
    """The organiser's dashboard (and its checklist) with every skill open:
    figures current, then every skill stale."""
    from django.core.cache import cache

    from scoring.models import SkillMarking

    def skills_query():
        return list(final.skills.order_by("code").values_list("id", "code", "name"))

    _reset_to_marking(final)
    print("while marking (every skill open):")
    page = (_get(org, f"/organiser/events/{final.code}/"), _floor(org, skills_query))
    measures = {"organiser dashboard, stored results fresh": page}
    if _has_url("results:organiser_readiness"):  # its checklist, loaded after it
        readiness = _get(org, f"/organiser/events/{final.code}/readiness/")
        measures["its readiness checklist (htmx)"] = (readiness, _floor(org, skills_query))
    _measure(measures, repeat)
    SkillMarking.objects.filter(skill__event=final).update(results_computed_at=None)
    # The page asks for a refresh of stale skills; none runs here (it would
    # make them fresh): the benchmark measures the page, not the worker.
    stamp = [f"results:refresh:{sid}" for sid in final.skills.values_list("pk", flat=True)]
    cache.set_many(dict.fromkeys(stamp, 1), 3600)
    _measure({"organiser dashboard, every skill stale": page}, repeat)
    cache.delete_many(stamp)
    return page


def _run(args: argparse.Namespace, database: str) -> int:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from scoring.models import Mark
    from teams import roles
    from teams.models import Entry

    print(f"database: {database}")
    final = _final(args)
    organiser, lead = User.objects.get(username="organiser"), User.objects.get(username="lead")
    delegation = roles.lead_delegation(lead)
    own_entries = Entry.objects.filter(skill__event=final, delegation=delegation)
    print(
        f"data: {final.skills.count()} skills, {Entry.objects.filter(skill__event=final).count()}"
        f" entries, {Mark.objects.filter(skill__event=final).count()} marks; "
        f"lead of {delegation} ({own_entries.count()} entries)"
    )
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    org, own = Client(), Client()
    org.force_login(organiser)
    own.force_login(lead)

    def entries_query():
        return list(own_entries.values_list("id", "skill_id", "competitor_no"))

    print(_load())
    organiser_page = _while_marking(final, org, args.repeat)
    _publish_all(final, organiser)
    print("after publication (every skill signed off, awarded and published):")
    _measure(
        {
            "organiser dashboard": organiser_page,
            "lead dashboard": (_get(own, f"/lead/{final.code}/"), _floor(own, entries_query)),
            "lead Excel": (
                _get(own, f"/lead/{final.code}/results.xlsx"),
                _floor(own, entries_query),
            ),
        },
        args.repeat,
    )
    print(_load())
    return 0
