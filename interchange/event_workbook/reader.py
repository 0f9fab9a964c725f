"""Reading the known sheets of an uploaded event workbook."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from django.utils.translation import gettext_lazy as _
from openpyxl.utils import get_column_letter

from portal import spreadsheets

from .context import ParsedSheet, SheetDefinition, SheetRow
from .report import ImportReport, WorkbookError
from .sheets import SHEET_REGISTRY

# The key row may sit below a title row; look this far down for it.
HEADER_SEARCH_ROWS = spreadsheets.HEADER_SEARCH_ROWS


def _parse_sheet(ws, definition: SheetDefinition, report: ImportReport) -> ParsedSheet | None:
    keys = definition.resource.column_keys()
    required = set(definition.resource.required_columns())
    found = spreadsheets.read_table(ws, keys, required, HEADER_SEARCH_ROWS)
    if found is None:
        report.errors.append(
            WorkbookError(
                definition.name,
                None,
                None,
                None,
                _("No row with the column keys %(keys)s in the first %(n)s rows."),
                {"keys": ", ".join(sorted(required)), "n": HEADER_SEARCH_ROWS},
            )
        )
        return None
    table, rows = found
    for extra, index in sorted(table.unknown.items()):
        report.warnings.append(
            WorkbookError(
                definition.name,
                table.header_row,
                extra,
                get_column_letter(index + 1),
                _("Unknown column “%(column)s” was ignored."),
                {"column": extra},
            )
        )
    parsed = [SheetRow(number, values) for number, values in rows]
    return ParsedSheet(definition.name, table.header_row, table.letters, parsed, definition)


Progress = Callable[[str, int, int], None]  # (stage, steps done, steps in all)


def read_workbook(
    source: str | os.PathLike | IO[bytes] | spreadsheets.BoundedWorkbook,
    report: ImportReport,
    progress: Progress | None = None,
) -> dict[str, ParsedSheet]:
    """The known sheets of an .xlsx, parsed within the upload bounds
    (``portal.spreadsheets``); problems go to ``report``. A refused file
    gives one error naming the sheet and nothing parsed."""
    known = {d.name: d for d in SHEET_REGISTRY}
    parsed: dict[str, ParsedSheet] = {}
    try:
        book = (
            source
            if isinstance(source, spreadsheets.BoundedWorkbook)
            else spreadsheets.open_workbook(source)
        )
        with book:
            steps = len(book.worksheets) + len(SHEET_REGISTRY)
            for step, ws in enumerate(book.worksheets):
                if progress is not None:
                    progress(f"read:{ws.title}", step, steps)
                name = ws.title.strip().lower()
                definition = known.get(name)
                if definition is None:
                    report.warnings.append(
                        WorkbookError(
                            ws.title,
                            None,
                            None,
                            None,
                            _("Unknown sheet “%(sheet)s” was not imported."),
                            {"sheet": ws.title},
                        )
                    )
                    continue
                if name in parsed:
                    continue
                sheet = _parse_sheet(ws, definition, report)
                if sheet is not None:
                    parsed[name] = sheet
    except spreadsheets.SpreadsheetRefused as exc:
        report.errors.append(exc.problem)
        return {}
    return parsed
