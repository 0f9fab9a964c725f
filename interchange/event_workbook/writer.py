"""Writing an event's workbook, or the empty template."""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from competitions.models import Event
from competitions.resources import SheetResource
from portal.exporters import keep_text

from .sheets import SHEET_REGISTRY

_TITLE_FONT = Font(bold=True, color="555555")
_KEY_FONT = Font(bold=True)
_KEY_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet_header(ws, resource: type[SheetResource], title_row: bool) -> None:
    keys = resource.column_keys()
    if title_row:
        ws.append([resource.titles_zh.get(k, k) for k in keys])
        for cell in ws[ws.max_row]:
            cell.font = _TITLE_FONT
    ws.append(keys)
    for cell in ws[ws.max_row]:
        cell.font = _KEY_FONT
        cell.fill = _KEY_FILL
    for i, key in enumerate(keys, start=1):
        width = max(len(key), len(resource.titles_zh.get(key, "")) * 2 if title_row else 0) + 4
        ws.column_dimensions[get_column_letter(i)].width = min(width, 40)
    # A coordinate, not ws.cell(): that would create a cell and push the data down a row.
    ws.freeze_panes = f"A{ws.max_row + 1}"


def build_workbook(event: Event | None, *, title_row: bool = False) -> Workbook:
    """The workbook of ``event`` (every registered sheet), or an empty template
    when ``event`` is None. The template carries a Chinese title row above
    the key row; both re-import unchanged."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for definition in SHEET_REGISTRY:
        ws = book.create_sheet(definition.name)
        _sheet_header(ws, definition.resource, title_row)
        if event is None:
            continue
        dataset = definition.resource().export(definition.export_queryset(event))
        for values in dataset:
            ws.append(list(values))
            for cell in ws[ws.max_row]:
                keep_text(cell)  # a name beginning with "=" stays a name
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    return book


def template_workbook() -> Workbook:
    return build_workbook(None, title_row=True)
