"""The admin's import formats (django-import-export), bounded like every
other upload: an .xlsx is read through ``portal.spreadsheets`` (zip, sheet
dimension, rows, columns, cells; formulas as their text), a CSV is bounded
by size and rows. Admin classes with import buttons use
``BoundedImportExportMixin``; see docs/uploads.md.
"""

from __future__ import annotations

import io
from typing import Any

import tablib
from import_export.admin import ImportExportMixin

from . import spreadsheets
from .spreadsheet_formats import CSV, XLSX  # text stays text on export


class UploadRefused(ValueError):
    """An admin import file past the upload bounds; the message says which."""


def _refused(exc: spreadsheets.SpreadsheetRefused) -> UploadRefused:
    p = exc.problem
    where = f"{p.sheet}: " if p.sheet else ""
    return UploadRefused(f"{where}{p.message_zh} | {p.message_en}")


class BoundedXLSX(XLSX):
    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        """The first sheet: the key row, then every row (as the stock format)."""
        dataset = tablib.Dataset()
        try:
            with spreadsheets.open_workbook(io.BytesIO(in_stream)) as book:
                rows = book.worksheets[0].iter_rows() if book.worksheets else iter(())
                headers = next(rows, ())
                width = len(headers)
                dataset.headers = list(headers)
                for row in rows:
                    values: list[Any] = list(row[:width]) + [None] * (width - len(row))
                    dataset.append(values)
        except spreadsheets.SpreadsheetRefused as exc:
            raise _refused(exc) from exc
        return dataset


class BoundedCSV(CSV):
    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        limits = spreadsheets.Limits.from_settings()
        size = len(in_stream)
        if size > limits.max_file_bytes:
            raise UploadRefused(f"CSV: {size} bytes > {limits.max_file_bytes}")
        text = in_stream.decode() if isinstance(in_stream, bytes) else in_stream
        if text.count("\n") > limits.max_rows:
            raise UploadRefused(f"CSV: more than {limits.max_rows} rows")
        return super().create_dataset(in_stream, **kwargs)


class BoundedImportExportMixin(ImportExportMixin):
    """``ImportExportMixin`` whose import formats are the bounded ones."""

    import_formats = [BoundedCSV, BoundedXLSX]

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        """A refused file says why (which bound, which sheet, in Chinese and
        English), not only the name of the exception as the library does."""
        if isinstance(e, UploadRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)
