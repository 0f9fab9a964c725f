"""Time the demo builder behind ``manage.py seed_demo``, phase by phase.

Runs it with ``reset`` (so it replaces any demo programme in the database it
is pointed at) and prints wall time and rows per second for each phase
(delegations, skills, athletes, entries, judges) and the row counts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import django_env

if TYPE_CHECKING:
    from demo.builder import DemoResult

HELP = "time seed_demo per phase (delegations, skills, athletes, entries, judges)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("provincial", "national"), default="provincial")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=1, help="build N times, report each run")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    parser.add_argument(
        "--keep", action="store_true", help="keep the throwaway SQLite file afterwards"
    )


def run(args: argparse.Namespace) -> int:
    sqlite_file = Path(f"/tmp/portal-bench-{os.getpid()}.sqlite3")
    database, migrate_seconds = django_env.setup(sqlite_file)
    try:
        return _run(args, database, migrate_seconds)
    finally:
        if sqlite_file.exists() and not args.keep:
            sqlite_file.unlink()


def _run(args: argparse.Namespace, database: str, migrate_seconds: float) -> int:
    from demo import builder as demo  # needs Django set up

    sizes = demo.PRESETS[args.preset]
    if not args.json:
        print(f"database: {database} (migrate {migrate_seconds:.2f} s)")
        print(
            f"preset: {args.preset}: {sizes.delegations} delegations, {sizes.skills} skills, "
            f"{sizes.entries} entries, {sizes.judges} judges; seed {args.seed}"
        )
    for run_no in range(1, args.repeat + 1):
        start = time.perf_counter()
        result = demo.build_demo(sizes, seed=args.seed, reset=True)
        wall = time.perf_counter() - start
        if args.json:
            print(json.dumps(_as_dict(args, database, run_no, wall, result), ensure_ascii=False))
            continue
        print(f"\nrun {run_no}: {wall:.2f} s wall (including counting)")
        print(f"  {'phase':<12} {'seconds':>8} {'rows':>8} {'rows/s':>9}")
        for phase in result.phases:
            print(
                f"  {phase.name:<12} {phase.seconds:>8.3f} {phase.rows:>8}"
                f" {phase.rows_per_second:>9.0f}"
            )
        build = [p for p in result.phases if p.name != "reset"]
        rows = sum(p.rows for p in build)
        seconds = sum(p.seconds for p in build)
        print(f"  {'build':<12} {seconds:>8.3f} {rows:>8} {rows / seconds:>9.0f}")
        print("  counts: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    return 0


def _as_dict(
    args: argparse.Namespace, database: str, run_no: int, wall: float, result: DemoResult
) -> dict:
    return {
        "benchmark": "seed",
        "database": database,
        "preset": args.preset,
        "seed": args.seed,
        "run": run_no,
        "wall_seconds": round(wall, 4),
        "phases": [
            {"name": p.name, "seconds": round(p.seconds, 4), "rows": p.rows} for p in result.phases
        ],
        "counts": result.counts,
    }
