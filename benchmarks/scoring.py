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
from typing import cast

from benchmarks import django_env

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
    from django.db import connection, transaction
    from django.utils import timezone

    from competitions.models import Skill
    from scoring.models import (
        Aspect,
        Criterion,
        Mark,
        MarkingGroup,
        SkillMarking,
        SubCriterion,
    )
    from teams.models import Entry, JudgeAssignment

    skills = list(Skill.objects.filter(event_id=final_event_id).order_by("id"))
    with transaction.atomic():
        criteria = Criterion.objects.bulk_create(
            [
                Criterion(skill=s, code=c, name=f"模块{c}", order=i)
                for s in skills
                for i, c in enumerate(CRITERIA)
            ]
        )
        subs = SubCriterion.objects.bulk_create(
            [
                SubCriterion(criterion=c, code=f"{c.code}1", name=f"子模块{c.code}1")
                for c in criteria
            ]
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


FLOOR_SQL = """
SELECT g.entry_id,
       SUM(CASE
             WHEN g.kind = 'M' THEN g.s * 3 * {lcm}
             WHEN sk.judgement_aggregation = 'trimmed' AND g.c >= 5
               THEN a.max_mark * (g.s - g.lo - g.hi) * ({lcm} / (g.c - 2))
             ELSE a.max_mark * g.s * ({lcm} / g.c)
           END) AS n
FROM (SELECT entry_id, aspect_id, skill_id, kind,
             COUNT(*) AS c, SUM(value) AS s, MIN(value) AS lo, MAX(value) AS hi
      FROM scoring_mark WHERE skill_id IN ({ids})
      GROUP BY entry_id, aspect_id, skill_id, kind) AS g
JOIN scoring_aspect a ON a.id = g.aspect_id
JOIN competitions_skill sk ON sk.id = g.skill_id
GROUP BY g.entry_id
"""


def _floor(skill_ids: list[int]) -> dict[int, tuple[Fraction, Decimal]]:
    """Each entry's exact total (n / (3·LCM)) and F = floor(100·total + 1/2) / 100,
    by one SQL statement; F is computed in Python from n (integer arithmetic)
    because that is what it is: a division."""
    from django.db import connection

    sql = FLOOR_SQL.format(lcm=LCM, ids=", ".join(str(int(i)) for i in skill_ids))
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    out = {}
    for entry_id, n in rows:
        total = Fraction(n) / (3 * LCM)
        f = (200 * total.numerator + total.denominator) // (2 * total.denominator)
        out[entry_id] = (total, Decimal(f) / 100)
    return out


def _fmt(times: list[float]) -> str:
    return f"best {min(times) * 1000:8.1f} ms   median {statistics.median(times) * 1000:8.1f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# Speed targets (docs/sizes.md).
RATIO_TARGET = 2.0
RERANK_TARGET_MS = 50.0


def _run(args: argparse.Namespace, database: str, migrate_seconds: float) -> int:
    from django.db import connection

    from competitions.models import Event, Skill
    from demo import builder as demo
    from scoring import panels, results
    from scoring.marks import write_mark
    from scoring.models import Aspect, Mark

    print(f"database: {database} (migrate {migrate_seconds:.2f} s)")
    final = Event.objects.filter(code=demo.DEMO_EVENT_CODES[-1]).first()
    have_marks = final is not None and Mark.objects.filter(skill__event=final).exists()
    if not (args.reuse and have_marks):
        for label, seconds in _build(args).items():
            print(f"build: {label}: {seconds:.1f} s")
        final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
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
    floor = cast(dict[int, tuple[Fraction, Decimal]], values["floor"])
    computed = cast(dict[int, results.SkillResults], values["all"])
    panel_times, _ = _timed(lambda: _panels_for_results(skill_ids), args.repeat)
    wrapper_times, _ = _timed(
        lambda: [panels.expected_judgement_judges(i) for i in skill_ids], args.repeat
    )
    loop_times, _ = _timed(lambda: [results.compute_skill(s) for s in skills], 1)
    store_times, _ = _timed(lambda: [results.recompute_skill(s) for s in skills], 1)

    # The engine's totals and final scores against the floor's, exactly.
    checked = mismatched = 0
    for res in computed.values():
        for e in res.entries:
            if e.raw_total is None:
                continue
            total, f = floor[e.entry_id]
            checked += 1
            if e.raw_total != total or (e.final_score is not None and e.final_score != f):
                mismatched += 1
    complete = sum(1 for r in computed.values() for e in r.entries if e.complete)

    # One skill, one mark changed through the service, then re-ranked.
    big = max(skills, key=lambda s: s.entries.count())
    marks = list(
        Mark.objects.filter(skill=big, kind="J").select_related("entry", "aspect", "judge")[:200]
    )
    rng = random.Random(args.seed)
    write_times, rerank_times = [], []
    for _ in range(max(args.repeat, 20)):
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
        write_times.append(time.perf_counter() - start)
        mark.value = Decimal(new)
        start = time.perf_counter()
        results.recompute_skill(big)
        rerank_times.append(time.perf_counter() - start)
    big_entries = big.entries.count()
    big_marks = Mark.objects.filter(skill=big).count()
    load_after = _load()

    floor_best, all_best = min(floor_times), min(all_times)
    ratio_best = all_best / floor_best
    ratio_median = statistics.median(all_times) / statistics.median(floor_times)
    rerank_median_ms = statistics.median(rerank_times) * 1000
    print()
    print(f"machine: before timing {load_before}; after {load_after}")
    print(f"{'measure':<52} {'timing':>40}")
    print(f"{'SQL floor: one aggregate, all skills (exact totals)':<52} {_fmt(floor_times)}")
    print(f"{'results: compute_skills(all skills)':<52} {_fmt(all_times)}")
    print(
        f"{'  ratio results / floor (target ≤ 2)':<52} "
        f"best {ratio_best:8.2f}×      median {ratio_median:8.2f}×"
    )
    print(f"{'  its panels: load_panels + expected_by_entry':<52} {_fmt(panel_times)}")
    print(f"{'  panels.expected_judgement_judges × 109 (public)':<52} {_fmt(wrapper_times)}")
    print(f"{'  compute_skill per skill, 109 calls (once)':<52} {_fmt(loop_times)}")
    print(f"{'  recompute_skill per skill, stored (once)':<52} {_fmt(store_times)}")
    print(f"{f'one skill ({big.code}: {big_entries} entries, {big_marks} marks)':<52} {'':>40}")
    print(f"{'  write_mark (one J score, through the service)':<52} {_fmt(write_times)}")
    print(f"{'  recompute_skill after it (target ≤ 50 ms)':<52} {_fmt(rerank_times)}")
    print(f"{'  worst re-rank':<52} {max(rerank_times) * 1000:>12.1f} ms")
    print()
    print(
        f"{_verdict(ratio_best <= RATIO_TARGET)}  all results ≤ {RATIO_TARGET:g}× the SQL floor "
        f"(best {ratio_best:.2f}×, median {ratio_median:.2f}×)"
    )
    print(
        f"{_verdict(rerank_median_ms <= RERANK_TARGET_MS)}  one skill re-ranked "
        f"≤ {RERANK_TARGET_MS:g} ms (median {rerank_median_ms:.1f} ms, "
        f"best {min(rerank_times) * 1000:.1f} ms)"
    )
    print(
        f"check: {checked} entry totals compared with the floor, {mismatched} differ; "
        f"{complete} complete entries"
    )
    print(f"database vendor: {connection.vendor}")
    return 1 if mismatched else 0


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
