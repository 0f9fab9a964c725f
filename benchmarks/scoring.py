"""Results of the national preset: all skills against the SQL floor, and one
skill re-ranked after one mark changes.

Builds the national preset (docs/sizes.md) with ``demo.builder.build_demo``
(delegations, skills, entries, judges), then adds to every skill of the final
a marking scheme of 60 aspects (30 M worth 45 marks, 30 J worth 55), marking
groups of three judges per entry (so each J aspect is scored by exactly three
judges, none of the entry's delegation) and every mark: about half a million.
The marks are bulk-loaded with COPY (bulk_create off PostgreSQL), bypassing
``write_mark``: the service's per-write ledger is not what is measured here.

Then prints, side by side:

* all results: ``scoring.results.compute_skills`` over the 109 skills;
* the SQL floor: one hand-written aggregate giving each entry's exact total
  (integer numerator over a common denominator) and its final score, and the
  ratio of the two (target ≤ 2×); every total and final score of the engine
  is checked equal to the floor's. Floor and engine are timed in turns
  (``--repeat`` times each) so a change of machine load hits both alike;
* one skill re-ranked (``recompute_skill``: compute and store) after one mark
  changes through ``write_mark`` (target ≤ 50 ms, on the median of at least
  20 changes).

Each timing is shown as best and median; the load average before and after
is printed (the machine may be shared), then PASS or MISS for each target.
The exit status is 1 only when a total differs from the floor's: timings on
a shared machine are figures to read, not a test.

``--reuse`` skips the build when the final already has its marks.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmarks import django_env

if TYPE_CHECKING:
    from scoring import results as results_t

HELP = "results of the national preset vs the SQL floor; one skill re-ranked"

ASPECTS_PER_CRITERION = 15
CRITERIA = "ABCD"
JUDGES_PER_ASPECT = 3
# Exact SQL: every J mark max_mark × s / (3c) becomes an integer multiple of
# 1 / (3 · 100 · LCM) with LCM = lcm(1..20) (up to 20 scores per aspect).
LCM = math.lcm(*range(1, 21))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("provincial", "national"), default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measure")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data built by a previous run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway SQLite file")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=RERANK_SIZES,
        help="entries of the skills re-ranked one at a time (default 20,80,320,1280)",
    )


def run(args: argparse.Namespace) -> int:
    sqlite_file = Path(f"/tmp/portal-bench-scoring-{os.getpid()}.sqlite3")
    database, migrate_seconds = django_env.setup(sqlite_file)
    try:
        return _run(args, database, migrate_seconds)
    finally:
        if sqlite_file.exists() and not args.keep:
            sqlite_file.unlink()


# -- building -------------------------------------------------------------------------


def _clear_scoring(skill_ids: list[int]) -> None:
    """Remove the scoring data of the demo's skills in bulk (the ORM would
    load half a million marks to honour LedgerRecord.mark SET_NULL)."""
    from scoring import ledger
    from scoring.models import Criterion, EntryResult, MarkingGroup, SkillMarking

    ledger.purge_skills(skill_ids)
    EntryResult.objects.filter(skill_id__in=skill_ids).delete()
    MarkingGroup.objects.filter(skill_id__in=skill_ids).delete()
    Criterion.objects.filter(skill_id__in=skill_ids).delete()
    SkillMarking.objects.filter(skill_id__in=skill_ids).delete()


def _demo_skill_ids() -> list[int]:
    from django.db.models import Q

    from competitions.models import Skill
    from demo import builder as demo

    return list(
        Skill.objects.filter(
            Q(event__programme__code=demo.DEMO_PROGRAMME_CODE)
            | Q(event__code__in=demo.DEMO_EVENT_CODES)
        ).values_list("id", flat=True)
    )


def _build(args: argparse.Namespace) -> dict[str, float]:
    from demo import builder as demo

    timings: dict[str, float] = {}
    start = time.perf_counter()
    _clear_scoring(_demo_skill_ids() or [0])
    result = demo.build_demo(demo.PRESETS[args.preset], seed=args.seed, reset=True)
    timings["demo (delegations, skills, entries, judges)"] = time.perf_counter() - start
    start = time.perf_counter()
    marks = _build_scoring(result.final_event_id, random.Random(args.seed))
    timings[f"schemes, groups and {marks} marks"] = time.perf_counter() - start
    return timings


def _build_scoring(final_event_id: int, rng: random.Random) -> int:
    """Schemes, marking groups and every mark of the final's skills."""
    from competitions.models import Skill

    return _score_skills(list(Skill.objects.filter(event_id=final_event_id).order_by("id")), rng)


def _score_skills(skills: list, rng: random.Random) -> int:
    """A scheme of 60 aspects for each of ``skills``, marking groups of three
    judges and every mark (COPY-loaded on PostgreSQL); returns the marks."""
    from django.db import transaction

    with transaction.atomic():
        by_skill_aspects = _create_schemes(skills)
        entries, panel_of = _create_groups(skills, by_skill_aspects)
        return _create_marks(skills, by_skill_aspects, entries, panel_of, rng)


def _create_schemes(skills: list) -> dict[int, list]:
    """Skill id → its 60 aspects (4 criteria of 15, M and J in turns)."""
    from scoring.models import Aspect, Criterion, SkillMarking, SubCriterion

    criteria = Criterion.objects.bulk_create(
        [
            Criterion(skill=s, code=c, name=f"模块{c}", order=i)
            for s in skills
            for i, c in enumerate(CRITERIA)
        ]
    )
    subs = SubCriterion.objects.bulk_create(
        [SubCriterion(criterion=c, code=f"{c.code}1", name=f"子模块{c.code}1") for c in criteria]
    )
    aspects: list[Aspect] = []
    for sub in subs:
        skill_id = sub.criterion.skill_id
        for k in range(ASPECTS_PER_CRITERION):
            n = CRITERIA.index(sub.criterion.code) * ASPECTS_PER_CRITERION + k
            kind = "M" if n % 2 == 0 else "J"
            # 30 M × 1.50 = 45; J: 20 × 2.00 + 10 × 1.50 = 55 → the scheme totals 100.
            max_mark = "1.50" if kind == "M" or (n // 2) % 3 == 0 else "2.00"
            aspects.append(
                Aspect(
                    skill_id=skill_id,
                    sub_criterion=sub,
                    code=f"{sub.code}.{k + 1:02d}",
                    kind=kind,
                    max_mark=Decimal(max_mark),
                    description=f"评分点 {n + 1}",
                    order=k,
                )
            )
    aspects = Aspect.objects.bulk_create(aspects, batch_size=2000)
    by_skill_aspects: dict[int, list[Aspect]] = {}
    for a in aspects:
        by_skill_aspects.setdefault(a.skill_id, []).append(a)
    SkillMarking.objects.bulk_create([SkillMarking(skill=s) for s in skills])
    return by_skill_aspects


def _create_groups(
    skills: list, by_skill_aspects: dict[int, list]
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, list[int]]]:
    """Marking groups; returns (skill → its registered (entry, delegation)),
    (entry → the three judges who mark it)."""
    from scoring.models import MarkingGroup
    from teams.models import Entry, JudgeAssignment

    markers: dict[int, list[tuple[int, int]]] = {}
    for skill_id, judge_id, delegation_id in (
        JudgeAssignment.objects.filter(skill__in=skills, role=JudgeAssignment.Role.JUDGE)
        .order_by("skill_id", "judge_id")
        .values_list("skill_id", "judge_id", "judge__delegation_id")
    ):
        markers.setdefault(skill_id, []).append((judge_id, delegation_id))
    entries: dict[int, list[tuple[int, int]]] = {}
    for skill_id, entry_id, delegation_id in (
        Entry.objects.filter(skill__in=skills, status=Entry.Status.REGISTERED)
        .order_by("skill_id", "competitor_no")
        .values_list("skill_id", "id", "delegation_id")
    ):
        entries.setdefault(skill_id, []).append((entry_id, delegation_id))

    # Marking groups: judges in threes; each entry goes to the first three
    # (round robin) with nobody of its delegation. Judges left without
    # entries go to a group covering M aspects only, so they are never
    # expected on a J aspect.
    panel_of: dict[int, list[int]] = {}  # entry → its three judges
    groups: list[tuple[MarkingGroup, list[int], list[int], list[int]]] = []
    for s in skills:
        triples = [
            markers[s.pk][i : i + JUDGES_PER_ASPECT]
            for i in range(0, len(markers.get(s.pk, [])), JUDGES_PER_ASPECT)
        ]
        triples = [t for t in triples if len(t) == JUDGES_PER_ASPECT]
        covered: dict[int, list[int]] = {i: [] for i in range(len(triples))}
        for n, (entry_id, delegation_id) in enumerate(entries.get(s.pk, [])):
            for step in range(len(triples)):
                t = (n + step) % len(triples)
                if all(d != delegation_id for _j, d in triples[t]):
                    covered[t].append(entry_id)
                    panel_of[entry_id] = [j for j, _d in triples[t]]
                    break
            else:
                raise RuntimeError(f"no three judges may mark entry {entry_id}")
        used = {j for t, es in covered.items() if es for j, _d in triples[t]}
        for t, es in covered.items():
            if es:
                groups.append(
                    (
                        MarkingGroup(skill=s, name=f"G{t + 1}"),
                        [j for j, _d in triples[t]],
                        es,
                        [],
                    )
                )
        spare = [j for j, _d in markers.get(s.pk, []) if j not in used]
        if spare:
            m_aspects = [a.pk for a in by_skill_aspects[s.pk] if a.kind == "M"]
            first = entries[s.pk][0][0]
            groups.append((MarkingGroup(skill=s, name="M"), spare, [first], m_aspects))
    MarkingGroup.objects.bulk_create([g for g, *_ in groups])
    through_j, through_e, through_a = (
        MarkingGroup.judges.through,
        MarkingGroup.entries.through,
        MarkingGroup.aspects.through,
    )
    through_j.objects.bulk_create(
        [through_j(markinggroup_id=g.pk, judge_id=j) for g, js, _e, _a in groups for j in js]
    )
    through_e.objects.bulk_create(
        [through_e(markinggroup_id=g.pk, entry_id=e) for g, _j, es, _a in groups for e in es]
    )
    through_a.objects.bulk_create(
        [through_a(markinggroup_id=g.pk, aspect_id=a) for g, _j, _e, as_ in groups for a in as_]
    )
    return entries, panel_of


def _create_marks(
    skills: list,
    by_skill_aspects: dict[int, list],
    entries: dict[int, list[tuple[int, int]]],
    panel_of: dict[int, list[int]],
    rng: random.Random,
) -> int:
    """Every mark of every entry; returns how many."""
    from django.db import connection
    from django.utils import timezone

    from scoring.models import Mark

    now = timezone.now()
    rows = []
    for s in skills:
        for entry_id, _d in entries.get(s.pk, []):
            ability = rng.random()
            judges = panel_of[entry_id]
            for a in by_skill_aspects[s.pk]:
                if a.kind == "M":
                    top = int(a.max_mark * 100)
                    cents = min(top, max(0, round(top * (ability + rng.uniform(-0.3, 0.3)))))
                    rows.append((s.pk, entry_id, a.pk, judges[0], "M", Decimal(cents) / 100))
                else:
                    base = ability * 3
                    for j in judges:
                        score = min(3, max(0, round(base + rng.uniform(-1.2, 1.2))))
                        rows.append((s.pk, entry_id, a.pk, j, "J", Decimal(score)))
    if connection.vendor == "postgresql":
        columns = "skill_id, entry_id, aspect_id, judge_id, kind, value, version, updated_at"
        with connection.cursor() as cur:
            with cur.copy(f"COPY {Mark._meta.db_table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, 1, now))
            cur.execute(f"ANALYZE {Mark._meta.db_table}")
    else:
        Mark.objects.bulk_create(
            (
                Mark(skill_id=s, entry_id=e, aspect_id=a, judge_id=j, kind=k, value=v)
                for s, e, a, j, k, v in rows
            ),
            batch_size=5000,
        )
    return len(rows)


# Skills of these sizes are built in an event of their own ("demo-rerank",
# in the demo programme, so a reset of the demo removes it) to time one
# skill re-ranked against its floor from small to very large.
RERANK_SIZES = (20, 80, 320, 1280)
RERANK_EVENT = "demo-rerank"


def _rerank_skills(args: argparse.Namespace) -> list:
    """The skills of ``args.sizes`` entries, every mark in; built unless
    ``--reuse`` finds them all."""
    from competitions.models import Skill
    from scoring.models import Mark

    codes = [f"R{n}" for n in args.sizes]
    found = {
        s.code: s
        for s in Skill.objects.filter(event__code=RERANK_EVENT, code__in=codes)
        if Mark.objects.filter(skill=s).exists()
    }
    if not (args.reuse and len(found) == len(codes)):
        start = time.perf_counter()
        marks = _build_rerank(args.sizes, args.seed)
        print(
            f"build: skills of {args.sizes} entries, {marks} marks: "
            f"{time.perf_counter() - start:.1f} s"
        )
        found = {s.code: s for s in Skill.objects.filter(event__code=RERANK_EVENT)}
    return [found[c] for c in codes]


def _build_rerank(sizes: tuple[int, ...], seed: int) -> int:
    """An event with one skill per size: entries spread over the final's
    delegations, a chief and one judge triple per 20 entries (at least 4),
    judges of three delegations per triple; then ``_score_skills``."""
    from django.db import transaction

    from competitions.models import Event, Skill
    from demo import builder as demo
    from teams.models import Delegation, Entry, Judge, JudgeAssignment

    old = list(Skill.objects.filter(event__code=RERANK_EVENT).values_list("id", flat=True))
    if old:
        _clear_scoring(old)
        Event.objects.filter(code=RERANK_EVENT).delete()
        Judge.objects.filter(code__startswith=f"{demo.DEMO_JUDGE_PREFIX}R-").delete()
    final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    delegations = list(
        Delegation.objects.filter(entries__skill__event=final)
        .distinct()
        .order_by("code")
        .values_list("id", flat=True)
    )
    with transaction.atomic():
        event = Event.objects.create(
            programme_id=final.programme_id,
            code=RERANK_EVENT,
            name="重排规模 re-rank sizes",
            kind=Event.Kind.TRAINING,
        )
        skills = Skill.objects.bulk_create(
            [Skill(event=event, code=f"R{n}", name=f"重排 {n}") for n in sizes]
        )
        Entry.objects.bulk_create(
            [
                Entry(
                    skill=skill,
                    delegation_id=delegations[k % len(delegations)],
                    competitor_no=str(k + 1),
                )
                for skill, n in zip(skills, sizes, strict=True)
                for k in range(n)
            ],
            batch_size=2000,
        )
        staff: list[tuple[Skill, Judge, str]] = []
        for skill, n in zip(skills, sizes, strict=True):
            markers = 3 * max(4, n // 20)
            for k in range(markers + 1):
                judge = Judge(
                    code=f"{demo.DEMO_JUDGE_PREFIX}R-{n}-{k}",
                    name=f"裁判{k}",
                    delegation_id=delegations[k % len(delegations)],
                )
                staff.append((skill, judge, "chief" if k == markers else "judge"))
        Judge.objects.bulk_create([j for _s, j, _r in staff])
        JudgeAssignment.objects.bulk_create(
            [JudgeAssignment(skill=s, judge=j, role=r) for s, j, r in staff]
        )
    return _score_skills(skills, random.Random(seed))


# -- measuring --------------------------------------------------------------------------


def _timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return times, value


def _interleaved(
    fns: dict[str, Callable[[], object]], repeat: int
) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Time each function ``repeat`` times, taking turns, so that a change of
    machine load (other work on a shared machine) hits all of them alike and
    their ratio stays meaningful."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    values: dict[str, object] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - start)
    return times, values


def _load() -> str:
    """The 1/5/15-minute load averages and the CPU count (cf. ``uptime``)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # not available on this platform
        return "load unknown"
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


# The floor: the fastest single statement we could write that gives every
# entry's exact total, as n / (300 · LCM). One pass over the marks in
# (skill, entry) index order, sorted per entry by aspect (M marks together
# under aspect 0), grouped per (entry, aspect) with integer aggregates, then
# per entry. No work_mem to tune: the sort is per entry (~120 rows), so
# nothing spills (a GROUP BY left to a hash of 125,000 groups spilled to
# disk at the default 4 MB, and grouping M marks per aspect doubled the
# groups). ``EXPLAIN (ANALYZE, BUFFERS)`` of it is in benchmarks/README.md.
_FLOOR_TOTALS = f"""
SELECT g.entry_id,
       SUM(CASE WHEN g.a = 0 THEN g.s * {3 * LCM}
                WHEN sk.judgement_aggregation = 'trimmed' AND g.c >= 5
                  THEN (a.max_mark * 100)::bigint * (g.s - g.lo - g.hi) * ({LCM} / (g.c - 2))
                ELSE (a.max_mark * 100)::bigint * g.s * ({LCM} / g.c) END) AS n
FROM (SELECT skill_id, entry_id, a, COUNT(*)::int AS c,
             SUM(CASE WHEN a = 0 THEN (value * 100)::int ELSE value::int END) AS s,
             MIN(value::int) AS lo, MAX(value::int) AS hi
      FROM (SELECT skill_id, entry_id, CASE WHEN kind = 'M' THEN 0 ELSE aspect_id END AS a, value
            FROM scoring_mark WHERE skill_id = ANY(%(skills)s)
            ORDER BY skill_id, entry_id, a) m
      GROUP BY skill_id, entry_id, a) g
LEFT JOIN scoring_aspect a ON a.id = g.a
JOIN competitions_skill sk ON sk.id = g.skill_id
GROUP BY g.entry_id
"""

# One skill's totals, F (in hundredths: floor(100 · total + 1/2) =
# (2n + 3·LCM) div (6·LCM)) and standard competition ranks on F.
_FLOOR_RANKS = f"""
SELECT entry_id, n, f, RANK() OVER (ORDER BY f DESC)
FROM (SELECT entry_id, n, div(2 * n + {3 * LCM}, {6 * LCM}) AS f
      FROM ({_FLOOR_TOTALS}) t) x
"""


def _floor_sql(sql: str) -> str:
    from django.db import connection

    from scoring.models import Aspect, Mark

    if connection.vendor != "postgresql":
        # SQLite: no ANY(array), no div(); the floor is a PostgreSQL figure.
        raise SystemExit("the scoring benchmark's floor needs PostgreSQL (DATABASE_URL)")
    assert Mark._meta.db_table == "scoring_mark" and Aspect._meta.db_table == "scoring_aspect"
    return sql


def _floor(skill_ids: list[int]) -> dict[int, Fraction]:
    """Each entry's exact total (n / (300·LCM)), by one statement."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(_floor_sql(_FLOOR_TOTALS), {"skills": skill_ids})
        rows = cur.fetchall()
    return {entry_id: Fraction(int(n), 300 * LCM) for entry_id, n in rows}


def _floor_ranks(skill_id: int) -> list[tuple]:
    """One skill's (entry, n, F in hundredths, rank), by one statement."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(_floor_sql(_FLOOR_RANKS), {"skills": [skill_id]})
        return cur.fetchall()


def _fmt(times: list[float]) -> str:
    return f"best {min(times) * 1000:8.1f} ms   median {statistics.median(times) * 1000:8.1f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# Speed targets (docs/sizes.md).
RATIO_TARGET = 1.3  # all results, against the floor of all totals
RERANK_TARGET = 2.0  # one skill re-ranked, against its floor of totals and ranks


def _run(args: argparse.Namespace, database: str, migrate_seconds: float) -> int:
    """Build or reuse, time floor and engine in turns, print, verify. Long because it is the
    benchmark's script, step by step."""
    from django.db import connection

    from competitions.models import Event, Skill
    from demo import builder as demo
    from scoring import results
    from scoring.models import Aspect, Mark

    print(f"database: {database} (migrate {migrate_seconds:.2f} s)")
    final = Event.objects.filter(code=demo.DEMO_EVENT_CODES[-1]).first()
    have_marks = final is not None and Mark.objects.filter(skill__event=final).exists()
    if not (args.reuse and have_marks):
        for label, seconds in _build(args).items():
            print(f"build: {label}: {seconds:.1f} s")
        final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    sized = _rerank_skills(args)
    skills = list(Skill.objects.filter(event=final).order_by("id"))
    skill_ids = [s.pk for s in skills]
    n_marks = Mark.objects.filter(skill__event=final).count()
    n_aspects = Aspect.objects.filter(skill__event=final).count()
    n_entries = sum(1 for _ in results.Entry.objects.filter(skill__event=final).values("id"))
    print(f"data: {len(skills)} skills, {n_entries} entries, {n_aspects} aspects, {n_marks} marks")
    load_before = _load()

    # Warm up connection and caches once for each, then time floor and
    # engine in turns (see _interleaved).
    _floor(skill_ids)
    results.compute_skills(skill_ids)
    times, values = _interleaved(
        {
            "floor": lambda: _floor(skill_ids),
            "all": lambda: results.compute_skills(skill_ids),
        },
        args.repeat,
    )
    floor_times, all_times = times["floor"], times["all"]
    floor = cast(dict[int, Fraction], values["floor"])
    computed = cast(dict[int, results.SkillResults], values["all"])
    panel_times, _ = _timed(lambda: _panels_for_results(skill_ids), args.repeat)
    checked, mismatched = _check_totals(computed, floor)
    complete = sum(1 for r in computed.values() for e in r.entries if e.complete)

    reranks = [_time_rerank(skill, max(args.repeat, 10), args.seed) for skill in sized]
    mismatched += sum(r["mismatched"] for r in reranks)
    load_after = _load()

    ratio_best = min(all_times) / min(floor_times)
    ratio_median = statistics.median(all_times) / statistics.median(floor_times)
    print()
    print(f"machine: before timing {load_before}; after {load_after}")
    print(f"{'measure':<56} {'timing':>40}")
    print(f"{'SQL floor: one statement, all skills (exact totals)':<56} {_fmt(floor_times)}")
    print(f"{'results: compute_skills(all skills)':<56} {_fmt(all_times)}")
    print(
        f"{f'  ratio results / floor (target ≤ {RATIO_TARGET:g})':<56} "
        f"best {ratio_best:8.2f}×      median {ratio_median:8.2f}×"
    )
    print(f"{'  its panels: load_panels + expected_by_entry':<56} {_fmt(panel_times)}")
    for r in reranks:
        label = f"one skill, {r['entries']} entries ({r['marks']} marks)"
        print(f"{label:<56}")
        print(f"{'  write_mark (one J score, through the service)':<56} {_fmt(r['write'])}")
        print(f"{'  SQL floor: totals and ranks, one statement':<56} {_fmt(r['floor'])}")
        print(f"{'  recompute_skill (computed and stored)':<56} {_fmt(r['rerank'])}")
        print(
            f"{f'  ratio re-rank / floor (target ≤ {RERANK_TARGET:g})':<56} "
            f"best {r['ratio_best']:8.2f}×      median {r['ratio_median']:8.2f}×"
        )
    print()
    print(
        f"{_verdict(ratio_median <= RATIO_TARGET)}  all results ≤ {RATIO_TARGET:g}× the SQL floor "
        f"(median {ratio_median:.2f}×, best {ratio_best:.2f}×)"
    )
    for r in reranks:
        print(
            f"{_verdict(r['ratio_median'] <= RERANK_TARGET)}  one skill of {r['entries']} entries "
            f"re-ranked ≤ {RERANK_TARGET:g}× its floor (median {r['ratio_median']:.2f}×, "
            f"best {r['ratio_best']:.2f}×)"
        )
    print(
        f"check: {checked} entry totals compared with the floor, {mismatched} differ "
        f"(totals, F and ranks of the re-ranked skills included); {complete} complete entries"
    )
    print(f"database vendor: {connection.vendor}")
    return 1 if mismatched else 0


def _check_totals(
    computed: dict[int, results_t.SkillResults], floor: dict[int, Fraction]
) -> tuple[int, int]:
    """(entries compared, entries whose exact total differs from the floor's)."""
    checked = mismatched = 0
    for res in computed.values():
        for e in res.entries:
            if e.raw_total is None:
                continue
            checked += 1
            if e.raw_total != floor.get(e.entry_id):
                mismatched += 1
    return checked, mismatched


def _time_rerank(skill, rounds: int, seed: int) -> dict:
    """Change one J score through ``write_mark``, then time the floor of the
    skill's ranks and ``recompute_skill``, ``rounds`` times; the engine's
    totals, F and ranks are checked against the floor's on the last round."""
    from scoring import results
    from scoring.marks import write_mark
    from scoring.models import Mark

    marks = list(
        Mark.objects.filter(skill=skill, kind="J").select_related("entry", "aspect", "judge")[:200]
    )
    rng = random.Random(seed)
    _floor_ranks(skill.pk)
    results.recompute_skill(skill)
    write, floor_times, rerank = [], [], []
    for _ in range(rounds):
        mark = rng.choice(marks)
        assert mark.judge is not None  # a J mark is its judge's
        new = (int(mark.value) + 1) % 4
        start = time.perf_counter()
        write_mark(
            entry=mark.entry,
            aspect=mark.aspect,
            judge=mark.judge,
            value=str(new),
            reason="benchmark",
            source="import",
        )
        write.append(time.perf_counter() - start)
        mark.value = Decimal(new)
        start = time.perf_counter()
        floor = _floor_ranks(skill.pk)
        floor_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        res = results.recompute_skill(skill)
        rerank.append(time.perf_counter() - start)
    by_entry = res.by_entry()
    mismatched = 0
    for entry_id, n, f, rank in floor:
        e = by_entry[entry_id]
        if (
            e.raw_total != Fraction(int(n), 300 * LCM)
            or e.final_score != Decimal(int(f)) / 100
            or e.rank != rank
        ):
            mismatched += 1
    return {
        "entries": len(by_entry),
        "marks": Mark.objects.filter(skill=skill).count(),
        "write": write,
        "floor": floor_times,
        "rerank": rerank,
        "ratio_best": min(rerank) / min(floor_times),
        "ratio_median": statistics.median(rerank) / statistics.median(floor_times),
        "mismatched": mismatched,
    }


def _panels_for_results(skill_ids: list[int]) -> None:
    """What ``compute_skills`` spends on panels: every skill's panel in one
    go, then the expected judges per entry (aspects and entries loaded here
    as ``compute_skills`` loads them with its own queries)."""
    from scoring import panels
    from scoring.models import Aspect
    from teams.models import Entry

    j_aspects: dict[int, list[int]] = {sid: [] for sid in skill_ids}
    for aid, sid in Aspect.objects.filter(skill_id__in=skill_ids, kind="J").values_list(
        "id", "skill_id"
    ):
        j_aspects[sid].append(aid)
    entries: dict[int, list[tuple[int, int]]] = {sid: [] for sid in skill_ids}
    for eid, sid, did in Entry.objects.filter(
        skill_id__in=skill_ids, status=Entry.Status.REGISTERED
    ).values_list("id", "skill_id", "delegation_id"):
        entries[sid].append((eid, did))
    for sid, panel in panels.load_panels(skill_ids).items():
        panels.expected_by_entry(panel, j_aspects[sid], entries[sid])
