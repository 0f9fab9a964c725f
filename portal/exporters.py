"""Rows in, workbook out: the base of every Excel export (DESIGN.md §6, §8).

A sheet exporter only says what its sheet is — name, columns (English key,
Chinese title, number format) — and yields rows; ``write_workbook`` writes
any number of them with openpyxl's write-only mode (constant memory, rows
streamed), so a results workbook of a 4,000-entry final costs no more memory
than one row.

The first row of each sheet holds the column keys (DESIGN.md §6), which is
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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

INTEGER = "0"
TWO_PLACES = "0.00"
TEXT = "@"


@dataclass(frozen=True)
class Column:
    key: str  # English column key, row 1 (DESIGN.md §6)
    title_zh: str = ""  # Chinese title for an optional title row
    number_format: str | None = None  # e.g. TWO_PLACES; None: openpyxl's default
    width: int | None = None  # characters; None: from the key and title


class SheetExporter(ABC):
    """One sheet: a subclass defines ``sheet_name``, ``columns`` and ``rows()``."""

    sheet_name: ClassVar[str]
    columns: ClassVar[Sequence[Column]]
    allow_title_row: ClassVar[bool] = True

    @abstractmethod
    def rows(self) -> Iterable[Sequence[object]]:
        """Rows of cell values, in the order of ``columns``; None = empty cell."""

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


def write_workbook(
    sheets: Sequence[SheetExporter],
    target: str | Path | IO[bytes],
    *,
    title_row: bool = False,
) -> None:
    """Write the sheets, in order, to ``target`` (a path or a binary file)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    try:
        for exporter in sheets:
            ws = wb.create_sheet(title=exporter.sheet_name)
            columns = list(exporter.columns)
            with_titles = title_row and exporter.allow_title_row
            for i, col in enumerate(columns, start=1):
                width = (
                    col.width or max(len(col.key), 2 * len(col.title_zh) if with_titles else 0) + 4
                )
                ws.column_dimensions[get_column_letter(i)].width = width
            ws.freeze_panes = "A3" if with_titles else "A2"
            if with_titles:
                ws.append([c.title_zh or c.key for c in columns])
            header = []
            for col in columns:
                cell = WriteOnlyCell(ws, value=col.key)
                cell.font = bold
                header.append(cell)
            ws.append(header)
            formats = [c.number_format for c in columns]
            for row in exporter.rows():
                if len(row) != len(columns):
                    raise ValueError(
                        f"{exporter.sheet_name}: row of {len(row)} cells for {len(columns)} columns"
                    )
                cells = []
                for value, fmt in zip(row, formats, strict=True):
                    if fmt is None or value is None:
                        cells.append(value)
                        continue
                    # A Decimal is written as its exact digits (no float on the way).
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = fmt
                    cells.append(cell)
                ws.append(cells)
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
