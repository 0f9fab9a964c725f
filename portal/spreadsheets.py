"""The one place uploaded spreadsheets are opened and their cells read.

Every importer (the event workbook, marking schemes incl. CIS) opens its
upload with ``open_workbook`` and reads rows with ``BoundedSheet.iter_rows``
or ``read_table``. An upload is bounded before anything is parsed, and
again while it is read, so a hostile file is refused within seconds and in
little memory (see ``docs/uploads.md``):

1. the file itself: compressed size;
2. the zip: number of parts, the uncompressed size of each part (shared
   strings with a lower bound of their own), the total, and the compression
   ratio of large parts (a zip bomb);
3. each sheet, before openpyxl opens the workbook (it would parse a whole
   sheet that declares no dimension just to look for one): the declared
   dimension (``<dimension ref="A1:XFD1048576">``) against the row and
   column bounds, then its cells, counted in the XML without parsing it;
4. each sheet, while its rows are read: row number, column number and cells.

``check_zip`` does steps 1–3 (a browser upload is checked so in the request);
``open_workbook`` does them, then opens the workbook for step 4.

The workbook is read in streaming mode (openpyxl ``read_only``, its XML
through defusedxml, which openpyxl uses when it is installed). A formula
cell is read as its text (``=SUM(A1:A3)``), as a ``FormulaText``: a ``str``
that still says it came from a formula, for readers (the CIS reader) that
must not take a formula for a stated value.

A refusal is a ``SpreadsheetRefused`` carrying a ``CellProblem`` (sheet, row,
column when known; the message in Chinese and English).
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from defusedxml import ElementTree
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from .problems import CellProblem

# The key row may sit below a title row; look this far down for it.
HEADER_SEARCH_ROWS = 10

MB = 1024 * 1024

# Defaults of the bounds; each is a setting (``PORTAL_SPREADSHEET_<NAME>``).
# They admit the national event workbook (4,059 entries, ~490,000 mark rows
# in one sheet: ~2.5 million cells, ~40 MB of sheet XML).
DEFAULTS: dict[str, int] = {
    "MAX_FILE_BYTES": 64 * MB,  # the upload as sent (compressed)
    "MAX_PARTS": 500,  # files inside the zip
    "MAX_PART_BYTES": 256 * MB,  # one part, uncompressed
    "MAX_STRINGS_BYTES": 64 * MB,  # the shared strings part, uncompressed
    "MAX_TOTAL_BYTES": 512 * MB,  # all parts, uncompressed
    "MAX_RATIO": 100,  # uncompressed / compressed of a part larger than 1 MB
    "MAX_ROWS": 1_000_000,  # per sheet
    "MAX_COLUMNS": 200,  # per sheet
    "MAX_CELLS": 3_000_000,  # per sheet
}
RATIO_FLOOR = MB  # small parts may compress as well as they like

NOT_XLSX = _("The file is not a readable .xlsx workbook.")
FILE_TOO_LARGE = _("The file is %(size)s MB; at most %(max)s MB can be uploaded.")
TOO_MANY_PARTS = _("The workbook holds %(count)s files inside; at most %(max)s are accepted.")
PART_TOO_LARGE = _(
    "The workbook's part %(part)s unpacks to %(size)s MB; at most %(max)s MB are accepted."
)
TOTAL_TOO_LARGE = _("The workbook unpacks to %(size)s MB; at most %(max)s MB are accepted.")
ZIP_BOMB = _(
    "The workbook's part %(part)s unpacks to %(ratio)s times its packed size; "
    "at most %(max)s times is accepted (a zip bomb?)."
)
DIMENSION_TOO_LARGE = _(
    "The sheet declares the range %(range)s: %(rows)s rows and %(columns)s columns; "
    "at most %(max_rows)s rows and %(max_columns)s columns are accepted."
)
TOO_MANY_ROWS = _("The sheet has a row %(row)s; at most %(max)s rows are accepted.")
TOO_MANY_COLUMNS = _(
    "The sheet has a cell in column %(letter)s (column %(column)s); "
    "at most %(max)s columns are accepted."
)
TOO_MANY_CELLS = _("The sheet has more than %(max)s cells; at most %(max)s are accepted.")


class FormulaText(str):
    """The text of a formula cell (``=SUM(A1:A3)``): a ``str`` that remembers
    it was a formula. Readers that only want stated values test for it."""

    __slots__ = ()


def is_formula(value: Any) -> bool:
    return isinstance(value, FormulaText)


class SpreadsheetRefused(Exception):
    """The upload is refused before (or while) it is read."""

    def __init__(self, problem: CellProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_parts: int
    max_part_bytes: int
    max_strings_bytes: int
    max_total_bytes: int
    max_ratio: int
    max_rows: int
    max_columns: int
    max_cells: int

    @classmethod
    def from_settings(cls, **overrides: int) -> Limits:
        values = {
            name.lower(): int(getattr(settings, f"PORTAL_SPREADSHEET_{name}", default))
            for name, default in DEFAULTS.items()
        }
        values.update(overrides)
        return cls(**values)


def _refuse(message: Any, sheet: str | None = None, row: int | None = None, **params: Any):
    if row is not None:
        params.setdefault("row", row)
    raise SpreadsheetRefused(CellProblem(sheet, row, None, None, message, params))


def _mb(size: int) -> str:
    return f"{size / MB:.1f}"


# --------------------------------------------------------------------------- the zip


def _source_size(source: str | os.PathLike | IO[bytes]) -> int:
    size = getattr(source, "size", None)
    if isinstance(size, int):
        return size
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source)
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def check_zip(source: str | os.PathLike | IO[bytes], limits: Limits) -> None:
    """Bound the file and each part of its zip, reading only the directory.

    Python's zipfile never unpacks more than a part's declared size, so
    bounding the declared sizes bounds what any later reading unpacks."""
    size = _source_size(source)
    if size > limits.max_file_bytes:
        _refuse(FILE_TOO_LARGE, size=_mb(size), max=_mb(limits.max_file_bytes))
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        _refuse(NOT_XLSX)
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if len(infos) > limits.max_parts:
        _refuse(TOO_MANY_PARTS, count=len(infos), max=limits.max_parts)
    total = 0
    for info in infos:
        cap = (
            limits.max_strings_bytes
            if info.filename.lower().endswith("sharedstrings.xml")
            else limits.max_part_bytes
        )
        if info.file_size > cap:
            _refuse(PART_TOO_LARGE, part=info.filename, size=_mb(info.file_size), max=_mb(cap))
        if info.file_size > RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                _refuse(ZIP_BOMB, part=info.filename, ratio=int(ratio), max=limits.max_ratio)
        total += info.file_size
    if total > limits.max_total_bytes:
        _refuse(TOTAL_TOO_LARGE, size=_mb(total), max=_mb(limits.max_total_bytes))
    try:
        with zipfile.ZipFile(source) as archive:
            for part, title in _sheet_parts(archive).items():
                with archive.open(part) as stream:
                    _scan_sheet(stream, title, limits)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, SyntaxError):
        pass  # opening the workbook reports an unreadable file (XML ParseError is a SyntaxError)
    finally:
        if hasattr(source, "seek"):
            source.seek(0)


# The namespace prefix of a sheet's elements (``<x:worksheet``), if any, and
# its declared dimension: read from its first bytes (step 3).
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*):worksheet[\s>]")
_DIMENSION = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="\$?([A-Za-z]{1,3})\$?(\d{1,7})'
    rb'(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?"'
)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Zip part of each worksheet → its title, from the workbook's own
    (small, already bounded) parts, parsed through defusedxml."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {
        r.get("Id"): r.get("Target") or "" for r in rels.iter(f"{{{_PKG_REL_NS}}}Relationship")
    }
    names = set(archive.namelist())
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        if path in names:
            parts[path] = sheet.get("name") or path
    return parts


def _scan_sheet(stream: IO[bytes], title: str, limits: Limits) -> None:
    """Step 3 before openpyxl sees the sheet (it would parse a whole sheet
    that declares no dimension just to look for one): the declared
    dimension, then the cells, counted."""
    head = stream.read(64 * 1024)
    found = _DIMENSION.search(head)
    if found:
        first_col, first_row, last_col, last_row = found.groups()
        last_col, last_row = last_col or first_col, last_row or first_row
        rows = int(last_row)
        columns = column_index_from_string(last_col.decode().upper())
        if rows > limits.max_rows or columns > limits.max_columns:
            start = f"{first_col.decode().upper()}{first_row.decode()}"
            _refuse(
                DIMENSION_TOO_LARGE,
                sheet=title,
                range=f"{start}:{last_col.decode().upper()}{last_row.decode()}",
                rows=rows - int(first_row) + 1,
                columns=columns - column_index_from_string(first_col.decode().upper()) + 1,
                max_rows=limits.max_rows,
                max_columns=limits.max_columns,
            )
    if _count_cells(stream, limits.max_cells, head) > limits.max_cells:
        _refuse(TOO_MANY_CELLS, sheet=title, max=limits.max_cells)


def _count_cells(stream: IO[bytes], limit: int, tail: bytes = b"") -> int:
    """Cells in a sheet's XML (after ``tail``, already read), counted in
    chunks with ``bytes.count`` (a ``<`` in text is escaped, so ``<c `` is
    always a tag); stops past ``limit``."""
    prefix = _PREFIX.search(tail[:4096])
    tag = b"<" + (prefix.group(1) + b":" if prefix else b"") + b"c"
    patterns = (tag + b" ", tag + b">", tag + b"/")
    count = 0
    while True:
        chunk = stream.read(4 * MB)
        data = tail + chunk
        # Count the tags that start before ``cut``; the rest is carried over.
        cut = len(data) if not chunk else max(len(data) - 16, 0)
        count += sum(data.count(p, 0, cut + len(p) - 1) for p in patterns)
        tail = data[cut:]
        if count > limit or not chunk:
            return count


# --------------------------------------------------------------------------- sheets


class BoundedSheet:
    """One sheet, read row by row within the bounds (``iter_rows`` as
    openpyxl's, for the readers written against it)."""

    def __init__(self, book: BoundedWorkbook, ws) -> None:
        self._book = book
        self._ws = ws
        self.title: str = ws.title
        self._checked = False

    def _check(self) -> None:
        if self._checked:
            return
        limits = self._book.limits
        ws = self._ws
        if ws.max_row is not None and ws.max_column is not None:
            rows = ws.max_row - (ws.min_row or 1) + 1
            columns = ws.max_column - (ws.min_column or 1) + 1
            if ws.max_row > limits.max_rows or ws.max_column > limits.max_columns:
                _refuse(
                    DIMENSION_TOO_LARGE,
                    sheet=self.title,
                    range=ws.calculate_dimension(),
                    rows=rows,
                    columns=columns,
                    max_rows=limits.max_rows,
                    max_columns=limits.max_columns,
                )
        self._checked = True

    def cells(self) -> Iterator[tuple[int, dict[int, Any]]]:
        """(Excel row number, {column number: value}) of each row with a
        cell, in order; formulas as ``FormulaText``. Raises
        ``SpreadsheetRefused`` past a bound."""
        self._check()
        limits = self._book.limits
        book = self._book.book
        ws = self._ws
        cells = 0
        with ws._get_source() as src:
            parser = WorkSheetParser(
                src,
                ws._shared_strings,
                data_only=False,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for number, raw in parser.parse():
                if number > limits.max_rows:
                    _refuse(TOO_MANY_ROWS, sheet=self.title, row=number, max=limits.max_rows)
                cells += len(raw)
                if cells > limits.max_cells:
                    _refuse(TOO_MANY_CELLS, sheet=self.title, row=number, max=limits.max_cells)
                values: dict[int, Any] = {}
                for cell in raw:
                    column = cell["column"]
                    if column > limits.max_columns:
                        _refuse(
                            TOO_MANY_COLUMNS,
                            sheet=self.title,
                            row=number,
                            letter=get_column_letter(min(column, 18278)),
                            column=column,
                            max=limits.max_columns,
                        )
                    value = cell["value"]
                    if cell["data_type"] == "f":
                        value = _formula_text(value)
                    if value is not None:
                        values[column] = value
                yield number, values

    def iter_rows(
        self, min_row: int = 1, max_col: int | None = None, values_only: bool = True
    ) -> Iterator[tuple[Any, ...]]:
        """Rows from ``min_row`` as tuples of values, empty rows as ``()``,
        like openpyxl's ``iter_rows(values_only=True)`` (the only form offered)."""
        if not values_only:
            raise ValueError("BoundedSheet.iter_rows gives values only")
        expected = min_row
        for number, values in self.cells():
            if number < min_row:
                continue
            while expected < number:
                expected += 1
                yield ()
            expected = number + 1
            width = max(values, default=0) if max_col is None else max_col
            yield tuple(values.get(c) for c in range(1, width + 1))


def _formula_text(value: Any) -> FormulaText:
    if isinstance(value, ArrayFormula):
        return FormulaText(value.text or "")
    if isinstance(value, DataTableFormula):
        return FormulaText("=TABLE()")
    return FormulaText(value or "=")


class BoundedWorkbook:
    """An uploaded workbook opened within the bounds; close it when done
    (it is a context manager)."""

    def __init__(self, book, limits: Limits) -> None:
        self.book = book
        self.limits = limits
        self.worksheets = [BoundedSheet(self, ws) for ws in book.worksheets]

    @property
    def sheetnames(self) -> list[str]:
        return [s.title for s in self.worksheets]

    def close(self) -> None:
        self.book.close()

    def __enter__(self) -> BoundedWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workbook(
    source: str | os.PathLike | IO[bytes], limits: Limits | None = None
) -> BoundedWorkbook:
    """Check the file and its zip (step 1–2), then open it read-only.
    Sheets are checked (steps 3–4) as they are read."""
    limits = limits or Limits.from_settings()
    check_zip(source, limits)
    try:
        book = load_workbook(source, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, zlib.error, KeyError, OSError, ValueError):
        _refuse(NOT_XLSX)
    except Exception as exc:  # defusedxml's refusals, malformed XML, …
        if type(exc).__module__.startswith(("defusedxml", "xml")):
            _refuse(NOT_XLSX)
        raise
    return BoundedWorkbook(book, limits)


class _OpenpyxlSheet:
    """An in-memory openpyxl sheet read like a ``BoundedSheet``: formula cells
    as ``FormulaText``. For workbooks the portal built itself (tests, exports
    read back)."""

    def __init__(self, ws) -> None:
        self._ws = ws
        self.title: str = ws.title

    def iter_rows(
        self, min_row: int = 1, max_col: int | None = None, values_only: bool = True
    ) -> Iterator[tuple[Any, ...]]:
        for row in self._ws.iter_rows(min_row=min_row, max_col=max_col):
            yield tuple(_formula_text(c.value) if c.data_type == "f" else c.value for c in row)


def sheets_of(book: Any) -> list[Any]:
    """The sheets of a ``BoundedWorkbook``, or of an openpyxl ``Workbook``
    wrapped to read the same way."""
    if isinstance(book, BoundedWorkbook):
        return book.worksheets
    return [_OpenpyxlSheet(ws) for ws in book.worksheets]


# --------------------------------------------------------------------------- tables


def header_key(value: Any) -> str | None:
    """A key-row cell as a column key: stripped, lower case."""
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


@dataclass
class Table:
    """A sheet read as a table: the key row and, below it, one dict per
    non-empty row (column key → value, None when empty)."""

    sheet: str
    header_row: int  # the Excel row of the keys
    positions: dict[str, int]  # column key → 0-based index
    unknown: dict[str, int] = field(default_factory=dict)  # keys not asked for → index

    @property
    def letters(self) -> dict[str, str]:
        return {k: get_column_letter(i + 1) for k, i in self.positions.items()}


def find_header(
    rows: Iterable[tuple[int, tuple[Any, ...]]],
    required: Iterable[str],
    search_rows: int = HEADER_SEARCH_ROWS,
) -> tuple[int, dict[str, int]] | None:
    """The key row among the first ``search_rows`` rows: (Excel row number,
    key → first 0-based index of every key in that row), the first row that
    holds every ``required`` key; None when there is none."""
    wanted = set(required)
    for number, cells in rows:
        if number > search_rows:
            return None
        found: dict[str, int] = {}
        for index, value in enumerate(cells):
            key = header_key(value)
            if key is not None and key not in found:
                found[key] = index
        if wanted <= found.keys():
            return number, found
    return None


def read_table(
    sheet: Any,
    keys: Iterable[str],
    required: Iterable[str],
    search_rows: int = HEADER_SEARCH_ROWS,
) -> tuple[Table, Iterator[tuple[int, dict[str, Any]]]] | None:
    """The key row of ``sheet`` and an iterator over the rows below it as
    (Excel row number, key → value) with strings stripped (empty → None);
    empty rows are skipped. None when no key row is found."""
    keys = list(keys)
    numbered = _numbered(sheet.iter_rows(values_only=True))
    header = find_header(numbered, required, search_rows)
    if header is None:
        return None
    number, found = header
    positions = {k: i for k, i in found.items() if k in keys}
    unknown = {k: i for k, i in found.items() if k not in keys}
    table = Table(sheet.title, number, positions, unknown)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for row_number, cells in numbered:
            values = {k: clean(cells[i]) if i < len(cells) else None for k, i in positions.items()}
            if any(v is not None for v in values.values()):
                yield row_number, values

    return table, rows()


def _numbered(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    return ((n, cells) for n, cells in enumerate(rows, start=1))


def clean(value: Any) -> Any:
    """A cell's value with text stripped; empty text is None. A formula keeps
    its ``FormulaText`` type."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        return FormulaText(stripped) if isinstance(value, FormulaText) else stripped
    return value
