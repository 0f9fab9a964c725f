"""The event workbook (docs/formats.md): read, import, export, template.

Import is all-or-nothing. ``importer.import_workbook`` reads every known
sheet, checks every row of every sheet, and writes inside ONE transaction;
if any problem is found anywhere the transaction is rolled back, so nothing
is written, and every problem comes back as a ``WorkbookError`` (sheet,
Excel row, column key and letter, message in Chinese and English).

Columns and cell cleaning come from the django-import-export resources
(``competitions.resources``, ``teams.resources``, this package's
``resources`` for aspects and marks); export uses their ``export()``. The
import loop is this package's own, not the resources' ``import_data``: the
entries and judges sheets have rules across rows (team members share a
competitor number and must number exactly the team size; one chief judge
per skill; an athlete once per event) and across sheets (codes defined
earlier in the same file), and all problems of all sheets must be reported
together, which django-import-export's row-at-a-time import cannot do.

Rows missing from the file are left alone: importing brings the listed rows
up to date and never deletes (an entry listed in the file gets exactly the
members the file lists; a skill's aspects are its whole scheme).

One module per question:

- ``reader``: which sheets the file holds, parsed within the upload bounds;
- ``context``: what the sheets' importers share (rows, the import context);
- ``sheets``: the sheets in import (dependency) order, and the registry
  through which apps above this one add theirs (sector's ``rewards``);
- ``delegations``, ``skills``, ``entries`` (with ``athletes``,
  ``entry_writer``), ``judges``, ``aspects``, ``marks`` (with
  ``mark_facts``, ``mark_checks``, ``mark_messages``): one sheet each;
- ``references``: do a row's skill and delegation codes exist;
- ``importer``: the transaction around them all; ``report``: what it returns;
- ``writer``: an event's workbook, or the empty template.

An importer first checks every row with ``ctx.clean_row`` and ``ctx.error``
(recording what later sheets may refer to in ``ctx.state``), then writes
only when ``ctx.writable``, calling ``ctx.count(sheet, outcome)`` once per
row.
"""
