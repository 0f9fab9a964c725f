"""Opening a scheme workbook within the upload bounds and finding its sheets."""

from __future__ import annotations

import os
from typing import IO, Any

from portal import spreadsheets

from .cells import norm
from .data import CIS_SHEET, SchemeImportError


def load_scheme_workbook(source: str | os.PathLike | IO[bytes]) -> spreadsheets.BoundedWorkbook:
    """Open an uploaded or named .xlsx within the upload bounds, streaming
    (``portal.spreadsheets``). Formula cells are read as their text, marked
    as formulas: a cached result may be stale, and the readers never treat a
    formula as a stated value. A refused file raises SchemeImportError."""
    try:
        return spreadsheets.open_workbook(source)
    except spreadsheets.SpreadsheetRefused as exc:
        raise SchemeImportError([exc.problem]) from exc


def sheet_rows(ws: Any) -> list[tuple[Any, ...]]:
    """A sheet's rows (a scheme is small; a refusal past the bounds is
    raised as SchemeImportError naming the sheet)."""
    try:
        return list(ws.iter_rows(values_only=True))
    except spreadsheets.SpreadsheetRefused as exc:
        raise SchemeImportError([exc.problem]) from exc


def find_cis_sheet(workbook: Any) -> Any | None:
    sheets = spreadsheets.sheets_of(workbook)
    for ws in sheets:
        if norm(ws.title) == norm(CIS_SHEET):
            return ws
    # Renamed sheet: recognise the layout by its block headers.
    for ws in sheets:
        for row in sheet_rows(ws):
            if row and norm(row[0]).startswith("sub criterion id"):
                return ws
    return None


def named_sheet(workbook: Any, name: str) -> Any | None:
    for ws in spreadsheets.sheets_of(workbook):
        if ws.title.strip().lower() == name:
            return ws
    return None
