"""The full published results workbook of the national preset against the
openpyxl floor.

Builds the national preset (``demo.builder.build_demo``: 36 delegations,
109 skills, 4,059 entries), then — without marks, which are not what is
measured here — writes the state the workbook reads, in bulk: every skill of
the final signed off, one stored ``EntryResult`` per entry with a plausible
final score (normal around 75, two places) ranked and scale-scored by
``scoring.rules.rank_skill``, awards by ``awards.awarding.compute_awards``
(the skills' own policies), and every skill published.

Then times, side by side (``--repeat`` turns each, interleaved):

* portal, end to end: ``results.workbooks.write_rankings_workbook`` — load the
  published results, names and awards (a few queries), then the styled
  presentation (Chinese header, caption, frozen panes, widths, print titles,
  number formats) of a summary sheet, the medal table and 109 skill sheets;
* portal, writing only: the same ``write_workbook`` call on sheets whose data
  is already loaded;
* the floor: openpyxl write-only writing exactly the same rows into the same
  sheets as plain values — no styling, no formats, no widths;

and the ratios (target ≤ 1.3× end to end, on the medians), in wall time and
in this process's CPU time (``time.process_time``: on a machine shared with
other work it moves far less than wall time; it leaves out the database
server's time, which the wall-time ratio keeps). ``--reuse`` skips the build
when the final is already published.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchmarks import django_env

TARGET = 1.3  # end to end against the floor, on the medians

HELP = "full published rankings workbook (national preset) vs bare openpyxl write-only"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("provincial", "national"), default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measure")
    parser.add_argument("--reuse", action="store_true", help="keep an existing published demo")
    parser.add_argument("--save", type=Path, help="also save the portal's workbook here")


def _build(preset: str, seed: int):
    """The demo final with stored results, awards and every skill published."""
    import datetime as dt

    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from awards import awarding
    from competitions.models import Event, SkillPublication
    from demo.builder import build_demo, sizes_for
    from scoring import rules
    from scoring.models import EntryResult, SkillMarking
    from teams.models import Entry

    result = build_demo(sizes_for(preset), seed=seed, reset=True)
    final = Event.objects.get(pk=result.final_event_id)
    rng = random.Random(seed)
    signed = timezone.now() - dt.timedelta(hours=1)
    organiser = User.objects.get(username="organiser")
    with transaction.atomic():
        skills = list(final.skills.order_by("code"))
        SkillMarking.objects.filter(skill__in=skills).delete()
        SkillMarking.objects.bulk_create(
            SkillMarking(
                skill=s,
                status=SkillMarking.Status.SIGNED_OFF,
                signed_off_at=signed,
                signed_off_by=organiser,
                results_computed_at=signed + dt.timedelta(seconds=1),
            )
            for s in skills
        )
        rows = []
        for skill in skills:
            entries = list(Entry.objects.filter(skill=skill).values_list("id", "status"))
            finals = {}
            for entry_id, status in entries:
                if status == Entry.Status.REGISTERED:
                    score = min(99.99, max(20.0, rng.gauss(75, 9)))
                    finals[entry_id] = Decimal(f"{score:.2f}")
            ranked = rules.rank_skill(
                finals, final.programme.scale_median, final.programme.scale_spread
            )
            for entry_id, _status in entries:
                r = ranked.get(entry_id)
                rows.append(
                    EntryResult(
                        entry_id=entry_id,
                        skill=skill,
                        raw_total=finals.get(entry_id),
                        final_score=r.final_score if r else None,
                        rank=r.rank if r else None,
                        scale_score=r.scale_score if r else None,
                        complete=r is not None,
                    )
                )
        EntryResult.objects.filter(skill__in=skills).delete()
        EntryResult.objects.bulk_create(rows, batch_size=2000)
    for skill in skills:
        awarding.compute_awards(skill)
    now = timezone.now()
    SkillPublication.objects.filter(skill__in=skills).delete()
    SkillPublication.objects.bulk_create(
        SkillPublication(skill=s, published=True, published_at=now, published_by=organiser)
        for s in skills
    )
    return final


def _floor(sheets: list[tuple[str, list[tuple]]], target) -> None:
    """Bare openpyxl write-only: the same sheets and rows, plain values."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, rows in sheets:
        ws = wb.create_sheet(title=name)
        for row in rows:
            ws.append(row)
    wb.save(target)


def run(args: argparse.Namespace) -> int:
    """Build, time the floor and the workbook in turns, print. Long because it is the benchmark's
    script, step by step."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-workbook-"))
    database, _migrate = django_env.setup(tmp / "bench.sqlite3")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from competitions import publication
    from competitions.models import Event
    from demo.builder import DEMO_EVENT_CODES
    from portal.exporters import Presentation, write_workbook
    from results import exporters, workbooks

    print(f"database: {database}")
    final = Event.objects.filter(code=DEMO_EVENT_CODES[-1]).first()
    if not (args.reuse and final and publication.published_skills(final).exists()):
        t = time.perf_counter()
        final = _build(args.preset, args.seed)
        print(f"built and published the {args.preset} final in {time.perf_counter() - t:.1f} s")
    n_skills = publication.published_skills(final).count()

    # What the floor writes: exactly the portal's sheets and rows.
    sheets = exporters.rankings_sheets(final)
    plain = [
        (s.sheet_name, [tuple(c.key for c in s.columns), *map(tuple, s.rows())]) for s in sheets
    ]
    n_rows = sum(len(rows) - 1 for _name, rows in plain)
    n_cells = sum(len(r) for _name, rows in plain for r in rows)

    cpu: dict[str, list[float]] = {"portal": [], "writing": [], "floor": []}

    def timed(name: str, fn) -> float:
        c, t = time.process_time(), time.perf_counter()
        fn()
        cpu[name].append(time.process_time() - c)
        return time.perf_counter() - t

    def portal_end_to_end() -> float:
        buffer = io.BytesIO()
        elapsed = timed("portal", lambda: workbooks.write_rankings_workbook(final, buffer))
        if args.save:
            args.save.write_bytes(buffer.getvalue())
        return elapsed

    def portal_writing() -> float:
        loaded = exporters.rankings_sheets(final)
        for s in loaded:  # the data is loaded; only the sheets' rows remain
            if isinstance(s, exporters.SkillRankingsSheet):
                s.results = list(s.results)
        buffer = io.BytesIO()
        return timed("writing", lambda: write_workbook(loaded, buffer, presentation=Presentation()))

    def floor() -> float:
        buffer = io.BytesIO()
        return timed("floor", lambda: _floor(plain, buffer))

    with CaptureQueriesContext(connection) as queries:
        portal_end_to_end()  # warm up, and count its queries
    for values in cpu.values():
        values.clear()
    times: dict[str, list[float]] = {"portal": [], "writing": [], "floor": []}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeat):
        times["floor"].append(floor())
        times["portal"].append(portal_end_to_end())
        times["writing"].append(portal_writing())
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    def fmt(values: list[float]) -> str:
        return f"best {min(values):6.3f} s  median {statistics.median(values):6.3f} s"

    print(
        f"workbook: {len(plain)} sheets ({n_skills} skills + summary + medal table), "
        f"{n_rows} rows, {n_cells} cells; portal end to end: {len(queries)} queries"
    )
    print(f"  floor (openpyxl write-only, plain values)  {fmt(times['floor'])}")
    print(f"  portal, writing only (styled)              {fmt(times['writing'])}")
    print(f"  portal, end to end (load + styled)         {fmt(times['portal'])}")
    print(f"  CPU time: floor {fmt(cpu['floor'])}; writing {fmt(cpu['writing'])}; "
          f"end to end {fmt(cpu['portal'])}")  # fmt: skip
    for clock, measured in (("wall", times), ("CPU", cpu)):
        floor_median = statistics.median(measured["floor"])
        for name, label in (("writing", "writing only"), ("portal", "end to end")):
            ratio = statistics.median(measured[name]) / floor_median
            verdict = "PASS" if ratio <= TARGET else "MISS"
            print(f"  ratio {clock:4s} {label:13s} {ratio:5.2f}×  (target ≤ {TARGET}×) {verdict}")
    return 0
