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

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from portal import spreadsheets
from portal.exporters import keep_text
from portal.problems import CellProblem
from teams import idnumbers
from teams import services as team_services
from teams.models import Athlete, Delegation, Entry, EntryMember, Judge, JudgeAssignment, Quota
from teams.resources import DelegationResource, EntryRowResource, JudgeAssignmentResource
from teams.services import entry_rule_errors

from .models import Event, Programme, Skill
from .resources import SheetResource, SkillResource, cell_text

# The key row may sit below a title row; look this far down for it.
HEADER_SEARCH_ROWS = spreadsheets.HEADER_SEARCH_ROWS

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

UNKNOWN_DELEGATION = _(
    "Unknown delegation code %(code)s: not in the delegations sheet nor in the portal."
)
UNKNOWN_SKILL = _("Unknown skill code %(code)s: not in the skills sheet nor in this event.")


# --------------------------------------------------------------------------- results


WorkbookError = CellProblem


@dataclass
class SheetStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    event_code: str
    dry_run: bool = False
    event_created: bool = False
    programme_created: bool = False
    committed: bool = False
    sheets: dict[str, SheetStats] = field(default_factory=dict)
    errors: list[WorkbookError] = field(default_factory=list)
    warnings: list[WorkbookError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {CREATED: s.created, UPDATED: s.updated, UNCHANGED: s.unchanged}
            for name, s in self.sheets.items()
        }


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


def _cleaned_rows(sheet: ParsedSheet, ctx: ImportContext) -> Iterable[tuple[SheetRow, dict, bool]]:
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        yield row, data, ok


# The reason the audit trail records for what an import changes (athletes and
# entries keep a history: docs/integrity.md). The organiser who imports is the
# one who may change identities after the deadline; the workbook is the reason.
IMPORT_REASON = "赛事工作簿导入 / event workbook import"


def _update(obj: Any, values: dict[str, Any]) -> bool:
    """Set changed attributes; save only if something changed (re-imports stay no-ops)."""
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    if changed:
        obj._change_reason = IMPORT_REASON
        obj.save(update_fields=changed)
    return bool(changed)


# --------------------------------------------------------------------------- delegations


def known_delegation_codes(ctx: ImportContext) -> set[str]:
    return ctx.state.setdefault("delegation_codes", set())


def delegation_exists(ctx: ImportContext, code: str) -> bool:
    if code in known_delegation_codes(ctx):
        return True
    cache: dict[str, bool] = ctx.state.setdefault("delegation_in_db", {})
    if code not in cache:
        cache[code] = Delegation.objects.filter(code=code).exists()
    return cache[code]


def _check_duplicate(
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


def import_delegations(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """Global by code: create new codes, rename existing ones."""
    good: list[tuple[SheetRow, dict]] = []
    seen: dict[str, int] = {}
    for row, data, ok in _cleaned_rows(sheet, ctx):
        code = data.get("code")
        if code:
            known_delegation_codes(ctx).add(code)
            ok = _check_duplicate(ctx, sheet, row, seen, code, "code", code) and ok
        if ok:
            good.append((row, data))
    if not ctx.writable:
        return
    existing = {
        d.code: d for d in Delegation.objects.filter(code__in=[d["code"] for _r, d in good])
    }
    for _row, data in good:
        obj = existing.get(data["code"])
        if obj is None:
            Delegation.objects.create(code=data["code"], name=data["name"])
            ctx.count(sheet, CREATED)
        else:
            ctx.count(sheet, UPDATED if _update(obj, {"name": data["name"]}) else UNCHANGED)


# --------------------------------------------------------------------------- skills


def skill_sizes(ctx: ImportContext) -> dict[str, int | None]:
    """Skill code → team size, as the event will be after this import
    (None when the skills sheet's team_size cell is bad)."""
    if "skill_sizes" not in ctx.state:
        ctx.state["skill_sizes"] = (
            dict(ctx.event.skills.values_list("code", "team_size")) if ctx.event.pk else {}
        )
    return ctx.state["skill_sizes"]


def _listed_entry_keys(ctx: ImportContext) -> set[tuple[str, str]]:
    """(skill_code, competitor_no) of the entries sheet, read raw: the skills
    sheet needs them before the entries sheet is checked."""
    sheet = ctx.sheets.get("entries")
    if sheet is None:
        return set()
    return {
        (cell_text(r.values.get("skill_code")), cell_text(r.values.get("competitor_no")))
        for r in sheet.rows
    }


def import_skills(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """Unique by (event, code): create or update the event's skills."""
    sizes = skill_sizes(ctx)
    existing = {s.code: s for s in ctx.event.skills.all()} if ctx.event.pk else {}
    good: list[tuple[SheetRow, dict]] = []
    seen: dict[str, int] = {}
    for row, data, ok in _cleaned_rows(sheet, ctx):
        code = data.get("code")
        if code:
            ok = _check_duplicate(ctx, sheet, row, seen, code, "code", code) and ok
            # None: the size is unreadable, so entries cannot be counted against it.
            sizes[code] = data.get("team_size")
        old = existing.get(code or "")
        if old is not None and data.get("team_size") and data["team_size"] != old.team_size:
            # Entries not re-listed in this file would keep the old number of members.
            listed = _listed_entry_keys(ctx)
            stale = [
                e.competitor_no
                for e in old.entries.annotate(n=Count("members")).exclude(n=data["team_size"])
                if (code, e.competitor_no) not in listed
            ]
            if stale:
                ctx.error(
                    sheet,
                    row,
                    "team_size",
                    _(
                        "Skill %(code)s already has entries of another size (%(numbers)s); "
                        "list them in the entries sheet with %(size)s members each."
                    ),
                    code=code,
                    numbers=", ".join(stale[:10]),
                    size=data["team_size"],
                )
                ok = False
        if ok:
            good.append((row, data))
    if not ctx.writable:
        return
    for _row, data in good:
        values = {
            k: data[k] for k in ("name", "team_size", "award_policy", "judgement_aggregation")
        }
        obj = existing.get(data["code"])
        if obj is None:
            Skill.objects.create(event=ctx.event, code=data["code"], **values)
            ctx.count(sheet, CREATED)
        else:
            ctx.count(sheet, UPDATED if _update(obj, values) else UNCHANGED)


# --------------------------------------------------------------------------- entries


@dataclass
class _EntryRow:
    row: SheetRow
    data: dict[str, Any]
    athlete: Athlete | None = None  # matched existing athlete


def _matched(item: _EntryRow) -> Athlete:
    """The row's athlete, once the athletes sheet has been written."""
    assert item.athlete is not None, "entries are written after their athletes"
    return item.athlete


def _athlete_identity(item: _EntryRow) -> tuple:
    if item.athlete is not None:
        return ("pk", item.athlete.pk)
    d = item.data
    if d.get("id_number"):
        return ("id", d["id_number"])
    return ("name", d["delegation_code"], d["name"], d.get("birth_date"))


def _check_id_matches(ctx: ImportContext, sheet: ParsedSheet, item: _EntryRow) -> bool:
    d = item.data
    if not d.get("id_number"):
        return True
    try:
        idnumbers.validate_matches(d["id_number"], d.get("birth_date"), d.get("gender") or None)
    except ValidationError as exc:
        ctx.validation_error(sheet, item.row, "id_number", exc)
        return False
    # Blank birth date or gender: the ID number says what they are.
    d["birth_date"] = d.get("birth_date") or idnumbers.birth_date_of(d["id_number"])
    d["gender"] = d.get("gender") or idnumbers.gender_of(d["id_number"])
    return True


def _match_athletes(ctx: ImportContext, sheet: ParsedSheet, items: list[_EntryRow]) -> None:
    """Find each row's existing athlete: by ID number when given, else by
    (delegation, name, birth date). Ambiguity and foreign IDs are errors."""
    ids = [i.data["id_number"] for i in items if i.data.get("id_number")]
    by_id = {
        a.id_number: a
        for a in Athlete.objects.filter(id_number__in=ids).select_related("delegation")
    }
    by_name: dict[tuple, list[Athlete]] = defaultdict(list)
    for a in Athlete.objects.filter(
        delegation__code__in={i.data["delegation_code"] for i in items},
        name__in={i.data["name"] for i in items},
    ).select_related("delegation"):
        by_name[(a.delegation.code, a.name, a.birth_date)].append(a)
    for item in items:
        d = item.data
        if d.get("id_number") and d["id_number"] in by_id:
            athlete = by_id[d["id_number"]]
            if athlete.delegation.code != d["delegation_code"]:
                ctx.error(
                    sheet,
                    item.row,
                    "id_number",
                    _(
                        "This ID number belongs to %(name)s of delegation %(code)s; "
                        "an athlete cannot change delegation by import."
                    ),
                    name=athlete.name,
                    code=athlete.delegation.code,
                )
                continue
            item.athlete = athlete
            continue
        candidates = by_name.get((d["delegation_code"], d["name"], d.get("birth_date")), [])
        if d.get("id_number"):
            # A known athlete registered without an ID number gets it now.
            candidates = [a for a in candidates if not a.id_number]
        if len(candidates) == 1:
            item.athlete = candidates[0]
        elif len(candidates) > 1:
            ctx.error(
                sheet,
                item.row,
                "name",
                _(
                    "Several athletes of delegation %(code)s are called %(name)s with this "
                    "birth date; add their id_number to tell them apart."
                ),
                code=d["delegation_code"],
                name=d["name"],
            )


def import_entries(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per athlete; rows sharing (skill_code, competitor_no) form one entry."""
    sizes = skill_sizes(ctx)
    items: list[_EntryRow] = []
    incomplete: set[tuple[str, str]] = set()
    for row, data, ok in _cleaned_rows(sheet, ctx):
        if data.get("skill_code") and data["skill_code"] not in sizes:
            ctx.error(
                sheet,
                row,
                "skill_code",
                UNKNOWN_SKILL,
                code=data["skill_code"],
            )
            ok = False
        if data.get("delegation_code") and not delegation_exists(ctx, data["delegation_code"]):
            ctx.error(
                sheet,
                row,
                "delegation_code",
                UNKNOWN_DELEGATION,
                code=data["delegation_code"],
            )
            ok = False
        item = _EntryRow(row, data)
        if ok:
            ok = _check_id_matches(ctx, sheet, item)
        if ok:
            items.append(item)
        else:
            # Its entry cannot be counted against the team size: a row is missing.
            incomplete.add(
                (
                    cell_text(row.values.get("skill_code")),
                    cell_text(row.values.get("competitor_no")),
                )
            )

    # Group rows into entries; check team size and one delegation per entry.
    groups: dict[tuple[str, str], list[_EntryRow]] = defaultdict(list)
    for item in items:
        groups[(item.data["skill_code"], item.data["competitor_no"])].append(item)
    for (skill_code, number), members in groups.items():
        size = sizes[skill_code]
        if size is not None and len(members) != size and (skill_code, number) not in incomplete:
            ctx.error(
                sheet,
                members[0].row,
                "competitor_no",
                _(
                    "Competitor number %(number)s of skill %(skill)s has %(count)s rows "
                    "(rows %(rows)s) but the skill's team size is %(size)s."
                ),
                number=number,
                skill=skill_code,
                count=len(members),
                rows=", ".join(str(m.row.number) for m in members),
                size=size,
            )
    for (_skill, number), members in groups.items():
        first = members[0]
        for m in members[1:]:
            if m.data["delegation_code"] != first.data["delegation_code"]:
                ctx.error(
                    sheet,
                    m.row,
                    "delegation_code",
                    _(
                        "All members of entry %(number)s must have the same delegation_code "
                        "(row %(first)s has %(code)s)."
                    ),
                    number=number,
                    first=first.row.number,
                    code=first.data["delegation_code"],
                )

    _match_athletes(ctx, sheet, items)

    # An athlete once per event: within the file, and against entries not in the file.
    seen: dict[tuple, int] = {}
    for item in items:
        key = _athlete_identity(item)
        if key in seen:
            ctx.error(
                sheet,
                item.row,
                "id_number" if key[0] == "id" else "name",
                _(
                    "%(name)s is already listed in row %(first)s; an athlete can be in "
                    "only one entry of an event."
                ),
                name=item.data["name"],
                first=seen[key],
            )
        else:
            seen[key] = item.row.number
    if ctx.event.pk:
        matched = {i.athlete.pk: i for i in items if i.athlete is not None}
        for member in EntryMember.objects.filter(
            event=ctx.event, athlete_id__in=matched
        ).select_related("entry__skill"):
            entry_key = (member.entry.skill.code, member.entry.competitor_no)
            if entry_key not in groups:
                item = matched[member.athlete_id]
                ctx.error(
                    sheet,
                    item.row,
                    "name",
                    _(
                        "%(name)s is already in entry %(skill)s #%(number)s of this event; "
                        "an athlete can be in only one entry of an event."
                    ),
                    name=item.data["name"],
                    skill=entry_key[0],
                    number=entry_key[1],
                )

    _check_quotas(ctx, sheet, groups)
    if ctx.writable:
        _write_entries(ctx, sheet, groups)


def _check_quotas(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[_EntryRow]]
) -> None:
    """Entries per delegation and skill, as they will be after this import,
    within the quota where the organisers set one (``teams.services.quota_problem``,
    the lead pages' rule). A skill or delegation without a quota row is not
    limited: the workbook sets events up, quotas come later or not at all."""
    if not ctx.event.pk or not groups:
        return
    quotas = {
        (skill, delegation): limit
        for skill, delegation, limit in Quota.objects.filter(skill__event=ctx.event).values_list(
            "skill__code", "delegation__code", "max_entries"
        )
    }
    if not quotas:
        return
    counts: dict[tuple[str, str], list[_EntryRow | None]] = defaultdict(list)
    for (skill, _number), members in groups.items():
        counts[(skill, members[0].data["delegation_code"])].append(members[0])
    # Entries in the portal that this file does not list keep their places.
    for skill, number, delegation in Entry.objects.filter(skill__event=ctx.event).values_list(
        "skill__code", "competitor_no", "delegation__code"
    ):
        if (skill, number) not in groups and (skill, delegation) in counts:
            counts[(skill, delegation)].append(None)
    for (skill, delegation), firsts in counts.items():
        quota = quotas.get((skill, delegation))
        if quota is None or team_services.quota_problem(quota, len(firsts)) is None:
            continue
        listed = [m for m in firsts if m is not None]
        over = listed[-1] if listed else None
        ctx.error(
            sheet,
            over.row if over else None,
            "delegation_code",
            _(
                "Delegation %(delegation)s would have %(count)s entries in skill %(skill)s; "
                "its quota is %(quota)s (rows %(rows)s)."
            ),
            delegation=delegation,
            count=len(firsts),
            skill=skill,
            quota=quota,
            rows=", ".join(str(m.row.number) for m in listed[:10]),
        )


def _write_entries(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[_EntryRow]]
) -> None:
    skills = {s.code: s for s in ctx.event.skills.all()}
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(
            code__in={m.data["delegation_code"] for ms in groups.values() for m in ms}
        )
    }
    existing = {
        (e.skill.code, e.competitor_no): e
        for e in Entry.objects.filter(skill__event=ctx.event)
        .select_related("skill")
        .prefetch_related("members")
    }
    outcomes: dict[int, str] = {}  # Excel row → outcome

    # 1. athletes
    for members in groups.values():
        for m in members:
            d = m.data
            wanted = {"name": d["name"]}
            if d.get("gender"):
                wanted["gender"] = d["gender"]
            if d.get("birth_date"):
                wanted["birth_date"] = d["birth_date"]
            if d.get("id_number"):
                wanted["id_number"] = d["id_number"]
            if m.athlete is None:
                m.athlete = Athlete.objects.create(
                    delegation=delegations[d["delegation_code"]], **wanted
                )
                outcomes[m.row.number] = CREATED
            elif _update(m.athlete, wanted):
                outcomes[m.row.number] = UPDATED

    # 2. entries, and members leaving them (all removals before any addition,
    #    so an athlete moving between two listed entries never sits in both).
    entries: dict[tuple[str, str], Entry] = {}
    to_add: list[tuple[Entry, _EntryRow]] = []
    for key, members in groups.items():
        delegation = delegations[members[0].data["delegation_code"]]
        entry = existing.get(key)
        entry_changed = False
        if entry is None:
            entry = Entry.objects.create(
                skill=skills[key[0]], delegation=delegation, competitor_no=key[1]
            )
        else:
            entry_changed = _update(entry, {"delegation_id": delegation.pk})
        entries[key] = entry
        current = {em.athlete_id: em for em in entry.members.all()} if key in existing else {}
        wanted_ids = {_matched(m).pk for m in members}
        leaving = [em.pk for aid, em in current.items() if aid not in wanted_ids]
        if leaving:
            EntryMember.objects.filter(pk__in=leaving).delete()
            entry_changed = True
        for m in members:
            if _matched(m).pk not in current:
                to_add.append((entry, m))
                outcomes[m.row.number] = CREATED
            elif entry_changed:
                outcomes.setdefault(m.row.number, UPDATED)
    for entry, m in to_add:
        EntryMember.objects.create(entry=entry, athlete=_matched(m), event=ctx.event)
    # The rules every entry obeys, whoever writes it; quotas are the leads'
    # limit, not the organisers' (see the module docstring).
    for key, members in groups.items():
        for problem in entry_rule_errors(
            skills[key[0]],
            delegations[members[0].data["delegation_code"]],
            [_matched(m) for m in members],
            entry=entries[key],
            enforce_quota=False,
        ):
            ctx.validation_error(sheet, members[0].row, "competitor_no", problem)

    for members in groups.values():
        for m in members:
            ctx.count(sheet, outcomes.get(m.row.number, UNCHANGED))


# --------------------------------------------------------------------------- judges


def import_judges(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per (judge, skill); judge codes are global; one chief per skill."""
    sizes = skill_sizes(ctx)
    good: list[tuple[SheetRow, dict]] = []
    first_of_judge: dict[str, tuple[SheetRow, dict]] = {}
    seen_pairs: dict[tuple[str, str], int] = {}
    chief_rows: dict[str, tuple[SheetRow, dict]] = {}
    for row, data, ok in _cleaned_rows(sheet, ctx):
        code, skill_code = data.get("code"), data.get("skill_code")
        if skill_code and skill_code not in sizes:
            ctx.error(
                sheet,
                row,
                "skill_code",
                UNKNOWN_SKILL,
                code=skill_code,
            )
            ok = False
        if data.get("delegation_code") and not delegation_exists(ctx, data["delegation_code"]):
            ctx.error(
                sheet,
                row,
                "delegation_code",
                UNKNOWN_DELEGATION,
                code=data["delegation_code"],
            )
            ok = False
        if code and code in first_of_judge:
            first_row, first = first_of_judge[code]
            for column in ("name", "delegation_code"):
                if data.get(column) and first.get(column) and data[column] != first[column]:
                    ctx.error(
                        sheet,
                        row,
                        column,
                        _("Judge %(code)s has %(value)s here but %(other)s in row %(first)s."),
                        code=code,
                        value=data[column],
                        other=first[column],
                        first=first_row.number,
                    )
                    ok = False
        elif code:
            first_of_judge[code] = (row, data)
        if code and skill_code:
            label = f"{code} / {skill_code}"
            ok = (
                _check_duplicate(ctx, sheet, row, seen_pairs, (code, skill_code), "code", label)
                and ok
            )
        if skill_code and data.get("role") == JudgeAssignment.Role.CHIEF:
            if skill_code in chief_rows:
                other_row, other = chief_rows[skill_code]
                ctx.error(
                    sheet,
                    row,
                    "role",
                    _(
                        "Skill %(skill)s already has chief judge %(judge)s (row %(first)s); "
                        "a skill has one chief judge."
                    ),
                    skill=skill_code,
                    judge=other["code"],
                    first=other_row.number,
                )
                ok = False
            else:
                chief_rows[skill_code] = (row, data)
        if ok:
            good.append((row, data))

    # A chief already in the portal who is not re-listed for that skill stays chief.
    if ctx.event.pk and chief_rows:
        for a in JudgeAssignment.objects.filter(
            skill__event=ctx.event,
            skill__code__in=chief_rows,
            role=JudgeAssignment.Role.CHIEF,
        ).select_related("judge", "skill"):
            if (a.judge.code, a.skill.code) in seen_pairs:
                continue
            row, data = chief_rows[a.skill.code]
            ctx.error(
                sheet,
                row,
                "role",
                _(
                    "Skill %(skill)s already has chief judge %(judge)s in the portal; "
                    "list that judge in this sheet with role judge to hand over."
                ),
                skill=a.skill.code,
                judge=a.judge.code,
            )

    if ctx.writable:
        _write_judges(ctx, sheet, good)


def _write_judges(
    ctx: ImportContext, sheet: ParsedSheet, good: list[tuple[SheetRow, dict]]
) -> None:
    skills = {s.code: s for s in ctx.event.skills.all()}
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(code__in={d["delegation_code"] for _r, d in good})
    }
    judges = {j.code: j for j in Judge.objects.filter(code__in={d["code"] for _r, d in good})}
    assignments = {
        (a.judge.code, a.skill.code): a
        for a in JudgeAssignment.objects.filter(skill__event=ctx.event).select_related(
            "judge", "skill"
        )
    }
    judge_updated: set[str] = set()
    for _row, d in good:
        delegation = delegations[d["delegation_code"]]
        judge = judges.get(d["code"])
        if judge is None:
            judges[d["code"]] = Judge.objects.create(
                code=d["code"], name=d["name"], delegation=delegation
            )
        elif _update(judge, {"name": d["name"], "delegation_id": delegation.pk}):
            judge_updated.add(d["code"])
    outcomes: dict[int, str] = {}
    # Demotions before promotions, so handing the chief role over never
    # holds two chiefs for a moment (the database forbids it).
    ordered = sorted(good, key=lambda rd: rd[1]["role"] == JudgeAssignment.Role.CHIEF)
    for row, d in ordered:
        assignment = assignments.get((d["code"], d["skill_code"]))
        if assignment is None:
            JudgeAssignment.objects.create(
                judge=judges[d["code"]], skill=skills[d["skill_code"]], role=d["role"]
            )
            outcomes[row.number] = CREATED
        elif _update(assignment, {"role": d["role"]}) or d["code"] in judge_updated:
            outcomes[row.number] = UPDATED
        else:
            outcomes[row.number] = UNCHANGED
    for row, _d in good:
        ctx.count(sheet, outcomes[row.number])


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


SHEET_REGISTRY: list[SheetDefinition] = []


def register_sheet(definition: SheetDefinition) -> None:
    """Add a sheet after those registered so far (import runs in this order).
    Registering a name again replaces that sheet in place."""
    for i, existing in enumerate(SHEET_REGISTRY):
        if existing.name == definition.name:
            SHEET_REGISTRY[i] = definition
            return
    SHEET_REGISTRY.append(definition)


register_sheet(
    SheetDefinition(
        DelegationResource,
        import_delegations,
        # Delegations are global; an event's workbook carries those it uses.
        lambda event: Delegation.objects.filter(
            pk__in=set(
                Entry.objects.filter(skill__event=event).values_list("delegation", flat=True)
            )
            | set(
                JudgeAssignment.objects.filter(skill__event=event).values_list(
                    "judge__delegation", flat=True
                )
            )
        ).order_by("code"),
    )
)
register_sheet(
    SheetDefinition(SkillResource, import_skills, lambda event: event.skills.order_by("code"))
)
register_sheet(
    SheetDefinition(
        EntryRowResource,
        import_entries,
        lambda event: EntryRowResource().get_queryset().filter(entry__skill__event=event),
    )
)
register_sheet(
    SheetDefinition(
        JudgeAssignmentResource,
        import_judges,
        lambda event: JudgeAssignmentResource().get_queryset().filter(skill__event=event),
    )
)


# --------------------------------------------------------------------------- import


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
    try:
        validate_slug(event_code)
    except ValidationError:
        report.errors.append(
            WorkbookError(
                None,
                None,
                None,
                None,
                _("Event code “%(code)s” may only hold letters, digits, - and _."),
                {"code": event_code},
            )
        )
        return report
    sheets = read_workbook(source, report, progress)
    if not sheets and report.errors:
        return report
    steps = len(sheets) + len(SHEET_REGISTRY)
    try:
        with transaction.atomic():
            ctx = ImportContext(_event_for(event_code, report, event_name), report, sheets)
            # Marks written by the import are recorded in the ledger as this user's.
            ctx.state["actor"] = actor
            for step, definition in enumerate(SHEET_REGISTRY, start=len(sheets)):
                sheet = sheets.get(definition.name)
                if sheet is not None:
                    if progress is not None:
                        progress(f"import:{definition.name}", step, steps)
                    report.sheets[definition.name] = SheetStats()
                    definition.importer(ctx, sheet)
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


# --------------------------------------------------------------------------- export


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


# Sheets of other apps (the scoring app's ``aspects`` and ``marks``) register
# themselves from their ``workbook_sheets`` module, after the four above. Last
# in this module, so such a module can import everything it needs from here.
autodiscover_modules("workbook_sheets")
