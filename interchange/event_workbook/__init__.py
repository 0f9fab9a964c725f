"""The event workbook (docs/formats.md): read, import, export, template.

Import is all-or-nothing. ``import_workbook`` reads every known sheet, checks
every row of every sheet, and writes inside ONE transaction; if any problem
is found anywhere the transaction is rolled back, so nothing is written, and
every problem comes back as a ``WorkbookError`` (sheet, Excel row, column key
and letter, message in Chinese and English).

Columns and cell cleaning come from the django-import-export resources
(``competitions.resources``, ``teams.resources``); export uses their
``export()``. The import loop is this module's own, not the resources'
``import_data``: the entries and judges sheets have rules across rows (team
members share a competitor number and must number exactly the team size; one
chief judge per skill; an athlete once per event) and across sheets (codes
defined earlier in the same file), and all problems of all sheets must be
reported together, which django-import-export's row-at-a-time import cannot do.

Quotas are enforced where the organisers set one, with the lead pages' rule
(``teams.services.quota_problem``); see ``_check_quotas``.

Rows missing from the file are left alone: importing brings the listed rows
up to date and never deletes (an entry listed in the file gets exactly the
members the file lists).

Adding a sheet (e.g. the scoring app's ``aspects`` and ``marks``) needs no
change here: write a resource (columns, widgets, ``sheet_name``,
``titles_zh``), an importer ``def import_aspects(ctx: ImportContext, sheet:
ParsedSheet) -> None`` and an export queryset function, then register them
in the app's ``workbook_sheets`` module (imported by this module once it is
loaded, the way the admin finds ``admin.py``; see ``scoring.workbook_sheets``)::

    from competitions.workbook import SheetDefinition, register_sheet

    register_sheet(SheetDefinition(
        resource=AspectResource,
        importer=import_aspects,
        export_queryset=lambda event: Aspect.objects.filter(skill__event=event),
    ))

Sheets are imported in registration order (dependency order), so register
``aspects`` before ``marks``; both come after the built-in four. An importer
follows the pattern of the built-in ones: first check every row with
``ctx.clean_row`` and ``ctx.error`` (recording what later sheets may refer
to in ``ctx.state``), then write only when ``ctx.writable``, calling
``ctx.count(sheet, outcome)`` once per row.
"""
