"""The event workbook's ``aspects`` and ``marks`` sheets (docs/formats.md).

Registered with ``competitions.workbook`` (which imports this module once
it is loaded), after its four roster sheets: ``aspects`` then ``marks``, so
marks can refer to aspects, entries and judges defined earlier in the same
file. Both follow the driver's pattern: check every row first (reporting
every problem with sheet, row and column), write only while nothing is
wrong; the driver's one transaction makes the whole file all-or-nothing.

``aspects`` goes through ``scoring.scheme_io``: the rows are grouped per
skill code (``read_aspects_rows``), each skill's scheme is validated
(``validate_scheme``) and written with ``apply_scheme``. A skill's rows are
its whole scheme: aspects the sheet no longer lists are deleted (a warning
names them), which ``apply_scheme`` allows only while the skill has no
marks. The skill's WSOS sections, which this workbook does not carry, are
kept. A scheme equal to the stored one is left alone, so a skill with marks
or signed off re-imports unchanged.

``marks`` goes through the mark service: ``scoring.batch.write_marks``,
the batch form of ``write_mark`` (same checks, messages and ledger chain; one
call per skill, because one ``write_mark`` per row would take twenty minutes
for a provincial final's ~150 k rows). Writes are blind (no version check)
and carry no client key: a mark whose value is already stored is left alone
and records nothing, so re-importing a file changes nothing. M rows: the
mark and the judge who gave it; J rows: one row per judge, 0–3.

Before anything is written, each row is checked against the event as it
will be after the earlier sheets (entries, judges and aspects of the file,
else of the portal), by the same rules the mark service applies; whatever
the service still refuses at write time (e.g. marking groups) becomes an
error on its row too. A problem that concerns many rows at once (an unknown
judge, a signed-off skill, a recused judge on an entry) is reported once, at
its first row, with the count and the first row numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from competitions.models import Event, Skill
from competitions.resources import SheetResource, TextWidget, cell_text
from competitions.workbook import (
    CREATED,
    UNCHANGED,
    UNKNOWN_SKILL,
    UPDATED,
    ImportContext,
    ParsedSheet,
    SheetDefinition,
    SheetRow,
    WorkbookError,
    register_sheet,
    skill_sizes,
)
from teams.models import Entry, Judge, JudgeAssignment
from teams.resources import JudgeAssignmentResource

from . import batch, panels, refusals, schemes
from .checks import MarkFacts, check_mark
from .models import Aspect, AspectKind, Mark, SkillMarking
from .refusals import MarkRefused
from .scheme_io import (
    ASPECT_EXTRA_KEYS,
    ASPECT_KEYS,
    BAD_SCORE,
    EMPTY_CELL,
    NOT_A_NUMBER,
    TITLES_ZH,
    CriterionData,
    SchemeData,
    SchemeImportError,
    SchemeProblem,
    apply_scheme,
    read_aspects_rows,
    scheme_locked_reason,
    scheme_of,
    validate_scheme,
)
from .values import parse_value

IMPORT_REASON = "event workbook import"  # stored in the ledger as is (it is hashed)
IMPORT_SOURCE = "import"
ROWS_SHOWN = 10  # row numbers listed in a message about many rows

# --------------------------------------------------------------------------- messages

UNKNOWN_ASPECT = _(
    "Unknown aspect code %(code)s for skill %(skill)s: not in the aspects sheet nor in the "
    "portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_ENTRY = _(
    "Unknown competitor number %(number)s in skill %(skill)s: not in the entries sheet nor in "
    "the portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_JUDGE = _(
    "Unknown judge code %(code)s: not in the judges sheet nor in the portal "
    "(%(count)s row(s): %(rows)s)."
)
UNKNOWN_SKILL_ROWS = _(
    "Unknown skill code %(code)s: not in the skills sheet nor in this event "
    "(%(count)s row(s): %(rows)s)."
)
NOT_ASSIGNED = _(
    "Judge %(judge)s is not assigned to skill %(skill)s, so may not mark it: list the judge "
    "for the skill in the judges sheet (%(count)s row(s): %(rows)s)."
)
RECUSAL = _(
    "Recusal (回避): judge %(judge)s belongs to delegation %(delegation)s, as does entry "
    "%(number)s, and may not mark it (%(count)s row(s): %(rows)s)."
)
CHIEF_JUDGEMENT = _(
    "Judge %(judge)s is the chief judge of skill %(skill)s; the chief judge does not give "
    "judgement scores (%(count)s row(s): %(rows)s)."
)
OUTSIDE_GROUP = _(
    "Aspect %(aspect)s of entry %(number)s is outside the marking groups of judge %(judge)s."
)
NOT_RANKED = _(
    "Entry %(number)s of skill %(skill)s is absent or withdrawn and is not marked "
    "(%(count)s row(s): %(rows)s)."
)
LOCKED = _(
    "Marks of skill %(skill)s are signed off and locked; the chief judge must reopen them "
    "before this sheet can change them (%(count)s row(s): %(rows)s)."
)
SCHEME_INCOMPLETE = _(
    "The marking scheme of skill %(skill)s is not complete, so it cannot be marked yet: "
    "%(problems)s"
)
MARK_OUT_OF_RANGE = _("The mark %(value)s is out of range: aspect %(aspect)s allows 0 to %(max)s.")
TOO_MANY_DECIMALS = _("A mark has at most 2 decimals (got “%(value)s”).")
JUDGE_REQUIRED = _(
    "Aspect %(aspect)s is a judgement aspect: each score needs the judge_code of the judge "
    "who gave it."
)
NO_IMPORTER = _(
    "Marks without a judge_code are recorded as written by the organiser who imports them, "
    "and this import names none (manage.py import_event: add --user USERNAME) "
    "(%(count)s row(s): %(rows)s)."
)
DUPLICATE_MARK = _(
    "The mark %(mark)s is listed twice, in rows %(first)s and %(second)s; keep one of them."
)
REFUSED = _("The mark service refused this mark: %(reason)s")
ASPECTS_DELETED = _(
    "Skill %(skill)s: the aspects sheet no longer lists %(count)s aspects, which were deleted "
    "(%(codes)s)."
)

# --------------------------------------------------------------------------- widgets


def _excel_number(value: Decimal | None) -> int | Decimal | None:
    """A mark for Excel: whole numbers as ints (30, not 30.00), others exact."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


class RawWidget(widgets.Widget):
    """The cell as it is: ``scheme_io`` and the mark service clean it, with
    their own messages. Exports numbers as numbers and text as text."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Any:
        return value

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, Decimal):
            return _excel_number(value)
        return value


def _raw(attribute: str | None, key: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=key, widget=RawWidget())


# --------------------------------------------------------------------------- resources


class AspectRowResource(SheetResource):
    """``aspects`` sheet: one row per aspect. docs/formats.md's columns, then the
    optional extra columns of ``scheme_io`` (criterion/sub-criterion names,
    criterion mark, marking day, extra description, requirement, WSOS
    section, the judgement descriptors 0–3, the stated total)."""

    sheet_name = "aspects"
    optional_columns = tuple(ASPECT_EXTRA_KEYS)
    required_values = ()  # scheme_io checks the cells, with its own messages
    titles_zh = {k: TITLES_ZH[k] for k in (*ASPECT_KEYS, *ASPECT_EXTRA_KEYS)}

    skill_code = _raw("skill__code", "skill_code")
    criterion = _raw("sub_criterion__criterion__code", "criterion")
    sub_criterion = _raw("sub_criterion__code", "sub_criterion")
    aspect_code = _raw("code", "aspect_code")
    type = _raw("kind", "type")
    max_mark = _raw("max_mark", "max_mark")
    description = _raw("description", "description")
    criterion_name = _raw("sub_criterion__criterion__name", "criterion_name")
    criterion_mark = _raw("sub_criterion__criterion__max_mark", "criterion_mark")
    sub_criterion_name = _raw("sub_criterion__name", "sub_criterion_name")
    marking_day = _raw("sub_criterion__marking_day", "marking_day")
    extra_description = _raw("extra_description", "extra_description")
    requirement = _raw("requirement", "requirement")
    wsos_section = _raw("wsos_section", "wsos_section")
    descriptor_0 = _raw(None, "descriptor_0")
    descriptor_1 = _raw(None, "descriptor_1")
    descriptor_2 = _raw(None, "descriptor_2")
    descriptor_3 = _raw(None, "descriptor_3")
    scheme_total = _raw(None, "scheme_total")  # not stored: the total is always 100

    class Meta:
        model = Aspect
        fields = (*ASPECT_KEYS, *ASPECT_EXTRA_KEYS)
        export_order = fields

    def _descriptor(self, aspect: Aspect, score: int) -> str | None:
        # descriptors are prefetched by the export queryset
        return next((d.text for d in aspect.descriptors.all() if d.score == score), None)

    def dehydrate_descriptor_0(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 0)

    def dehydrate_descriptor_1(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 1)

    def dehydrate_descriptor_2(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 2)

    def dehydrate_descriptor_3(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 3)

    def get_queryset(self) -> QuerySet[Aspect]:
        # The order of scheme_io.scheme_of (criterion, sub-criterion, aspect),
        # so an exported scheme reads back equal to the stored one.
        return (
            Aspect.objects.select_related("skill__event", "sub_criterion__criterion")
            .prefetch_related("descriptors")
            .order_by(
                "skill__event__code",
                "skill__code",
                "sub_criterion__criterion__order",
                "sub_criterion__criterion__code",
                "sub_criterion__order",
                "sub_criterion__code",
                "order",
                "code",
            )
        )


class MarkRowResource(SheetResource):
    """``marks`` sheet: skill_code, competitor_no, aspect_code, judge_code,
    score. An M aspect has one row per entry (judge_code: who gave the
    mark); a J aspect one row per entry and judge (score 0–3)."""

    sheet_name = "marks"
    # judge_code: required on J rows, checked by the importer (an M row may
    # leave it empty: a mark from outside the tablets).
    required_values = ("skill_code", "competitor_no", "aspect_code", "score")
    titles_zh = {
        "skill_code": "赛项代码",
        "competitor_no": "参赛编号",
        "aspect_code": "评分点代码",
        "judge_code": "裁判编号",
        "score": "分数（测量：得分；评价：0–3）",
    }

    skill_code = fields.Field(
        attribute="skill__code", column_name="skill_code", widget=TextWidget(40)
    )
    competitor_no = fields.Field(
        attribute="entry__competitor_no", column_name="competitor_no", widget=TextWidget(20)
    )
    aspect_code = fields.Field(
        attribute="aspect__code", column_name="aspect_code", widget=TextWidget(30)
    )
    judge_code = fields.Field(
        attribute="judge__code", column_name="judge_code", widget=TextWidget(20)
    )
    # As typed: the mark service parses it for its aspect, with its rules.
    score = fields.Field(attribute="value", column_name="score", widget=RawWidget())

    class Meta:
        model = Mark
        fields = ("skill_code", "competitor_no", "aspect_code", "judge_code", "score")
        export_order = fields

    def get_queryset(self) -> QuerySet[Mark]:
        return Mark.objects.select_related("skill__event", "entry", "aspect", "judge").order_by(
            "skill__event__code",
            "skill__code",
            "entry__competitor_no",
            "aspect__order",
            "aspect__code",
            "judge__code",
        )


# --------------------------------------------------------------------------- helpers


@dataclass
class _Grouped:
    """One problem shared by many rows: reported once, at its first row."""

    row: int
    column: str
    message: Any
    params: dict[str, Any]
    rows: list[int] = field(default_factory=list)


class _Problems:
    """The problems of one sheet, collected, then reported in row order."""

    def __init__(self, ctx: ImportContext, sheet: ParsedSheet) -> None:
        self.ctx = ctx
        self.sheet = sheet
        self.single: list[tuple[int, str | None, Any, dict[str, Any]]] = []
        self.grouped: dict[tuple, _Grouped] = {}
        # Errors the driver's cell cleaning reports meanwhile join these in row order.
        self.start = len(ctx.report.errors)

    def add(self, row: int, column: str | None, message: Any, **params: Any) -> None:
        self.single.append((row, column, message, params))

    def add_grouped(self, key: tuple, row: int, column: str, message: Any, **params: Any) -> None:
        found = self.grouped.get(key)
        if found is None:
            found = self.grouped[key] = _Grouped(row, column, message, params)
        found.rows.append(row)

    def flush(self) -> None:
        found = [(row, column, message, params) for row, column, message, params in self.single]
        for g in self.grouped.values():
            shown = ", ".join(str(r) for r in g.rows[:ROWS_SHOWN])
            if len(g.rows) > ROWS_SHOWN:
                shown += " …"
            found.append(
                (g.row, g.column, g.message, {**g.params, "count": len(g.rows), "rows": shown})
            )
        for row, column, message, params in found:
            self.ctx.error(self.sheet, row, column, message, **params)
        order = {k: i for i, k in enumerate(self.sheet.letters)}
        errors = self.ctx.report.errors
        errors[self.start :] = sorted(
            errors[self.start :], key=lambda e: (e.row or 0, order.get(e.column or "", -1))
        )


def _problem_to_error(
    sheet: ParsedSheet, p: SchemeProblem, fallback_row: int | None
) -> WorkbookError:
    # A problem of the scheme as a whole (its total) points at the header row
    # in scheme_io; in a sheet of many skills, point at the skill's first row.
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


# --------------------------------------------------------------------------- aspects


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


def _aspects_queryset(event: Event) -> QuerySet[Aspect]:
    return AspectRowResource().get_queryset().filter(skill__event=event)


# --------------------------------------------------------------------------- marks


@dataclass
class _MarkRow:
    row: SheetRow
    skill: str
    number: str
    aspect: str
    judge: str
    value: Decimal
    kind: str


class _EventFacts:
    """The event as it will be once the earlier sheets are written: what the
    ``marks`` sheet's rows are checked against."""

    def __init__(self, ctx: ImportContext, judge_codes: set[str]) -> None:
        event = ctx.event
        self.skills = skill_sizes(ctx)
        self.file_aspects = scheme_aspects(ctx)
        self.skill_ids: dict[str, int] = (
            dict(event.skills.values_list("code", "pk")) if event.pk else {}
        )
        # Aspects of skills the aspects sheet does not list: the portal's.
        self.db_aspects: dict[str, dict[str, tuple[str, Decimal | None]]] = defaultdict(dict)
        if event.pk:
            for skill, code, kind, max_mark in Aspect.objects.filter(
                skill__event=event
            ).values_list("skill__code", "code", "kind", "max_mark"):
                self.db_aspects[skill][code] = (kind, max_mark)
        # Entries: (skill, number) → [delegation code, status]
        self.entries: dict[tuple[str, str], list[str]] = {}
        if event.pk:
            for skill, number, delegation, status in Entry.objects.filter(
                skill__event=event
            ).values_list("skill__code", "competitor_no", "delegation__code", "status"):
                self.entries[(skill, number)] = [delegation, status]
        for values in _sheet_values(ctx, "entries"):
            key = (cell_text(values.get("skill_code")), cell_text(values.get("competitor_no")))
            delegation = cell_text(values.get("delegation_code"))
            if key in self.entries:
                self.entries[key][0] = delegation or self.entries[key][0]
            else:
                self.entries[key] = [delegation, Entry.Status.REGISTERED]
        # Judges: code → delegation code; assignments: (skill, judge) → role.
        self.judges: dict[str, str] = dict(
            Judge.objects.filter(code__in=judge_codes).values_list("code", "delegation__code")
        )
        self.roles: dict[tuple[str, str], str] = {}
        if event.pk:
            for skill, judge, role in JudgeAssignment.objects.filter(
                skill__event=event
            ).values_list("skill__code", "judge__code", "role"):
                self.roles[(skill, judge)] = role
        role_widget = JudgeAssignmentResource().column_fields()["role"].widget
        for values in _sheet_values(ctx, "judges"):
            code = cell_text(values.get("code"))
            if values.get("delegation_code") is not None:
                self.judges[code] = cell_text(values.get("delegation_code"))
            try:
                role = role_widget.clean(values.get("role"))
            except ValidationError:  # the judges sheet reports its bad cells itself
                role = ""
            self.roles[(cell_text(values.get("skill_code")), code)] = (
                role or JudgeAssignment.Role.JUDGE
            )
        self.signed_off: set[str] = set(
            SkillMarking.objects.filter(
                skill__event=event, status=SkillMarking.Status.SIGNED_OFF
            ).values_list("skill__code", flat=True)
            if event.pk
            else []
        )
        self._panels: dict[str, panels.Panel[str]] = {}
        self._scheme_problems: dict[str, list[str]] = {}
        self._stored: dict[str, dict[tuple, Decimal]] = {}
        self.stand_ins: dict[tuple[str, str], Aspect] = {}

    def aspects_of(self, skill: str) -> dict[str, tuple[str, Decimal | None]]:
        if skill in self.file_aspects:
            return self.file_aspects[skill]
        return self.db_aspects.get(skill, {})

    def panel(self, skill: str) -> panels.Panel:
        """The skill's panel by codes (judge code → delegation code), so
        ``Panel.check`` applies the service's rules, in its order, to judges
        and entries that may not exist yet. Marking groups live in the portal
        only; the mark service checks them when writing."""
        found = self._panels.get(skill)
        if found is None:
            assigned = {j: role for (s, j), role in self.roles.items() if s == skill}
            found = self._panels[skill] = panels.Panel(
                skill_id=0,
                judges={j: self.judges.get(j, "") for j in assigned},
                chiefs=frozenset(
                    j for j, role in assigned.items() if role == JudgeAssignment.Role.CHIEF
                ),
            )
        return found

    def scheme_problems(self, skill: str) -> list[str]:
        """Problems of a stored scheme the aspects sheet does not replace."""
        if skill in self.file_aspects or skill not in self.skill_ids:
            return []  # the aspects sheet reports its own problems
        if skill not in self._scheme_problems:
            self._scheme_problems[skill] = schemes.scheme_problems(self.skill_ids[skill])
        return self._scheme_problems[skill]

    def stored_marks(self, skill: str) -> dict[tuple, Decimal]:
        """(number, aspect, judge or None) → value of a skill's stored marks."""
        if skill not in self._stored:
            self._stored[skill] = {
                (number, aspect, judge if kind == AspectKind.JUDGEMENT else None): value
                for number, aspect, judge, kind, value in Mark.objects.filter(
                    skill_id=self.skill_ids[skill]
                ).values_list(
                    "entry__competitor_no", "aspect__code", "judge__code", "kind", "value"
                )
            }
        return self._stored[skill]

    def rules(self, skill: str, number: str, judge: str, aspect: Aspect) -> MarkFacts:
        """The facts ``check_mark`` decides on, by codes (an entry found)."""
        delegation, status = self.entries[(skill, number)]
        return MarkFacts(
            signed_off=skill in self.signed_off,
            same_skill=True,
            entry_status=status,
            competitor_no=number,
            entry_id=0,
            entry_delegation=delegation,
            aspect=aspect,
            scheme_problems=self.scheme_problems(skill),
            panel=self.panel(skill),
            judge=judge or None,
        )

    def stand_in(self, skill: str, code: str, kind: str, max_mark: Decimal) -> Aspect:
        """An unsaved Aspect for ``parse_value`` (the aspect may not exist yet)."""
        key = (skill, code)
        if key not in self.stand_ins:
            self.stand_ins[key] = Aspect(code=code, kind=kind, max_mark=max_mark)
        return self.stand_ins[key]


def _sheet_values(ctx: ImportContext, name: str) -> Iterable[dict[str, Any]]:
    sheet = ctx.sheets.get(name)
    return (r.values for r in sheet.rows) if sheet is not None else ()


def _score_input(raw: Any) -> Any:
    """What the mark service parses: Excel hands numbers over as floats, and
    the service takes no float; ``repr`` is the number as it was typed."""
    if isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, int | Decimal | str) and not isinstance(raw, bool):
        return raw
    return cell_text(raw)


def _range_problem(
    problems: _Problems,
    row: int,
    exc: refusals.OutOfRange,
    raw: Any,
    aspect: str,
    kind: str,
    max_mark: Decimal,
) -> None:
    value = cell_text(raw)
    if exc.code == "not_a_number":
        problems.add(row, "score", NOT_A_NUMBER, value=value)
    elif exc.code == "too_many_decimals":
        problems.add(row, "score", TOO_MANY_DECIMALS, value=value)
    elif kind == AspectKind.JUDGEMENT:
        problems.add(row, "score", BAD_SCORE, value=value)
    else:
        problems.add(
            row,
            "score",
            MARK_OUT_OF_RANGE,
            value=value,
            aspect=aspect,
            max=f"{Decimal(max_mark).quantize(Decimal('0.01')):f}",
        )


def _panel_problem(
    problems: _Problems, code: str, m: _MarkRow, delegation: str, aspect_code: str
) -> None:
    """A panel refusal (by its stable code) as a located, bilingual problem."""
    row = m.row.number
    if code == panels.NOT_ASSIGNED:
        problems.add_grouped(
            ("not_assigned", m.skill, m.judge),
            row,
            "judge_code",
            NOT_ASSIGNED,
            judge=m.judge,
            skill=m.skill,
        )
    elif code == panels.OWN_DELEGATION:
        problems.add_grouped(
            ("recusal", m.skill, m.judge, m.number),
            row,
            "judge_code",
            RECUSAL,
            judge=m.judge,
            delegation=delegation,
            number=m.number,
        )
    elif code == panels.CHIEF_JUDGEMENT:
        problems.add_grouped(
            ("chief", m.skill, m.judge),
            row,
            "judge_code",
            CHIEF_JUDGEMENT,
            judge=m.judge,
            skill=m.skill,
        )
    elif code == panels.OUTSIDE_GROUP:
        problems.add(
            row, "judge_code", OUTSIDE_GROUP, aspect=aspect_code, number=m.number, judge=m.judge
        )
    else:
        problems.add(row, "judge_code", REFUSED, reason=code)


def import_marks(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One mark per row; see the module docstring."""
    problems = _Problems(ctx, sheet)
    cleaned: list[tuple[SheetRow, dict[str, Any]]] = []
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        if ok:
            cleaned.append((row, data))
    facts = _EventFacts(ctx, {d["judge_code"] for _r, d in cleaned})

    good: list[_MarkRow] = []
    seen: dict[tuple, int] = {}
    unchanged = 0
    for row, d in cleaned:
        n = row.number
        skill, number, aspect_code, judge = (
            d["skill_code"],
            d["competitor_no"],
            d["aspect_code"],
            d["judge_code"],
        )
        if skill not in facts.skills:
            problems.add_grouped(("skill", skill), n, "skill_code", UNKNOWN_SKILL_ROWS, code=skill)
            continue
        aspect = facts.aspects_of(skill).get(aspect_code)
        if aspect is None:
            problems.add_grouped(
                ("aspect", skill, aspect_code),
                n,
                "aspect_code",
                UNKNOWN_ASPECT,
                code=aspect_code,
                skill=skill,
            )
            continue
        kind, max_mark = aspect
        if kind not in AspectKind.values or max_mark is None:
            continue  # the aspects sheet reports the bad type or max mark
        if not judge and kind == AspectKind.JUDGEMENT:
            problems.add(n, "judge_code", JUDGE_REQUIRED, aspect=aspect_code)
            continue
        if not judge and ctx.state.get("actor") is None:
            problems.add_grouped(("no_actor",), n, "judge_code", NO_IMPORTER)
            continue
        key = (skill, number, aspect_code, judge if kind == AspectKind.JUDGEMENT else None)
        if key in seen:
            label = " / ".join(p for p in key if p)
            problems.add(
                n,
                "judge_code" if kind == AspectKind.JUDGEMENT else "aspect_code",
                DUPLICATE_MARK,
                mark=label,
                first=seen[key],
                second=n,
            )
            continue
        seen[key] = n
        try:
            value = parse_value(
                _score_input(d["score"]), facts.stand_in(skill, aspect_code, kind, max_mark)
            )
        except refusals.OutOfRange as exc:
            value = None
            _range_problem(problems, n, exc, d["score"], aspect_code, kind, max_mark)

        entry = facts.entries.get((skill, number))
        if entry is None:
            problems.add_grouped(
                ("entry", skill, number),
                n,
                "competitor_no",
                UNKNOWN_ENTRY,
                number=number,
                skill=skill,
            )
            continue
        if judge and judge not in facts.judges:
            problems.add_grouped(("judge", judge), n, "judge_code", UNKNOWN_JUDGE, code=judge)
            continue
        mark = _MarkRow(row, skill, number, aspect_code, judge, value or Decimal(0), kind)
        # The mark service's rules (checks.check_mark); the value was parsed above.
        try:
            check_mark(
                facts.rules(
                    skill, number, judge, facts.stand_in(skill, aspect_code, kind, max_mark)
                )
            )
        except MarkRefused as refusal:
            # Rows that change nothing need no writing, so they pass a lock.
            if isinstance(refusal, refusals.Locked) and value is not None:
                if facts.stored_marks(skill).get(key[1:]) == value:
                    unchanged += 1
                    continue
            _refusal_problem(problems, refusal, mark, entry[0], facts.scheme_problems(skill))
            continue
        if value is not None:
            good.append(mark)
    problems.flush()

    if not ctx.writable:
        return
    for _i in range(unchanged):
        ctx.count(sheet, UNCHANGED)
    _write_marks(ctx, sheet, good)


def _write_marks(ctx: ImportContext, sheet: ParsedSheet, good: list[_MarkRow]) -> None:
    """One ``batch.write_marks`` batch per skill; refusals become row errors."""
    by_skill: dict[str, list[_MarkRow]] = defaultdict(list)
    for m in good:
        by_skill[m.skill].append(m)
    if not by_skill:
        return
    skills = {s.code: s for s in ctx.event.skills.filter(code__in=by_skill)}
    entries = {
        (e.skill_id, e.competitor_no): e
        for e in Entry.objects.filter(skill__in=skills.values()).only(
            "pk", "skill_id", "delegation_id", "competitor_no", "status"
        )
    }
    aspects = {(a.skill_id, a.code): a for a in Aspect.objects.filter(skill__in=skills.values())}
    judges = {j.code: j for j in Judge.objects.filter(code__in={m.judge for m in good})}
    actor = ctx.state.get("actor")  # the importing user, when the caller names one
    problems = _Problems(ctx, sheet)
    for code, rows in by_skill.items():
        skill = skills[code]
        writes = [
            batch.MarkWrite(
                entry=entries[(skill.pk, m.number)],
                aspect=aspects[(skill.pk, m.aspect)],
                judge=judges[m.judge] if m.judge else None,
                value=m.value,
            )
            for m in rows
        ]
        try:
            results = batch.write_marks(
                skill, writes, actor=actor, reason=IMPORT_REASON, source=IMPORT_SOURCE
            )
        except refusals.BatchRefused as exc:
            for index, refusal in exc.refusals.items():
                w = writes[index]  # what only the portal knows, or changed meanwhile
                delegation = (
                    w.entry.delegation.code if refusal.code == panels.OWN_DELEGATION else ""
                )
                scheme = (
                    schemes.scheme_problems(skill) if refusal.code == "scheme_incomplete" else []
                )
                _refusal_problem(
                    problems, refusal, rows[index], delegation, scheme, w.aspect.max_mark
                )
            continue
        for result in results:
            ctx.count(
                sheet, CREATED if result.created else UPDATED if result.changed else UNCHANGED
            )
    problems.flush()


def _refusal_problem(
    problems: _Problems,
    refusal: MarkRefused,
    m: _MarkRow,
    delegation: str,
    scheme: list[str],
    max_mark: Decimal | None = None,
) -> None:
    """A refusal of the mark service located on its row: ``delegation`` is the
    entry's delegation code, ``scheme`` the skill's scheme problems."""
    n = m.row.number
    if isinstance(refusal, refusals.Locked):
        problems.add_grouped(("locked", m.skill), n, "skill_code", LOCKED, skill=m.skill)
    elif isinstance(refusal, refusals.NotRanked):
        problems.add_grouped(
            ("not_ranked", m.skill, m.number),
            n,
            "competitor_no",
            NOT_RANKED,
            number=m.number,
            skill=m.skill,
        )
    elif isinstance(refusal, refusals.SchemeIncomplete):
        problems.add_grouped(
            ("scheme", m.skill),
            n,
            "skill_code",
            SCHEME_INCOMPLETE,
            skill=m.skill,
            problems=" ".join(scheme),
        )
    elif isinstance(refusal, refusals.OutOfRange) and max_mark is not None:
        _range_problem(problems, n, refusal, m.value, m.aspect, m.kind, max_mark)
    elif isinstance(refusal, refusals.NotAllowed):
        _panel_problem(problems, refusal.code, m, delegation, m.aspect)
    else:
        problems.add(n, None, REFUSED, reason=refusal.message)


def _marks_queryset(event: Event) -> QuerySet[Mark]:
    return MarkRowResource().get_queryset().filter(skill__event=event)


# --------------------------------------------------------------------------- registry

# After the roster sheets (competitions.workbook registers those first), in
# dependency order: marks refer to aspects.
register_sheet(SheetDefinition(AspectRowResource, import_aspects, _aspects_queryset))
register_sheet(SheetDefinition(MarkRowResource, import_marks, _marks_queryset))
