"""The event workbook's ``aspects`` sheet (docs/formats.md): each skill's
rows are its marking scheme.

The rows go through ``interchange.cis``: they are grouped per skill code
(``read_aspects_rows``), each skill's scheme is validated
(``validate_scheme``) and written with ``apply_scheme``. A skill's rows are
its whole scheme: aspects the sheet no longer lists are deleted (a warning
names them), which ``apply_scheme`` allows only while the skill has no
marks. The skill's WSOS sections, which this workbook does not carry, are
kept. A scheme equal to the stored one is left alone, so a skill with marks
or signed off re-imports unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from competitions.models import Event, Skill
from competitions.resources import cell_text
from interchange.cis.aspects_sheet import read_aspects_rows
from interchange.cis.data import CriterionData, SchemeData, SchemeImportError, SchemeProblem
from interchange.cis.messages import EMPTY_CELL
from interchange.cis.store import apply_scheme, scheme_locked_reason, scheme_of
from interchange.cis.validate import validate_scheme
from scoring.models import Aspect

from .context import ImportContext, ParsedSheet
from .report import CREATED, UNCHANGED, UNKNOWN_SKILL, UPDATED, WorkbookError
from .resources import AspectRowResource
from .skills import skill_sizes

ASPECTS_DELETED = _(
    "Skill %(skill)s: the aspects sheet no longer lists %(count)s aspects, which were deleted "
    "(%(codes)s)."
)


def _problem_to_error(
    sheet: ParsedSheet, p: SchemeProblem, fallback_row: int | None
) -> WorkbookError:
    # A problem of the scheme as a whole (its total) points at the header row
    # in interchange.cis; in a sheet of many skills, point at the skill's first row.
    row = p.row if p.row is not None and p.row != sheet.header_row else fallback_row
    column = p.column
    letter = p.column_letter or (sheet.letters.get(column) if column else None)
    return WorkbookError(p.sheet or sheet.name, row, column, letter, p.message, dict(p.params))


def _shape(criteria: list[CriterionData]) -> list[tuple]:
    """A scheme as compared for "unchanged": criteria → sub-criteria →
    aspects, leaving out those without aspects (the sheet cannot list them)."""
    shape = []
    for c in criteria:
        subs = [(s.code, s.name, s.marking_day, s.aspects) for s in c.sub_criteria if s.aspects]
        if subs:
            shape.append((c.code, c.name, c.max_mark, subs))
    return shape


def _aspect_places(criteria: list[CriterionData]) -> dict[str, tuple]:
    """Aspect code → (its criterion, sub-criterion and itself), to tell which rows changed."""
    return {
        a.code: (c.code, c.name, c.max_mark, s.code, s.name, s.marking_day, a)
        for c in criteria
        for s in c.sub_criteria
        for a in s.aspects
    }


@dataclass
class _SkillScheme:
    code: str
    data: SchemeData
    first_row: int
    stored: SchemeData | None = None  # the scheme in the portal, if the skill exists
    unchanged: bool = False


def scheme_aspects(ctx: ImportContext) -> dict[str, dict[str, tuple[str, Decimal | None]]]:
    """Skill code → aspect code → (kind, max mark) of the schemes of the
    ``aspects`` sheet (for the ``marks`` sheet's checks); the kind may be
    invalid and the max mark None where a cell is bad."""
    return ctx.state.setdefault("scheme_aspects", {})


def import_aspects(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """Each skill's rows are its marking scheme; see the module docstring."""
    known_skills = skill_sizes(ctx)
    rows: list[tuple[int, dict[str, Any]]] = []
    first_rows: dict[str, int] = {}
    for row in sheet.rows:
        code = cell_text(row.values.get("skill_code"))
        if not code:
            ctx.error(sheet, row, "skill_code", EMPTY_CELL)
            continue
        first_rows.setdefault(code, row.number)
        rows.append((row.number, row.values))
    read = read_aspects_rows(
        rows, sheet=sheet.name, letters=sheet.letters, header_row=sheet.header_row
    )
    existing = {s.code: s for s in ctx.event.skills.all()} if ctx.event.pk else {}
    plans: list[_SkillScheme] = []
    for code, data in read.items():
        plan = _SkillScheme(code, data, first_rows[code])
        # Every code, even of a bad row: its marks are not "unknown aspects".
        scheme_aspects(ctx)[code] = {a.code: (a.kind, a.max_mark) for a in data.aspects()}
        if code not in known_skills:
            ctx.error(sheet, plan.first_row, "skill_code", UNKNOWN_SKILL, code=code)
            continue
        for p in [*data.problems, *validate_scheme(data)]:
            error = _problem_to_error(sheet, p, plan.first_row)
            if p.warning:
                ctx.report.warnings.append(error)
            else:
                ctx.report.errors.append(error)
        skill = existing.get(code)
        if skill is not None:
            plan.stored = scheme_of(skill)
            plan.unchanged = _shape(data.criteria) == _shape(plan.stored.criteria)
            locked = None if plan.unchanged else scheme_locked_reason(skill)
            if locked is not None:
                ctx.error(sheet, plan.first_row, "skill_code", locked.message, **locked.params)
        plans.append(plan)

    if not ctx.writable:
        return
    skills = {s.code: s for s in ctx.event.skills.all()}
    for plan in plans:
        _write_scheme(ctx, sheet, plan, skills[plan.code])


def _write_scheme(ctx: ImportContext, sheet: ParsedSheet, plan: _SkillScheme, skill: Skill) -> None:
    aspects = list(plan.data.aspects())
    if plan.unchanged:
        for _a in aspects:
            ctx.count(sheet, UNCHANGED)
        return
    before = _aspect_places(plan.stored.criteria) if plan.stored else {}
    if plan.stored is not None:
        # The workbook carries no WSOS sheet: keep the skill's sections.
        plan.data.wsos_sections = plan.stored.wsos_sections
    try:
        apply_scheme(skill, plan.data, replace=True)
    except SchemeImportError as exc:
        # Checked above; only a concurrent change gets here.
        for p in exc.problems:
            ctx.report.errors.append(_problem_to_error(sheet, p, plan.first_row))
        return
    after = _aspect_places(plan.data.criteria)
    for code, place in after.items():
        if code not in before:
            ctx.count(sheet, CREATED)
        else:
            ctx.count(sheet, UNCHANGED if before[code] == place else UPDATED)
    gone = sorted(set(before) - set(after))
    if gone:
        ctx.report.warnings.append(
            WorkbookError(
                sheet.name,
                plan.first_row,
                "skill_code",
                sheet.letters.get("skill_code"),
                ASPECTS_DELETED,
                {"skill": skill.code, "count": len(gone), "codes": ", ".join(gone)},
            )
        )


def aspects_queryset(event: Event) -> QuerySet[Aspect]:
    return AspectRowResource().get_queryset().filter(skill__event=event)
