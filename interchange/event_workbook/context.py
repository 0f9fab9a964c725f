"""What the importers of the event workbook's sheets share: parsed rows,
the sheet definitions and the import context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from competitions.models import Event
from competitions.resources import SheetResource

from .report import ImportReport, SheetStats, WorkbookError

# --------------------------------------------------------------------------- reading


@dataclass(slots=True)  # a national marks sheet holds ~490,000 of them
class SheetRow:
    number: int  # the real Excel row number
    values: dict[str, Any]  # column key → stripped cell value, None when empty


@dataclass
class ParsedSheet:
    name: str
    header_row: int
    letters: dict[str, str]  # column key → column letter
    rows: list[SheetRow]
    definition: SheetDefinition


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class SheetDefinition:
    """One sheet of the event workbook: its resource (columns, cleaning,
    export), its importer and the rows it exports for an event."""

    resource: type[SheetResource]
    importer: Callable[[ImportContext, ParsedSheet], None]
    export_queryset: Callable[[Event], QuerySet]

    @property
    def name(self) -> str:
        return self.resource.sheet_name


# --------------------------------------------------------------------------- import context


class ImportContext:
    """What importers share: the event, the report, and ``state`` for what
    earlier sheets defined (codes, team sizes) so later sheets can check
    references before anything is written."""

    def __init__(self, event: Event, report: ImportReport, sheets: dict[str, ParsedSheet]) -> None:
        self.event = event
        self.report = report
        self.sheets = sheets
        self.state: dict[str, Any] = {}
        self._resources: dict[type, SheetResource] = {}

    @property
    def writable(self) -> bool:
        """Write only while nothing is wrong: any error rolls everything back anyway,
        and writing half-checked rows could trip database constraints."""
        return not self.report.errors

    def error(
        self,
        sheet: ParsedSheet,
        row: SheetRow | int | None,
        column: str | None,
        message: Any,
        **params: Any,
    ) -> None:
        number = row.number if isinstance(row, SheetRow) else row
        letter = sheet.letters.get(column) if column else None
        self.report.errors.append(
            WorkbookError(sheet.name, number, column, letter, message, params)
        )

    def validation_error(
        self, sheet: ParsedSheet, row: SheetRow, column: str | None, exc: ValidationError
    ) -> None:
        if hasattr(exc, "error_dict"):
            for key, errors in exc.error_dict.items():
                target = key if key in sheet.letters else column
                for e in errors:
                    self.error(sheet, row, target, e.message, **(e.params or {}))
            return
        for e in exc.error_list:
            self.error(sheet, row, column, e.message, **(e.params or {}))

    def clean_row(self, sheet: ParsedSheet, row: SheetRow) -> tuple[dict[str, Any], bool]:
        """Clean each cell with the resource's widget. Returns the values that
        cleaned (bad cells are left out) and whether the whole row is good."""
        resource = self._resources.get(sheet.definition.resource)
        if resource is None:
            resource = self._resources[sheet.definition.resource] = sheet.definition.resource()
        data: dict[str, Any] = {}
        ok = True
        for key, fld in resource.column_fields().items():
            raw = row.values.get(key)
            if raw is None and key in resource.required_values:
                self.error(sheet, row, key, _("This cell must not be empty."))
                ok = False
                continue
            try:
                data[key] = fld.widget.clean(raw, row=row.values)
            except ValidationError as exc:
                self.validation_error(sheet, row, key, exc)
                ok = False
            except (ValueError, TypeError, ArithmeticError):
                self.error(sheet, row, key, _("“%(value)s” is not a valid value."), value=str(raw))
                ok = False
        return data, ok

    def count(self, sheet: ParsedSheet, outcome: str) -> None:
        stats = self.report.sheets.setdefault(sheet.name, SheetStats())
        setattr(stats, outcome, getattr(stats, outcome) + 1)


def cleaned_rows(sheet: ParsedSheet, ctx: ImportContext) -> Iterable[tuple[SheetRow, dict, bool]]:
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        yield row, data, ok


# The reason the audit trail records for what an import changes (athletes and
# entries keep a history: docs/integrity.md). The organiser who imports is the
# one who may change identities after the deadline; the workbook is the reason.
IMPORT_REASON = "赛事工作簿导入 / event workbook import"


def update_changed(obj: Any, values: dict[str, Any]) -> bool:
    """Set changed attributes; save only if something changed (re-imports stay no-ops)."""
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    if changed:
        obj._change_reason = IMPORT_REASON
        obj.save(update_fields=changed)
    return bool(changed)


def check_duplicate(
    ctx: ImportContext,
    sheet: ParsedSheet,
    row: SheetRow,
    seen: dict[Any, int],
    key: Any,
    column: str,
    label: str,
) -> bool:
    if key in seen:
        ctx.error(
            sheet,
            row,
            column,
            _("%(value)s is listed twice (first in row %(first)s)."),
            value=label,
            first=seen[key],
        )
        return False
    seen[key] = row.number
    return True
