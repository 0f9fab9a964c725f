"""Importing an event workbook: all or nothing, in one transaction."""

from __future__ import annotations

import os
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Event, Programme

from .context import ImportContext
from .reader import Progress, read_workbook
from .report import ImportReport, SheetStats, WorkbookError
from .sheets import SHEET_REGISTRY


class _RollBack(Exception):
    """Raised inside the transaction to undo it (errors found, or a dry run)."""


def _event_for(code: str, report: ImportReport, name: str | None) -> Event:
    event = Event.objects.filter(code=code).first()
    if event is not None:
        return event
    # A new event needs a programme: the newest one, or a new one for this year.
    programme = Programme.objects.order_by("-year", "code").first()
    if programme is None:
        year = timezone.localdate().year
        programme = Programme.objects.create(
            code=f"programme-{year}", name=f"{year}年职业技能大赛", year=year
        )
        report.programme_created = True
    report.event_created = True
    return Event.objects.create(programme=programme, code=code, name=name or code)


def import_workbook(
    source: str | os.PathLike | IO[bytes],
    event_code: str,
    *,
    dry_run: bool = False,
    event_name: str | None = None,
    actor=None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an event workbook for event ``event_code`` (created if unknown,
    with the newest programme, or a new ``programme-<year>`` if there is none).

    All-or-nothing: returns a report whose ``errors`` list every problem;
    if there is any, nothing was written (``committed`` is False).
    """
    report = ImportReport(event_code=event_code, dry_run=dry_run)
    if not _valid_event_code(event_code, report):
        return report
    sheets = read_workbook(source, report, progress)
    if not sheets and report.errors:
        return report
    try:
        with transaction.atomic():
            ctx = ImportContext(_event_for(event_code, report, event_name), report, sheets)
            # Marks written by the import are recorded in the ledger as this user's.
            ctx.state["actor"] = actor
            _import_sheets(ctx, progress)
            if report.errors or dry_run:
                raise _RollBack
            report.committed = True
    except _RollBack:
        pass
    except IntegrityError as exc:
        # The checks above should make this unreachable; a concurrent edit may not.
        report.errors.append(
            WorkbookError(
                None,
                None,
                None,
                None,
                _("The database refused the import: %(detail)s"),
                {"detail": str(exc).splitlines()[0]},
            )
        )
    if report.errors:
        # Counts of a rolled-back import would describe writes that never happened.
        for stats in report.sheets.values():
            stats.created = stats.updated = stats.unchanged = 0
        report.event_created = report.programme_created = False
    return report


def _valid_event_code(code: str, report: ImportReport) -> bool:
    try:
        validate_slug(code)
    except ValidationError:
        report.errors.append(
            WorkbookError(
                None,
                None,
                None,
                None,
                _("Event code “%(code)s” may only hold letters, digits, - and _."),
                {"code": code},
            )
        )
        return False
    return True


def _import_sheets(ctx: ImportContext, progress: Progress | None) -> None:
    """Each sheet of the file, in the registry's (dependency) order."""
    steps = len(ctx.sheets) + len(SHEET_REGISTRY)
    for step, definition in enumerate(SHEET_REGISTRY, start=len(ctx.sheets)):
        sheet = ctx.sheets.get(definition.name)
        if sheet is not None:
            if progress is not None:
                progress(f"import:{definition.name}", step, steps)
            ctx.report.sheets[definition.name] = SheetStats()
            definition.importer(ctx, sheet)
