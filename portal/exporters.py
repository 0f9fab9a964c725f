"""Rows in, workbook out: the base of every Excel export (docs/formats.md).

A sheet exporter only says what its sheet is — name, columns (English key,
Chinese title, number format) — and yields rows; ``write_workbook`` writes
any number of them with openpyxl's write-only mode (constant memory, rows
streamed), so a results workbook of a 4,000-entry final costs no more memory
than one row.

The first row of each sheet holds the column keys (docs/formats.md), which is
what the importers and the delegations' own spreadsheets read. A Chinese
title row is an option for downloadable templates only, and then sits
*above* the keys (the importers look for the key row a few rows down); sheet
exporters whose consumers need the keys on row 1 set ``allow_title_row =
False``.

    class Rankings(SheetExporter):
        sheet_name = "rankings"
        columns = (Column("rank", "名次", INTEGER), Column("final_score", "成绩", TWO_PLACES))

        def rows(self):
            yield (1, Decimal("95.13"))

    write_workbook([Rankings()], "results.xlsx")

Workbooks for people (a delegation lead's download, a printed ranking) are a
*presentation* of the same sheet exporters: ``write_workbook(...,
presentation=Presentation())`` puts a styled Chinese header row first
(optionally a caption line above it and the keys below it), freezes the
panes under the header, sets column widths from the Chinese titles, repeats
the header rows on every printed page and lays the page out landscape, fit
to the paper's width. Columns, number formats and rows are unchanged, so a
presentation never drifts from the interchange format; without
``presentation`` the output is exactly the docs/formats.md workbook.

User text never becomes a formula (docs/exports.md): openpyxl writes a string
that begins with "=" as a formula, so every exporter of the portal — these
sheet exporters, the event workbook, the marking scheme, the admin's
django-import-export files — passes its cells through ``keep_text`` (xlsx:
an explicit string cell, the text unchanged) or ``csv_text`` (CSV: a leading
apostrophe).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar, Literal

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# A cell that begins with one of these may be taken for a formula by a
# spreadsheet program (OWASP, "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def keep_text(cell: Cell) -> Cell:
    """``cell`` holding a str is written as a string cell, never as a formula.

    openpyxl marks a str beginning with "=" as a formula when it is assigned;
    forcing the data type back to "s" writes it as text, unchanged, so Excel
    and LibreOffice show it and never evaluate it, and an importer reads back
    exactly the text that went out."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def keep_text_in_sheet(ws: Worksheet, formulas: Container[str] = ()) -> None:
    """``keep_text`` on every cell of a (normal, not write-only) sheet, except
    the coordinates in ``formulas`` — the formulas the exporter wrote itself."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f" and cell.coordinate not in formulas:
                cell.data_type = "s"


def csv_text(value: object) -> object:
    """A value for a CSV (or TSV) cell: text a spreadsheet would read as a
    formula gets a leading apostrophe (OWASP); plain numbers stay as they are."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def csv_text_read(value: object) -> object:
    """The inverse of ``csv_text`` for importers: "'=x" reads as "=x"."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


INTEGER = "0"
TWO_PLACES = "0.00"
TEXT = "@"


@dataclass(frozen=True)
class Column:
    key: str  # English column key, row 1 (docs/formats.md)
    title_zh: str = ""  # Chinese title for an optional title row
    number_format: str | None = None  # e.g. TWO_PLACES; None: openpyxl's default
    width: int | None = None  # characters; None: from the key and title


class SheetExporter(ABC):
    """One sheet: a subclass defines ``sheet_name``, ``columns`` and ``rows()``."""

    sheet_name: str
    columns: ClassVar[Sequence[Column]]
    allow_title_row: ClassVar[bool] = True
    # An autofilter over the header row and every data row (ranking sheets).
    autofilter: ClassVar[bool] = False
    # A line above the header in a presentation (e.g. "砌筑 · 成绩排名"); a
    # subclass or an instance may set it. Ignored by the interchange format.
    caption: str = ""

    @abstractmethod
    def rows(self) -> Iterable[Sequence[object]]:
        """Rows of cell values, in the order of ``columns``; None = empty cell."""

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


HeaderRow = Literal["titles", "keys"]

# Characters not allowed in an Excel sheet name; 31 characters at most.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31


def safe_sheet_name(text: str, taken: set[str] | None = None) -> str:
    """``text`` as a valid, unique (case-insensitively, as Excel compares)
    sheet name; ``taken`` collects the names already used in the workbook."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", text).strip().strip("'") or "sheet"
    name = name[:SHEET_NAME_MAX]
    if taken is None:
        return name
    base, i = name, 2
    while name.lower() in taken:
        suffix = f"~{i}"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        i += 1
    taken.add(name.lower())
    return name


def display_width(text: str) -> int:
    """Columns a text needs in a spreadsheet: CJK and full-width characters
    take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@dataclass(frozen=True)
class Presentation:
    """How a workbook meant for people looks (see the module docstring)."""

    header: tuple[HeaderRow, ...] = ("titles",)  # header rows, top to bottom
    captions: bool = True  # each sheet's ``caption`` on a line above the header
    header_fill: str = "1F4E79"  # dark blue, white bold text
    header_font_color: str = "FFFFFF"
    freeze: bool = True  # the header stays in view while scrolling
    print_titles: bool = True  # caption and header repeated on every printed page
    landscape: bool = True
    fit_to_width: bool = True  # one page wide, as many pages tall as needed
    min_width: int = 6
    number_width: int = 9  # scores and ranks: room for "1000.00"
    # The "@" (text) format on cells that already hold text changes nothing a
    # reader sees; a presentation leaves it out (it is most of the styled
    # cells of a rankings sheet). Numbers keep their formats ("0.00", "0").
    text_format: bool = False


def write_workbook(
    sheets: Sequence[SheetExporter],
    target: str | Path | IO[bytes],
    *,
    title_row: bool = False,
    presentation: Presentation | None = None,
) -> None:
    """Write the sheets, in order, to ``target`` (a path or a binary file).

    ``presentation`` (see :class:`Presentation`) styles the workbook for
    people; ``title_row`` is then ignored (the presentation says which header
    rows there are)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    wb = Workbook(write_only=True)
    try:
        for exporter in sheets:
            ws = wb.create_sheet(title=exporter.sheet_name)
            ws._values_to_row = _values_to_row(ws)
            if presentation is None:
                header_rows = _interchange_header(ws, exporter, title_row)
            else:
                header_rows = _presentation_header(ws, exporter, presentation)
            written = _write_rows(
                ws, exporter, text_format=presentation is None or presentation.text_format
            )
            if exporter.autofilter and header_rows:
                # A write-only sheet writes its filter when it closes, after the rows.
                last = get_column_letter(len(exporter.columns))
                ws.auto_filter.ref = f"A{header_rows}:{last}{header_rows + written}"
    except BaseException:
        # A write-only sheet streams into a temporary file through a suspended
        # generator: finish and remove it now rather than when it is collected.
        for ws in wb.worksheets:
            if not ws.closed:
                ws.close()
            writer = getattr(ws, "_writer", None)
            if writer is not None:
                writer.cleanup()
        raise
    wb.save(target)


def _values_to_row(ws):
    """openpyxl's ``WriteOnlyWorksheet._values_to_row`` (3.1), but a ``Cell``
    in a row is taken as it is: openpyxl first tries to assign it as a value
    to its own cell, which raises and is caught, then makes a new cell after
    every styled one. Per formatted value that was an exception and a cell
    object; over a national rankings workbook, most of what styling cost
    beyond writing the values (benchmarks/README.md, workbook)."""

    def values_to_row(values, row_idx):
        cell = WriteOnlyCell(ws)  # unstyled, reused for every plain value
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, Cell):
                value.column = col_idx
                value.row = row_idx
                yield value
                continue
            cell.value = value
            cell.column = col_idx
            cell.row = row_idx
            yield cell

    return values_to_row


def _interchange_header(ws, exporter: SheetExporter, title_row: bool) -> int:
    """docs/formats.md: the keys on row 1 (an optional Chinese title row above).
    Returns the number of rows written (the last one is the key row)."""
    columns = list(exporter.columns)
    with_titles = title_row and exporter.allow_title_row
    for i, col in enumerate(columns, start=1):
        width = col.width or max(len(col.key), 2 * len(col.title_zh) if with_titles else 0) + 4
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3" if with_titles else "A2"
    if with_titles:
        ws.append([keep_text(WriteOnlyCell(ws, value=c.title_zh or c.key)) for c in columns])
    bold = Font(bold=True)
    header = []
    for col in columns:
        cell = keep_text(WriteOnlyCell(ws, value=col.key))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    return 2 if with_titles else 1


def _presentation_header(ws, exporter: SheetExporter, p: Presentation) -> int:
    """Caption, styled header rows, widths, frozen panes, print set-up.
    Returns the number of rows written above the data.

    Everything here must happen before the first row: a write-only sheet
    writes its column widths and sheet view ahead of the rows."""
    columns = list(exporter.columns)
    shows_keys = "keys" in p.header
    for i, col in enumerate(columns, start=1):
        width = col.width or max(
            display_width(col.title_zh or col.key),
            len(col.key) if shows_keys else 0,
            p.number_width if col.number_format not in (None, TEXT) else 0,
            p.min_width,
        )
        ws.column_dimensions[get_column_letter(i)].width = width + 3
    with_caption = bool(p.captions and exporter.caption)
    rows_above = int(with_caption) + len(p.header)
    # The sheet view (frozen panes) is written with the first row: set it now.
    if p.freeze and rows_above:
        ws.freeze_panes = f"A{rows_above + 1}"
    if p.print_titles and rows_above:
        ws.print_title_rows = f"1:{rows_above}"
    if p.landscape:
        ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    if p.fit_to_width:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&P / &N"  # page x of n
    styles = _header_styles(ws, p)
    if with_caption:
        ws.append([_styled(ws, exporter.caption, styles["caption"])])
    for kind in p.header:
        if kind == "titles":
            ws.append([_styled(ws, c.title_zh or c.key, styles["titles"]) for c in columns])
        else:
            ws.append([_styled(ws, c.key, styles["keys"]) for c in columns])
    return rows_above


def _header_styles(ws, p: Presentation) -> dict[str, StyleArray]:
    """The caption's and header rows' styles, registered with the workbook
    once. Setting font, fill, border and alignment object by object on every
    header cell of a hundred sheets cost more than writing all their rows."""
    wb = ws.parent
    cache = getattr(wb, "_presentation_styles", None)
    if cache is not None and cache[0] == p:
        return cache[1]
    side = Side(style="thin", color="A6A6A6")
    border = Border(left=side, right=side, top=side, bottom=side)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    caption = WriteOnlyCell(ws)
    caption.font = Font(bold=True, size=13)
    titles = WriteOnlyCell(ws)
    titles.font = Font(bold=True, color=p.header_font_color)
    titles.fill = PatternFill("solid", fgColor=p.header_fill)
    keys = WriteOnlyCell(ws)
    keys.font = Font(italic=True, color="595959", size=9)
    for cell in (titles, keys):
        cell.alignment = center
        cell.border = border
    # openpyxl's private per-cell style array (the stubs leave it out).
    styles = {
        "caption": caption._style,  # type: ignore[attr-defined]
        "titles": titles._style,  # type: ignore[attr-defined]
        "keys": keys._style,  # type: ignore[attr-defined]
    }
    wb._presentation_styles = (p, styles)
    return styles


def _styled(ws, value: object, style: StyleArray) -> Cell:
    cell = WriteOnlyCell(ws)
    cell.value = value  # type: ignore[assignment]  # rows() hold objects; openpyxl refuses any it cannot write
    keep_text(cell)
    # A copy: each cell owns its style array (private; the stubs leave it out).
    cell._style = StyleArray(style)  # type: ignore[attr-defined]
    return cell


def _write_rows(ws, exporter: SheetExporter, *, text_format: bool = True) -> int:
    """Stream the exporter's rows; formatted values go through one cell per
    column that carries the format.

    Reusing the cell is safe: a write-only sheet writes each appended row
    before ``append`` returns, so the next row may set the same cells again.
    It spares a cell object and a style look-up per value, which is most of
    what a number format costs over plain values.

    Text goes out as string cells (``keep_text``): a plain str appended to a
    write-only sheet would become a formula when it begins with "="."""
    columns = list(exporter.columns)
    carriers: list[Cell | None] = []
    for col in columns:
        fmt = col.number_format
        if fmt is None or (fmt == TEXT and not text_format):
            carriers.append(None)
            continue
        cell = WriteOnlyCell(ws)
        cell.number_format = fmt
        carriers.append(cell)
    width = len(columns)
    written = 0
    for row in exporter.rows():
        if len(row) != width:
            raise ValueError(f"{exporter.sheet_name}: row of {len(row)} cells for {width} columns")
        cells: list[object] = []
        for value, carrier in zip(row, carriers, strict=True):
            if value is None:
                cells.append(value)
            elif carrier is None:
                # Only a str beginning with "=" would become a formula; other
                # values go in as they are (no cell object per value).
                if isinstance(value, str) and value.startswith("="):
                    cells.append(keep_text(WriteOnlyCell(ws, value=value)))
                else:
                    cells.append(value)
            else:
                # A Decimal is written as its exact digits (no float on the way).
                carrier.value = value  # type: ignore[assignment]  # as in _styled
                cells.append(keep_text(carrier))
        ws.append(cells)
        written += 1
    return written
