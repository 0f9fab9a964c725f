"""The file formats the admin's import and export pages offer
(django-import-export), made safe for spreadsheets (docs/exports.md).

Only CSV and XLSX are offered (``IMPORT_EXPORT_FORMATS`` in settings):

- XLSX export writes every text as a string cell (``portal.exporters.keep_text``),
  so a name such as ``=HYPERLINK(...)`` is shown, never evaluated, and comes
  back unchanged. XLSX import reads a formula cell as its text
  (django-import-export's own reader reads its cached result, or nothing).
- CSV export puts an apostrophe before text a spreadsheet would take for a
  formula (``portal.exporters.csv_text``); CSV import takes it off again, so
  an export imports back to the same values.

django-import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` is not
used: it deletes the leading "=" (the data changes) and ignores "+", "-", "@".
"""

from __future__ import annotations

from io import BytesIO
from typing import cast

import tablib
from import_export.formats import base_formats
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from tablib.formats._xlsx import XLSXFormat

from portal.exporters import csv_text, csv_text_read, keep_text_in_sheet, safe_sheet_name


class CSV(base_formats.CSV):
    def export_data(self, dataset: tablib.Dataset, **kwargs) -> str:
        safe = tablib.Dataset(headers=[csv_text(h) for h in dataset.headers or []] or None)
        for row in dataset:
            safe.append([csv_text(v) for v in row])
        return safe.export(self.get_title(), **kwargs)

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        data = super().create_dataset(in_stream, **kwargs)
        clean = tablib.Dataset(headers=data.headers)
        for row in data:
            clean.append([csv_text_read(v) for v in row])
        return clean


class XLSX(base_formats.XLSX):
    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        book = Workbook()
        ws = book.worksheets[0]
        ws.title = safe_sheet_name(dataset.title or "Tablib Dataset")
        # tablib's own layout (bold header, frozen first row, widths), then
        # every text cell back to text.
        XLSXFormat.dset_sheet(dataset, ws, freeze_panes=True)
        XLSXFormat._adapt_column_width(ws, "adaptive")
        keep_text_in_sheet(ws)  # no formula from the data, ever
        stream = BytesIO()
        book.save(stream)
        return stream.getvalue()

    def create_dataset(self, in_stream) -> tablib.Dataset:
        """The first sheet; a formula cell reads as its text (data_only=False)."""
        book = load_workbook(BytesIO(in_stream), read_only=True, data_only=False)
        try:
            # read_only=True: the active sheet is a read-only worksheet.
            sheet = cast(ReadOnlyWorksheet, book.active)
            rows = sheet.iter_rows(values_only=True)  # type: ignore[misc]  # stub binds it to Worksheet
            data = tablib.Dataset()
            data.headers = list(next(rows, ()))
            width = len(data.headers)
            for row in rows:
                if any(v is not None for v in row):
                    cells = list(row)[:width]
                    data.append(cells + [None] * (width - len(cells)))
            return data
        finally:
            book.close()


FORMATS = [CSV, XLSX]

# The admin exports numbers and dates as such only for the formats in this
# list (it compares types exactly): add ours, as its own XLSX is there.
if XLSX not in base_formats.BINARY_FORMATS:
    base_formats.BINARY_FORMATS.append(XLSX)
