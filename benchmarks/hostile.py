"""Hostile uploads against the bounded reader (``portal.spreadsheets``): time
and peak memory of an event-workbook import of each file.

Files, written under a temporary directory:

* ``cells``: a workbook of 4,000,000 numeric cells in one sheet (800,000
  rows × 5 columns) whose sheet declares no dimension, so only counting its
  cells can tell (the worst case for the reader);
* ``dimension``: a few cells in a sheet that declares ``A1:XFD1048576``;
* ``bomb``: a valid workbook with a 512 MB part that packs to about 0.5 MB;
* ``national``: the national event workbook — the national preset's final
  with every mark (``benchmarks.scoring``'s builder: 4,059 entries, 487,080
  marks), written sheet by sheet with the registered sheets' columns.
  Skipped with ``--skip-national`` (building it takes several minutes; a
  database that already holds it is reused).

Each file is imported in a fresh subprocess (``import_workbook`` with
``--dry-run`` semantics: checked in full, written, rolled back), which
prints its wall time and peak resident memory (``ru_maxrss``), and the
memory of the same process before the import (Django loaded). A hostile
file must be refused within seconds and stay under ~300 MB; the national
one must import.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks import django_env

HELP = "hostile uploads (4M cells, A1:XFD1048576, zip bomb) and the national workbook"

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHEET_PART = "xl/worksheets/sheet1.xml"


def _xlsx(path: Path, sheet: str, sheet_xml_chunks) -> Path:
    """An .xlsx with one sheet: the package openpyxl writes, with the
    sheet's XML replaced by the chunks (streamed, so it may be huge)."""
    from openpyxl import Workbook

    skeleton = io.BytesIO()
    book = Workbook()
    book.worksheets[0].title = sheet
    book.save(skeleton)
    with (
        zipfile.ZipFile(skeleton) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
    ):
        for info in src.infolist():
            if info.filename != _SHEET_PART:
                z.writestr(info.filename, src.read(info.filename))
        with z.open(_SHEET_PART, "w", force_zip64=True) as part:
            for chunk in sheet_xml_chunks:
                part.write(chunk)
    return path


def _head(dimension: str | None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
    return f"{head}{dim}<sheetData>".encode()


_TAIL = b"</sheetData></worksheet>"


def make_cells(path: Path, rows: int = 800_000, columns: int = 5) -> Path:
    """4M cells of varied numbers (so the part packs like real data, below
    the ratio bound, and only the cell count refuses it)."""
    rng = random.Random(4)

    block = b"".join(
        b"<row>"
        + b"".join(b"<c><v>%d</v></c>" % rng.randrange(10**6) for _ in range(columns))
        + b"</row>"
        for _ in range(10_000)
    )  # ~1 MB, wider than deflate's 32 KB window: repeating it packs no better

    def chunks():
        yield _head(None)
        for _ in range(rows // 10_000):
            yield block
        yield _TAIL

    return _xlsx(path, "marks", chunks())


def make_dimension(path: Path) -> Path:
    body = b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
    return _xlsx(path, "delegations", [_head("A1:XFD1048576"), body, _TAIL])


def make_bomb(path: Path, size: int = 512 * 1024**2) -> Path:
    body = b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
    chunk = b" " * (16 * 1024 * 1024)

    def chunks():
        yield _head("A1:A1")
        yield body
        for _ in range(size // len(chunk)):
            yield chunk  # whitespace between elements: valid XML, packs ~1000×
        yield _TAIL

    return _xlsx(path, "delegations", chunks())


def make_national(path: Path, seed: int) -> Path:
    """The national final with every mark, written as its event workbook:
    every registered sheet with the resources' columns, as
    ``interchange.event_workbook.writer.build_workbook`` writes it, but streamed
    (openpyxl write-only; the marks sheet from one ``values_list``): the
    in-memory export of half a million rows takes tens of minutes and
    gigabytes, and the export is not what is measured here."""
    from openpyxl import Workbook

    from benchmarks import scoring
    from competitions.models import Event
    from demo.builder import DEMO_EVENT_CODES
    from interchange.event_workbook.sheets import SHEET_REGISTRY
    from scoring.models import AspectKind, Mark

    final = Event.objects.filter(code=DEMO_EVENT_CODES[-1]).first()
    if final is None or not Mark.objects.filter(skill__event=final).exists():
        scoring._build(argparse.Namespace(preset="national", seed=seed))
        final = Event.objects.get(code=DEMO_EVENT_CODES[-1])
    book = Workbook(write_only=True)
    for definition in SHEET_REGISTRY:
        ws = book.create_sheet(definition.name)
        ws.append(definition.resource.column_keys())
        if definition.name == "marks":
            rows = (
                Mark.objects.filter(skill__event=final)
                .order_by("skill__code", "entry__competitor_no", "aspect__code", "judge__code")
                .values_list(
                    "skill__code",
                    "entry__competitor_no",
                    "aspect__code",
                    "judge__code",
                    "kind",
                    "value",
                )
                .iterator(chunk_size=20_000)
            )
            for skill, number, aspect, judge, kind, value in rows:
                score = int(value) if kind == AspectKind.JUDGEMENT else float(value)
                ws.append([skill, number, aspect, judge, score])
            continue
        for values in definition.resource().export(definition.export_queryset(final)):
            ws.append(list(values))
    book.save(path)
    return path


# --------------------------------------------------------------------------- measuring


def _measure_child(path: str, event: str) -> None:
    """In the subprocess: import ``path`` (checked in full, then rolled back)."""
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from interchange.event_workbook.importer import import_workbook

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = import_workbook(path, event, dry_run=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = report.errors[0] if report.errors else None
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "rss_before_mb": before / 1024,
                "rss_peak_mb": peak / 1024,
                "errors": len(report.errors),
                "first": f"{first.sheet or '-'}: {first.message_zh} | {first.message_en}"
                if first
                else "",
                "rows": {k: sum(v.values()) for k, v in report.counts().items()},
            }
        )
    )


def _measure(path: Path, event: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.hostile", "--child", str(path), event],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--skip-national", action="store_true", help="only the hostile files (seconds)"
    )
    parser.add_argument(
        "--national", type=Path, help="a national event workbook already exported (kept)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the files and the database")


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    os.environ.setdefault("DJANGO_DEBUG", "1")  # a developer's tool (the child inherits it)
    database, _migrate = django_env.setup(tmp / "bench.sqlite3")
    print(f"database: {database}; files in {tmp}")
    files: dict[str, Path] = {}
    for name, make in (("cells", make_cells), ("dimension", make_dimension), ("bomb", make_bomb)):
        start = time.perf_counter()
        files[name] = make(tmp / f"{name}.xlsx")
        print(
            f"  wrote {name}: {files[name].stat().st_size / 1024:,.1f} KB "
            f"({time.perf_counter() - start:.1f} s)"
        )
    if args.national:
        files["national"] = args.national
    elif not args.skip_national:
        start = time.perf_counter()
        files["national"] = make_national(tmp / "national.xlsx", args.seed)
        print(
            f"  built and exported national: {files['national'].stat().st_size / 1024**2:,.1f} MB "
            f"({time.perf_counter() - start:.0f} s)"
        )

    print(f"{'file':<10} {'size':>10} {'time':>9} {'peak RSS':>9} {'(Django)':>9}  outcome")
    ok = True
    for name, path in files.items():
        result = _measure(path, f"hostile-{name}")
        size = path.stat().st_size
        shown = f"{size / 1024**2:.1f} MB" if size > 1024**2 else f"{size / 1024:.1f} KB"
        if result["errors"]:
            outcome = f"refused ({result['errors']}): {result['first']}"
        else:
            outcome = "imported (dry run): " + ", ".join(
                f"{k} {v:,}" for k, v in result["rows"].items()
            )
        print(
            f"{name:<10} {shown:>10} {result['seconds']:8.2f}s {result['rss_peak_mb']:7.0f}MB "
            f"{result['rss_before_mb']:7.0f}MB  {outcome}"
        )
        if name == "national":
            ok = ok and not result["errors"]
        else:
            ok = ok and bool(result["errors"]) and result["rss_peak_mb"] < 300
    if not args.keep:
        for name, path in files.items():
            if not (name == "national" and args.national):
                path.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--child":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    _measure_child(sys.argv[2], sys.argv[3])
