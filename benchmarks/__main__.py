"""``python -m benchmarks <name> [options]``: one subcommand per benchmark module.

A benchmark module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; list it in ``BENCHMARKS`` below.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from benchmarks import (
    certificates,
    concurrency,
    hostile,
    pages,
    scoring,
    seed,
    tablet_pages,
    tablets,
    workbook,
)

BENCHMARKS: dict[str, ModuleType] = {
    "seed": seed,
    "scoring": scoring,
    "certificates": certificates,
    "tablets": tablets,
    "concurrency": concurrency,
    "tablet_pages": tablet_pages,
    "workbook": workbook,
    "hostile": hostile,
    "pages": pages,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Timing figures for the portal against the database in DATABASE_URL "
        "(a throwaway SQLite file under /tmp when unset).",
    )
    subcommands = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, module in BENCHMARKS.items():
        sub = subcommands.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
