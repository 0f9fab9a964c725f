"""Marking schemes in and out of Excel: one definition of both formats.

Two layouts are read and written:

- the WorldSkills CIS "Marking Scheme Import" sheet, exactly as chief judges
  already keep it (``read_cis`` / ``write_cis``), and
- our own ``aspects`` sheet of docs/formats.md (``read_aspects`` /
  ``write_aspects_sheet``), with optional extra columns for everything CIS
  carries, plus an optional ``wsos_sections`` sheet for the WSOS weights.

Both readers produce the same plain structure, ``SchemeData``; validation
(``validate_scheme``) and writing to the database (``apply_scheme``) work on
that structure only, so the two formats cannot drift apart. Every problem is
collected (never stop at the first) as a ``SchemeProblem`` with sheet, Excel
row, column key and letter, and a translatable English message; Chinese and
English renderings are both available.

Aspect codes. CIS aspects have no code of their own, but marks, marking groups
and the event workbook's ``marks`` sheet need one. A CIS aspect gets its
sub-criterion ID, a dot and its running number within the sub-criterion,
counting M and J aspects together in sheet order: the aspects of A1 are
``A1.1``, ``A1.2`` … Re-importing the same workbook gives the same codes, so
it updates in place; inserting an aspect in the middle of a sub-criterion
renumbers the ones after it (harmless before marking starts, and the scheme
cannot change once there are marks). Our ``aspects`` sheet states codes
explicitly; an empty ``aspect_code`` cell gets the same generated code.

Arithmetic on marks is Decimal only. Excel stores numbers as binary floats;
``Decimal(repr(float))`` recovers the number as it was typed (0.25, 0.1), which
is exact for the two-decimal marks the models can hold.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from competitions.models import Skill
from portal import spreadsheets
from portal.exporters import keep_text_in_sheet
from portal.problems import CellProblem

from .models import (
    JUDGEMENT_SCORES,
    Aspect,
    AspectKind,
    Criterion,
    JudgementDescriptor,
    LedgerRecord,
    Mark,
    SkillMarking,
    SubCriterion,
    WSOSSection,
)

CIS_SHEET = "CIS Marking Scheme Import"
ASPECTS_SHEET = "aspects"
WSOS_SHEET = "wsos_sections"
SCHEME_TOTAL = Decimal(100)
# The key row of our sheets may sit below a (Chinese) title row; look this far down.
HEADER_SEARCH_ROWS = spreadsheets.HEADER_SEARCH_ROWS

# Field sizes of the models; checked while reading so a long name is a row
# error, not a database error halfway through the write.
MAX_LEN = {
    "criterion": 10,
    "criterion_name": 300,
    "sub_criterion": 20,
    "sub_criterion_name": 300,
    "marking_day": 20,
    "aspect_code": 30,
    "wsos_section": 10,
    "section": 10,
    "title": 300,
}
# Aspect.max_mark is DecimalField(max_digits=6, decimal_places=2).
MAX_MARK_LIMIT = Decimal("9999.99")

# --------------------------------------------------------------------------- columns

ASPECT_KEYS = [
    "skill_code",
    "criterion",
    "sub_criterion",
    "aspect_code",
    "type",
    "max_mark",
    "description",
]
ASPECT_EXTRA_KEYS = [
    "criterion_name",
    "criterion_mark",
    "sub_criterion_name",
    "marking_day",
    "extra_description",
    "requirement",
    "wsos_section",
    "descriptor_0",
    "descriptor_1",
    "descriptor_2",
    "descriptor_3",
    "scheme_total",
]
WSOS_KEYS = ["skill_code", "section", "title", "weight"]

# The Chinese title row of our sheets (the importer skips it).
TITLES_ZH = {
    "skill_code": "赛项代码",
    "criterion": "模块",
    "sub_criterion": "子模块",
    "aspect_code": "评分点代码",
    "type": "类型 (M/J)",
    "max_mark": "分值",
    "description": "评分点描述",
    "criterion_name": "模块名称",
    "criterion_mark": "模块分值",
    "sub_criterion_name": "子模块名称",
    "marking_day": "评分日",
    "extra_description": "补充说明",
    "requirement": "要求（测量）",
    "wsos_section": "WSOS 章节",
    "descriptor_0": "0 分描述",
    "descriptor_1": "1 分描述",
    "descriptor_2": "2 分描述",
    "descriptor_3": "3 分描述",
    "scheme_total": "总分",
    "section": "章节",
    "title": "标题",
    "weight": "权重（分）",
}

# Where each field sits in the CIS sheet (the WSOS weight column is found from
# its header and overrides "weight").
CIS_COLUMNS = {
    "title": "A",
    "section": "A",
    "section_title": "B",
    "weight": "I",
    "criterion": "A",
    "criterion_name": "B",
    "criterion_mark": "K",
    "sub_criterion": "A",
    "sub_criterion_name": "B",
    "marking_day": "C",
    "type": "D",
    "description": "E",
    "score": "F",
    "descriptor": "G",
    "extra_description": "G",
    "requirement": "H",
    "wsos_section": "I",
    "max_mark": "K",
    "block": "L",
    "scheme_total": "N",
}
# 0-based indexes of the block columns.
C_SUB, C_SUBNAME, C_DAY, C_TYPE, C_DESC, C_SCORE, C_EXTRA, C_REQ, C_WSOS, C_CALC, C_MAX = range(11)
C_BLOCK, C_BLOCK_TOTAL_LABEL, C_BLOCK_TOTAL = 11, 12, 13

# --------------------------------------------------------------------------- messages

NOT_XLSX = _("The file is not a readable .xlsx workbook.")
NO_SCHEME_SHEET = _(
    "No marking scheme found: the workbook has neither a “CIS Marking Scheme Import” "
    "sheet nor an “aspects” sheet."
)
NO_HEADER = _("No row with the column keys %(keys)s in the first %(n)s rows.")
NO_ROWS_FOR_SKILL = _("The aspects sheet has no row for skill %(code)s.")
OTHER_SKILLS_IGNORED = _("%(count)s rows of other skills (%(codes)s) were ignored.")
BOTH_SHEETS_DIFFER = _(
    "The workbook holds both a CIS sheet and an aspects sheet for this skill and they "
    "differ; delete the one you did not edit and import again."
)
EMPTY_CELL = _("This cell must not be empty.")
TOO_LONG = _("At most %(max)s characters (this has %(length)s).")
NOT_A_NUMBER = _("“%(value)s” is not a number.")
NEGATIVE = _("The mark must not be negative (got %(value)s).")
UNKNOWN_TYPE = _("Unknown aspect type “%(value)s”: use M (measurement) or J (judgement).")
MAX_MARK_NOT_NUMBER = _("The max mark “%(value)s” is not a number.")
MAX_MARK_NOT_POSITIVE = _("The max mark must be more than 0 (got %(value)s).")
MAX_MARK_TOO_PRECISE = _(
    "The max mark %(value)s cannot be kept exactly: at most 2 decimal places and less than 10000."
)
NO_DESCRIPTION = _("The aspect has no description.")
BAD_SCORE = _("A judgement score must be 0, 1, 2 or 3 (got “%(value)s”).")
NO_DESCRIPTORS = _(
    "%(count)s judgement aspect(s) have no descriptors; the tablet shows bare scores 0–3 for them."
)
MISSING_DESCRIPTOR = _("The judgement aspect has no descriptor for score %(score)s.")
EMPTY_DESCRIPTOR = _("The descriptor for score %(score)s is empty.")
DUPLICATE_SCORE = _(
    "Score %(score)s is described twice for this judgement aspect (first in row %(first)s)."
)
DESCRIPTOR_ON_MEASUREMENT = _(
    "A measurement aspect has no judgement descriptors: remove this or make the aspect J."
)
SCORE_WITHOUT_ASPECT = _("A judgement score row comes before any judgement aspect.")
ASPECT_BEFORE_SUB = _("An aspect row comes before any sub-criterion row.")
DUPLICATE_CRITERION = _("Criterion %(code)s is listed twice (first in row %(first)s).")
DUPLICATE_SUB = _("Sub-criterion %(code)s is listed twice (first in row %(first)s).")
DUPLICATE_ASPECT = _("Aspect code %(code)s is used twice (first in row %(first)s).")
DUPLICATE_SECTION = _("WSOS section %(code)s is listed twice (first in row %(first)s).")
INCONSISTENT = _(
    "This differs from row %(first)s (“%(other)s”); every row of %(code)s must say the same."
)
CRITERION_NOT_LISTED = _("Criterion %(code)s has aspects but is not listed in the Criteria table.")
BLOCK_WITHOUT_LETTER = _(
    "This block does not say which criterion it belongs to (expected “Criterion A” … in column L)."
)
CRITERION_SUM = _(
    "The aspects of criterion %(code)s add up to %(actual)s, but the criterion is worth %(stated)s."
)
TOTAL_SUM = _("The criteria add up to %(actual)s, not %(expected)s.")
NO_ASPECTS = _("The marking scheme has no aspects.")
TOTAL_NOT_100 = _("The scheme states a total of %(total)s, not 100.")
HEADING_SKIPPED = _(
    "The heading “%(text)s” has no aspect type; the portal keeps aspects only, so it was "
    "not imported."
)
ROW_IGNORED = _("Row ignored: it has text but no sub-criterion ID, aspect type or score.")
SUB_WITHOUT_ASPECTS = _("Sub-criterion %(code)s has no aspects.")
UNKNOWN_SECTION = _("WSOS section %(code)s is not in the WSOS table.")
WSOS_SUM = _("The WSOS weights add up to %(actual)s, not %(expected)s.")
HAS_MARKS = _(
    "Skill %(skill)s already has marks; its marking scheme cannot be changed, because the "
    "existing marks would no longer match it."
)
SIGNED_OFF = _("Skill %(skill)s is signed off; its marking scheme cannot be changed.")


SchemeProblem = CellProblem


class SchemeImportError(Exception):
    """Raised when a scheme is refused; carries every problem found."""

    def __init__(self, problems: list[SchemeProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# --------------------------------------------------------------------------- data


# ``row``/``column`` fields are where an item came from, for messages only;
# they do not take part in comparisons, so a scheme read from CIS equals the
# same scheme read from our sheet or from the database.
@dataclass
class DescriptorData:
    score: int
    text: str
    row: int | None = field(default=None, compare=False)
    column: str | None = field(default=None, compare=False)


@dataclass
class AspectData:
    code: str
    kind: str  # "M" or "J"; anything else is reported by validate_scheme
    description: str
    max_mark: Decimal | None  # None: the cell did not parse (already reported)
    extra_description: str = ""
    requirement: str = ""
    wsos_section: str = ""
    descriptors: list[DescriptorData] = field(default_factory=list)
    row: int | None = field(default=None, compare=False)
    code_generated: bool = field(default=False, compare=False)


@dataclass
class SubCriterionData:
    code: str
    name: str
    marking_day: str = ""
    aspects: list[AspectData] = field(default_factory=list)
    row: int | None = field(default=None, compare=False)

    @property
    def aspect_total(self) -> Decimal:
        return sum((a.max_mark for a in self.aspects if a.max_mark is not None), Decimal(0))


@dataclass
class CriterionData:
    code: str
    name: str
    max_mark: Decimal | None = None  # the stated mark; None: not stated
    sub_criteria: list[SubCriterionData] = field(default_factory=list)
    row: int | None = field(default=None, compare=False)

    def aspects(self) -> Iterator[AspectData]:
        for sub in self.sub_criteria:
            yield from sub.aspects

    @property
    def aspect_total(self) -> Decimal:
        return sum((a.max_mark for a in self.aspects() if a.max_mark is not None), Decimal(0))


@dataclass
class WSOSSectionData:
    number: str
    title: str
    weight: Decimal | None
    row: int | None = field(default=None, compare=False)


@dataclass
class SchemeData:
    """A marking scheme as plain data, whichever format it came from."""

    criteria: list[CriterionData] = field(default_factory=list)
    wsos_sections: list[WSOSSectionData] = field(default_factory=list)
    # A total the workbook itself states (CIS "Competition" total typed as a
    # number, our ``scheme_total`` column); None means the usual 100.
    stated_total: Decimal | None = None
    title: str = field(default="", compare=False)
    source: str = field(default="", compare=False)  # "cis", "aspects" or "portal"
    sheet: str = field(default="", compare=False)
    # column key → letter, for messages
    columns: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    problems: list[SchemeProblem] = field(default_factory=list, compare=False, repr=False)
    # Where to point messages about the scheme as a whole.
    total_row: int | None = field(default=None, compare=False)
    total_column: str | None = field(default=None, compare=False)
    wsos_sheet: str = field(default="", compare=False)

    # -- problems
    @property
    def errors(self) -> list[SchemeProblem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[SchemeProblem]:
        return [p for p in self.problems if p.warning]

    def problem(
        self,
        row: int | None,
        column: str | None,
        message: Any,
        *,
        warning: bool = False,
        sheet: str | None = None,
        **params: Any,
    ) -> None:
        letter = self.columns.get(column) if column else None
        self.problems.append(
            SchemeProblem(sheet or self.sheet, row, column, letter, message, params, warning)
        )

    # -- figures
    def aspects(self) -> Iterator[AspectData]:
        for criterion in self.criteria:
            yield from criterion.aspects()

    @property
    def expected_total(self) -> Decimal:
        return SCHEME_TOTAL if self.stated_total is None else self.stated_total

    @property
    def total(self) -> Decimal:
        return sum((c.aspect_total for c in self.criteria), Decimal(0))

    def judgement_without_descriptors(self) -> int:
        """J aspects with no descriptor at all (allowed in the aspects sheet)."""
        return sum(
            1 for a in self.aspects() if a.kind == AspectKind.JUDGEMENT and not a.descriptors
        )

    def summary(self) -> dict[str, Any]:
        aspects = list(self.aspects())
        return {
            "criteria": len(self.criteria),
            "sub_criteria": sum(len(c.sub_criteria) for c in self.criteria),
            "aspects": len(aspects),
            "measurement": sum(1 for a in aspects if a.kind == AspectKind.MEASUREMENT),
            "judgement": sum(1 for a in aspects if a.kind == AspectKind.JUDGEMENT),
            "total": self.total,
        }


@dataclass
class VariationRow:
    """One WSOS section: the weight the standards give it against the marks
    the aspects carry (CIS's "variation")."""

    section: str
    title: str
    weight: Decimal | None  # None: aspects name a section the WSOS table lacks
    aspect_marks: Decimal

    @property
    def difference(self) -> Decimal:
        return self.aspect_marks - (self.weight or Decimal(0))


def wsos_variation(data: SchemeData) -> list[VariationRow]:
    """Per WSOS section, stated weight vs aspect marks; sections the aspects
    name but the table lacks come after, and aspects without a section last."""
    carried: dict[str, Decimal] = defaultdict(Decimal)
    for aspect in data.aspects():
        if aspect.max_mark is not None:
            carried[aspect.wsos_section] += aspect.max_mark
    rows = [
        VariationRow(s.number, s.title, s.weight, carried.pop(s.number, Decimal(0)))
        for s in data.wsos_sections
    ]
    for number in sorted((k for k in carried if k), key=_natural_key):
        rows.append(VariationRow(number, "", None, carried[number]))
    if "" in carried:
        rows.append(VariationRow("", "", None, carried[""]))
    return rows


def fmt_mark(value: Decimal | None) -> str:
    """A mark for people: two places, as the models keep it ("—" when unknown)."""
    return "—" if value is None else f"{value.quantize(Decimal('0.01')):f}"


def total_variation(rows: list[VariationRow]) -> Decimal:
    return sum((abs(r.difference) for r in rows), Decimal(0))


# --------------------------------------------------------------------------- cells


def _is_formula(value: Any) -> bool:
    """A formula cell (read as its text by ``portal.spreadsheets``): never a
    stated value. Text typed with a leading ``=`` is text."""
    return spreadsheets.is_formula(value)


def _text(value: Any) -> str:
    """A cell as text: empty strings are empty, numbers lose a spurious '.0'
    (Excel hands IDs such as 1 over as 1.0). A formula reads as its own text
    (a description typed as "=…" is that text, not nothing); where a number
    is expected the callers check ``_is_formula`` first."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value).strip()


def _number(value: Any) -> Decimal | None:
    """The exact number in a cell; raises ValueError when it holds something else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        # repr gives the shortest text that reads back as the same float: what was typed.
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def _shown(value: Any) -> str:
    return _text(value) or str(value)


def _natural_key(code: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


def _norm(value: Any) -> str:
    """Header text compared loosely: case and line breaks do not matter."""
    return " ".join(_text(value).lower().split())


def _check_length(data: SchemeData, row: int | None, key: str, value: str) -> None:
    limit = MAX_LEN.get(key)
    if limit is not None and len(value) > limit:
        data.problem(row, key, TOO_LONG, max=limit, length=len(value))


# --------------------------------------------------------------------------- loading


def load_scheme_workbook(source: str | os.PathLike | IO[bytes]) -> spreadsheets.BoundedWorkbook:
    """Open an uploaded or named .xlsx within the upload bounds, streaming
    (``portal.spreadsheets``). Formula cells are read as their text, marked
    as formulas: a cached result may be stale, and the readers never treat a
    formula as a stated value. A refused file raises SchemeImportError."""
    try:
        return spreadsheets.open_workbook(source)
    except spreadsheets.SpreadsheetRefused as exc:
        raise SchemeImportError([exc.problem]) from exc


def _sheet_rows(ws: Any) -> list[tuple[Any, ...]]:
    """A sheet's rows (a scheme is small; a refusal past the bounds is
    raised as SchemeImportError naming the sheet)."""
    try:
        return list(ws.iter_rows(values_only=True))
    except spreadsheets.SpreadsheetRefused as exc:
        raise SchemeImportError([exc.problem]) from exc


def _cis_sheet(workbook: Any) -> Any | None:
    sheets = spreadsheets.sheets_of(workbook)
    for ws in sheets:
        if _norm(ws.title) == _norm(CIS_SHEET):
            return ws
    # Renamed sheet: recognise the layout by its block headers.
    for ws in sheets:
        for row in _sheet_rows(ws):
            if row and _norm(row[0]).startswith("sub criterion id"):
                return ws
    return None


def _named_sheet(workbook: Any, name: str) -> Any | None:
    for ws in spreadsheets.sheets_of(workbook):
        if ws.title.strip().lower() == name:
            return ws
    return None


def read_scheme(
    workbook: Workbook | spreadsheets.BoundedWorkbook, skill_code: str | None = None
) -> SchemeData:
    """Detect the layout and read it: the CIS sheet, our ``aspects`` sheet, or
    both (an export of ours holds both: then they must agree, and the aspects
    sheet wins because it keeps the portal's aspect codes)."""
    cis_ws = _cis_sheet(workbook)
    aspects_ws = _named_sheet(workbook, ASPECTS_SHEET)
    if cis_ws is None and aspects_ws is None:
        data = SchemeData()
        data.problems.append(SchemeProblem(None, None, None, None, NO_SCHEME_SHEET))
        return data
    if aspects_ws is None:
        return read_cis(workbook)
    ours = read_aspects(workbook, skill_code)
    if cis_ws is None:
        return ours
    if not _has_rows_for(ours):
        return read_cis(workbook)
    theirs = read_cis(workbook)
    if ours.errors or theirs.errors or _same_but_codes(ours, theirs):
        # Report the aspects sheet's own problems (it is the one that wins).
        return ours
    ours.problems.append(SchemeProblem(None, None, None, None, BOTH_SHEETS_DIFFER))
    return ours


def _has_rows_for(data: SchemeData) -> bool:
    return not any(p.message is NO_ROWS_FOR_SKILL for p in data.problems)


def _same_but_codes(a: SchemeData, b: SchemeData) -> bool:
    """Equal apart from aspect codes (CIS cannot carry ours) and the stated total."""

    def without_codes(data: SchemeData) -> SchemeData:
        copy = deepcopy(SchemeData(criteria=data.criteria, wsos_sections=data.wsos_sections))
        for aspect in copy.aspects():
            aspect.code = ""
        return copy

    return without_codes(a) == without_codes(b)


# --------------------------------------------------------------------------- CIS reader


def read_cis(workbook: Workbook | spreadsheets.BoundedWorkbook) -> SchemeData:
    """Read the CIS "Marking Scheme Import" sheet, as it is (typos included),
    then validate it. Problems are in ``.problems``; nothing raises."""
    ws = _cis_sheet(workbook)
    data = SchemeData(source="cis", columns=dict(CIS_COLUMNS))
    if ws is None:
        data.problems.append(SchemeProblem(None, None, None, None, NO_SCHEME_SHEET))
        return data
    data.sheet = ws.title
    _CisReader(ws, data).read()
    data.problems.extend(validate_scheme(data))
    return data


class _CisReader:
    """A small state machine over the rows: title, WSOS table, Criteria table,
    then criterion blocks of sub-criterion, aspect and score rows."""

    def __init__(self, ws: Worksheet, data: SchemeData) -> None:
        self.ws = ws
        self.data = data
        self.mode: str | None = None
        self.weight_col = 8  # I
        self.name_col = 1  # B
        self.mark_col = 10  # K
        self.criteria: dict[str, CriterionData] = {}
        self.criterion: CriterionData | None = None
        self.sub: SubCriterionData | None = None
        self.aspect: AspectData | None = None
        self.block_row_number = 0
        self.block_code = ""

    def read(self) -> None:
        for number, raw in enumerate(_sheet_rows(self.ws), start=1):
            cells = list(raw) + [None] * max(0, 14 - len(raw))
            self.row(number, cells)
        self.data.criteria = [
            c
            for c in self.criteria.values()
            # Empty blocks (E … I in most schemes) and zero rows carry nothing.
            if c.sub_criteria or (c.max_mark or 0) != 0
        ]

    def row(self, number: int, cells: list[Any]) -> None:
        first = _norm(cells[0])
        if not self.data.title and first and self.mode is None and not self.criteria:
            if first not in ("worldskills occupational standards", "criteria"):
                self.data.title = _text(cells[0])
                return
        if first == "worldskills occupational standards":
            self.mode = "wsos_header"
            return
        if first == "criteria":
            self.mode = "criteria_header"
            self.data.total_row = number + 1
            self.data.total_column = "criterion_mark"
            return
        if first.startswith("sub criterion id"):
            self.block_header(number, cells)
            return
        if _norm(cells[C_BLOCK]) == "competition":
            self.mode = None
            total = cells[C_BLOCK_TOTAL]
            if not _is_formula(total) and _text(total):
                try:
                    self.data.stated_total = _number(total)
                except ValueError:
                    self.data.problem(number, "scheme_total", NOT_A_NUMBER, value=_shown(total))
                self.data.total_row, self.data.total_column = number, "scheme_total"
            return
        handler = {
            "wsos_header": self.wsos_header,
            "wsos": self.wsos_row,
            "criteria_header": self.criteria_header,
            "criteria": self.criteria_row,
            "block": self.block_row,
        }.get(self.mode or "")
        if handler is not None:
            handler(number, cells)

    # -- WSOS table
    def wsos_header(self, number: int, cells: list[Any]) -> None:
        heads = [_norm(c) for c in cells]
        if "aspect marks" in heads:
            self.weight_col = heads.index("aspect marks") - 1
        elif "wsos marks" in heads:
            self.weight_col = len(heads) - 1 - heads[::-1].index("wsos marks")
        self.data.columns["weight"] = get_column_letter(self.weight_col + 1)
        self.mode = "wsos"

    def wsos_row(self, number: int, cells: list[Any]) -> None:
        section = _text(cells[0])
        if not section:
            self.mode = None
            return
        weight: Decimal | None = None
        try:
            weight = _number(cells[self.weight_col])
        except ValueError:
            self.data.problem(number, "weight", NOT_A_NUMBER, value=_shown(cells[self.weight_col]))
        if weight is not None and weight < 0:
            self.data.problem(number, "weight", NEGATIVE, value=weight)
        title = _text(cells[1])
        _check_length(self.data, number, "section", section)
        _check_length(self.data, number, "title", title)
        self.data.wsos_sections.append(WSOSSectionData(section, title, weight, number))

    # -- Criteria table
    def criteria_header(self, number: int, cells: list[Any]) -> None:
        heads = [_norm(c) for c in cells]
        if "mark" in heads:
            self.mark_col = heads.index("mark")
            self.data.columns["criterion_mark"] = get_column_letter(self.mark_col + 1)
        if "name" in heads:
            self.name_col = heads.index("name")
        self.mode = "criteria"

    def criteria_row(self, number: int, cells: list[Any]) -> None:
        code = _text(cells[0])
        if not code:
            self.mode = None
            return
        mark: Decimal | None = None
        raw = cells[self.mark_col]
        try:
            mark = _number(raw)
        except ValueError:
            self.data.problem(number, "criterion_mark", NOT_A_NUMBER, value=_shown(raw))
        if mark is not None and mark < 0:
            self.data.problem(number, "criterion_mark", NEGATIVE, value=mark)
        name = _text(cells[self.name_col])
        _check_length(self.data, number, "criterion", code)
        _check_length(self.data, number, "criterion_name", name)
        if code in self.criteria:
            self.data.problem(
                number, "criterion", DUPLICATE_CRITERION, code=code, first=self.criteria[code].row
            )
            return
        self.criteria[code] = CriterionData(code, name, mark, row=number)

    # -- criterion blocks
    def block_header(self, number: int, cells: list[Any]) -> None:
        self.mode = "block"
        self.sub = self.aspect = None
        label = _text(cells[C_BLOCK])
        match = re.fullmatch(r"(?i)criterion\s+(\S+)", label)
        code = match.group(1) if match else ""
        self.criterion = None
        self.block_row_number = number
        self.block_code = code

    def _block_criterion(self, number: int, sub_code: str) -> CriterionData | None:
        """The criterion of the current block, found when its first row arrives."""
        if self.criterion is not None:
            return self.criterion
        code = self.block_code
        if not code:
            # No "Criterion X" label: fall back to the sub-criterion ID's letters.
            prefix = re.match(r"[A-Za-z]+", sub_code)
            if prefix is None:
                self.data.problem(self.block_row_number, "block", BLOCK_WITHOUT_LETTER)
                return None
            code = prefix.group(0)
        criterion = self.criteria.get(code)
        if criterion is None:
            self.data.problem(self.block_row_number, "block", CRITERION_NOT_LISTED, code=code)
            criterion = self.criteria[code] = CriterionData(code, code, None, row=number)
        self.criterion = criterion
        return criterion

    def block_row(self, number: int, cells: list[Any]) -> None:
        sub_code = _text(cells[C_SUB])
        kind = _text(cells[C_TYPE]).upper()
        score = _text(cells[C_SCORE])
        max_raw = cells[C_MAX]
        has_max = _text(max_raw) != "" or _is_formula(max_raw)
        if sub_code:
            self.sub_criterion(number, sub_code, cells)
            if not (kind or has_max):
                return
        if kind or has_max:
            self.aspect_row(number, kind, cells)
        elif score:
            self.score_row(number, cells)
        else:
            texts = [_text(c) for c in cells[C_DESC:C_CALC]]
            if texts[0] and not any(texts[1:]):
                self.data.problem(
                    number, "description", HEADING_SKIPPED, warning=True, text=texts[0]
                )
            elif any(texts):
                self.data.problem(number, None, ROW_IGNORED, warning=True)

    def sub_criterion(self, number: int, code: str, cells: list[Any]) -> None:
        self.aspect = None
        criterion = self._block_criterion(number, code)
        if criterion is None:
            self.sub = None
            return
        name = _text(cells[C_SUBNAME])
        day = _text(cells[C_DAY])
        _check_length(self.data, number, "sub_criterion", code)
        _check_length(self.data, number, "sub_criterion_name", name)
        _check_length(self.data, number, "marking_day", day)
        self.sub = SubCriterionData(code, name, day, row=number)
        criterion.sub_criteria.append(self.sub)

    def aspect_row(self, number: int, kind: str, cells: list[Any]) -> None:
        if self.sub is None:
            self.data.problem(number, "type", ASPECT_BEFORE_SUB)
            self.aspect = None
            return
        max_mark = _parse_max_mark(self.data, number, cells[C_MAX])
        code = f"{self.sub.code}.{len(self.sub.aspects) + 1}"
        self.aspect = AspectData(
            code=code,
            kind=kind,
            description=_text(cells[C_DESC]),
            max_mark=max_mark,
            extra_description=_text(cells[C_EXTRA]),
            requirement=_text(cells[C_REQ]),
            wsos_section=_text(cells[C_WSOS]),
            row=number,
            code_generated=True,
        )
        self.sub.aspects.append(self.aspect)

    def score_row(self, number: int, cells: list[Any]) -> None:
        if self.aspect is None:
            self.data.problem(number, "score", SCORE_WITHOUT_ASPECT)
            return
        score = _parse_score(self.data, number, "score", cells[C_SCORE])
        if score is None:
            return
        self.aspect.descriptors.append(
            DescriptorData(score, _text(cells[C_EXTRA]), number, "descriptor")
        )


def _parse_max_mark(data: SchemeData, row: int, raw: Any) -> Decimal | None:
    """Parse only; range and precision are validate_scheme's job."""
    if _is_formula(raw):
        data.problem(row, "max_mark", MAX_MARK_NOT_NUMBER, value=str(raw))
        return None
    try:
        return _number(raw)
    except ValueError:
        data.problem(row, "max_mark", MAX_MARK_NOT_NUMBER, value=_shown(raw))
        return None


def _parse_score(data: SchemeData, row: int, column: str, raw: Any) -> int | None:
    try:
        number = _number(raw)
    except ValueError:
        number = None
    if (
        number is None
        or number != number.to_integral_value()
        or int(number) not in JUDGEMENT_SCORES
    ):
        data.problem(row, column, BAD_SCORE, value=_shown(raw))
        return None
    return int(number)


# --------------------------------------------------------------------------- aspects sheet


def _header(rows: list[tuple[Any, ...]], required: list[str]) -> tuple[int, dict[str, int]] | None:
    """Find the key row (row index, key → column index) within the first rows."""
    return spreadsheets.find_header(enumerate(rows), required, HEADER_SEARCH_ROWS - 1)


def read_aspects(
    workbook: Workbook | spreadsheets.BoundedWorkbook, skill_code: str | None = None
) -> SchemeData:
    """Read our ``aspects`` sheet (and ``wsos_sections`` if present) for one
    skill. Without ``skill_code`` the sheet must hold exactly one skill."""
    ws = _named_sheet(workbook, ASPECTS_SHEET)
    if ws is None:
        empty = SchemeData(source="aspects")
        empty.problems.append(SchemeProblem(None, None, None, None, NO_SCHEME_SHEET))
        return empty
    rows = _sheet_rows(ws)
    header = _header(rows, ASPECT_KEYS)
    if header is None:
        empty = SchemeData(source="aspects", sheet=ws.title)
        empty.problem(None, None, NO_HEADER, keys=", ".join(ASPECT_KEYS), n=HEADER_SEARCH_ROWS)
        return empty
    index, positions = header
    letters = {k: get_column_letter(i + 1) for k, i in positions.items()}
    keyed = [
        (index + 2 + offset, {k: (raw[i] if i < len(raw) else None) for k, i in positions.items()})
        for offset, raw in enumerate(rows[index + 1 :])
    ]
    schemes = read_aspects_rows(
        keyed, sheet=ws.title, letters=letters, header_row=index + 1, skill_code=skill_code
    )
    if skill_code is None:
        skill_code = next(iter(schemes), "")
    data = schemes.get(skill_code)
    if data is not None and not any(True for _ in data.aspects()):
        data = None if not data.problems else data
    if data is None:
        data = SchemeData(source="aspects", sheet=ws.title, columns=letters)
        data.problem(None, "skill_code", NO_ROWS_FOR_SKILL, code=skill_code)
        return data
    others = sorted(k for k in schemes if k != skill_code)
    if others:
        count = sum(len(list(s.aspects())) for k, s in schemes.items() if k != skill_code)
        data.problem(
            None,
            "skill_code",
            OTHER_SKILLS_IGNORED,
            warning=True,
            count=count,
            codes=", ".join(others),
        )
    _read_wsos_sheet(workbook, data, skill_code)
    data.problems.extend(validate_scheme(data))
    return data


def read_aspects_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    sheet: str = ASPECTS_SHEET,
    letters: Mapping[str, str] | None = None,
    header_row: int | None = None,
    skill_code: str | None = None,
) -> dict[str, SchemeData]:
    """Group rows of the ``aspects`` sheet (Excel row number, key → raw value)
    into one unvalidated SchemeData per skill code. The event-workbook driver
    can feed its parsed rows here; call ``validate_scheme`` on each result.
    With ``skill_code`` only that skill's rows are checked cell by cell."""
    schemes: dict[str, SchemeData] = {}
    builders: dict[str, _AspectsBuilder] = {}
    columns = dict(letters or {})
    # Rows without a skill code belong to no scheme; their errors go to the one asked for.
    blank = SchemeData(source="aspects", sheet=sheet, columns=columns)
    for number, values in rows:
        if all(_text(v) == "" for v in values.values()):
            continue
        code = _text(values.get("skill_code"))
        if not code:
            blank.problem(number, "skill_code", EMPTY_CELL)
            continue
        if code not in schemes:
            data = SchemeData(source="aspects", sheet=sheet, columns=columns)
            data.total_row, data.total_column = header_row, "max_mark"
            schemes[code] = data
            builders[code] = _AspectsBuilder(data)
        if skill_code is not None and code != skill_code:
            builders[code].count_only(number, values)
            continue
        builders[code].add(number, values)
    target = skill_code if skill_code is not None else next(iter(schemes), None)
    if blank.problems and target is not None:
        if target not in schemes:
            schemes[target] = SchemeData(source="aspects", sheet=sheet, columns=columns)
        schemes[target].problems.extend(blank.problems)
    return schemes


class _AspectsBuilder:
    """Builds one skill's SchemeData from flat rows; the criterion and
    sub-criterion columns say where each aspect belongs, and the repeated
    name/mark columns must agree across rows."""

    def __init__(self, data: SchemeData) -> None:
        self.data = data
        self.criteria: dict[str, CriterionData] = {}
        self.subs: dict[str, tuple[CriterionData, SubCriterionData]] = {}
        # (item, key) → (first row, value) for the repeated columns
        self.stated: dict[tuple[str, str], tuple[int, str]] = {}

    def count_only(self, number: int, values: Mapping[str, Any]) -> None:
        # Rows of other skills still make up that skill's scheme, for counts only.
        crit = _text(values.get("criterion")) or "?"
        sub = _text(values.get("sub_criterion")) or "?"
        criterion = self.criteria.setdefault(crit, CriterionData(crit, crit, row=number))
        if sub not in self.subs:
            self.subs[sub] = (criterion, SubCriterionData(sub, sub, row=number))
            criterion.sub_criteria.append(self.subs[sub][1])
        self.subs[sub][1].aspects.append(
            AspectData(_text(values.get("aspect_code")), "", "", None, row=number)
        )
        self.data.criteria = list(self.criteria.values())

    def _same(self, number: int, item: str, key: str, value: str) -> str:
        """The value of a repeated column: the first non-empty one; a different
        non-empty value later is an error."""
        if not value:
            return self.stated.get((item, key), (0, ""))[1]
        first = self.stated.get((item, key))
        if first is None:
            self.stated[(item, key)] = (number, value)
            return value
        if first[1] != value:
            self.data.problem(number, key, INCONSISTENT, first=first[0], other=first[1], code=item)
        return first[1]

    def add(self, number: int, values: Mapping[str, Any]) -> None:
        data = self.data
        crit_code = _text(values.get("criterion"))
        sub_code = _text(values.get("sub_criterion"))
        ok = True
        for key, value in (("criterion", crit_code), ("sub_criterion", sub_code)):
            if not value:
                data.problem(number, key, EMPTY_CELL)
                ok = False
            _check_length(data, number, key, value)
        if not ok:
            return

        criterion = self.criteria.get(crit_code)
        if criterion is None:
            criterion = self.criteria[crit_code] = CriterionData(crit_code, "", row=number)
            data.criteria.append(criterion)
        name = self._same(number, crit_code, "criterion_name", _text(values.get("criterion_name")))
        criterion.name = name or crit_code
        _check_length(data, number, "criterion_name", criterion.name)
        mark_text = self._same(
            number, crit_code, "criterion_mark", _mark_text(values, "criterion_mark")
        )
        if mark_text and criterion.max_mark is None:
            try:
                criterion.max_mark = _number(mark_text)
            except ValueError:
                data.problem(number, "criterion_mark", NOT_A_NUMBER, value=mark_text)
            if criterion.max_mark is not None and criterion.max_mark < 0:
                data.problem(number, "criterion_mark", NEGATIVE, value=criterion.max_mark)
        total_text = self._same(number, "*", "scheme_total", _mark_text(values, "scheme_total"))
        if total_text and data.stated_total is None:
            try:
                data.stated_total = _number(total_text)
                data.total_row, data.total_column = number, "scheme_total"
            except ValueError:
                data.problem(number, "scheme_total", NOT_A_NUMBER, value=total_text)

        found = self.subs.get(sub_code)
        if found is None:
            sub = SubCriterionData(sub_code, "", row=number)
            self.subs[sub_code] = (criterion, sub)
            criterion.sub_criteria.append(sub)
        else:
            owner, sub = found
            if owner is not criterion:
                data.problem(number, "sub_criterion", DUPLICATE_SUB, code=sub_code, first=sub.row)
                return
        sub.name = (
            self._same(
                number, sub_code, "sub_criterion_name", _text(values.get("sub_criterion_name"))
            )
            or sub_code
        )
        sub.marking_day = self._same(
            number, sub_code, "marking_day", _text(values.get("marking_day"))
        )
        _check_length(data, number, "sub_criterion_name", sub.name)
        _check_length(data, number, "marking_day", sub.marking_day)

        code = _text(values.get("aspect_code"))
        generated = not code
        if generated:
            code = f"{sub_code}.{len(sub.aspects) + 1}"
        aspect = AspectData(
            code=code,
            kind=_text(values.get("type")).upper(),
            description=_text(values.get("description")),
            max_mark=_parse_max_mark(data, number, values.get("max_mark")),
            extra_description=_text(values.get("extra_description")),
            requirement=_text(values.get("requirement")),
            wsos_section=_text(values.get("wsos_section")),
            row=number,
            code_generated=generated,
        )
        for score in JUDGEMENT_SCORES:
            key = f"descriptor_{score}"
            text = _text(values.get(key))
            # An empty cell is a missing descriptor; an M aspect's are reported by validation.
            if text:
                aspect.descriptors.append(DescriptorData(score, text, number, key))
        sub.aspects.append(aspect)


def _mark_text(values: Mapping[str, Any], key: str) -> str:
    raw = values.get(key)
    if _is_formula(raw):
        return ""  # a computed mark is not a stated one
    if isinstance(raw, float):
        return repr(raw) if not raw.is_integer() else str(int(raw))
    return _text(raw)


def _read_wsos_sheet(
    workbook: Workbook | spreadsheets.BoundedWorkbook, data: SchemeData, skill_code: str
) -> None:
    ws = _named_sheet(workbook, WSOS_SHEET)
    if ws is None:
        return
    rows = _sheet_rows(ws)
    header = _header(rows, WSOS_KEYS)
    if header is None:
        data.problem(
            None, None, NO_HEADER, sheet=ws.title, keys=", ".join(WSOS_KEYS), n=HEADER_SEARCH_ROWS
        )
        return
    index, positions = header
    data.wsos_sheet = ws.title
    for offset, raw in enumerate(rows[index + 1 :]):
        number = index + 2 + offset
        values = {k: (raw[i] if i < len(raw) else None) for k, i in positions.items()}
        if _text(values["skill_code"]) != skill_code:
            continue
        section = _text(values["section"])
        letter = {k: get_column_letter(i + 1) for k, i in positions.items()}

        def problem(key: str, message: Any, **params: Any) -> None:
            data.problems.append(
                SchemeProblem(ws.title, number, key, letter.get(key), message, params)  # noqa: B023
            )

        if not section:
            problem("section", EMPTY_CELL)
            continue
        weight: Decimal | None = None
        try:
            weight = _number(values["weight"])
        except ValueError:
            problem("weight", NOT_A_NUMBER, value=_shown(values["weight"]))
        if weight is not None and weight < 0:
            problem("weight", NEGATIVE, value=weight)
        title = _text(values["title"])
        for key, value in (("section", section), ("title", title)):
            if len(value) > MAX_LEN[key]:
                problem(key, TOO_LONG, max=MAX_LEN[key], length=len(value))
        data.wsos_sections.append(WSOSSectionData(section, title, weight, number))


# --------------------------------------------------------------------------- validation


def validate_scheme(data: SchemeData) -> list[SchemeProblem]:
    """The rules every scheme must meet, whatever its source. Returns new
    problems (does not add them to ``data.problems``)."""
    out = SchemeData(sheet=data.sheet, columns=data.columns)  # a problem collector
    seen_criteria: dict[str, int | None] = {}
    seen_subs: dict[str, int | None] = {}
    seen_aspects: dict[str, int | None] = {}
    sections = {s.number for s in data.wsos_sections}
    seen_sections: dict[str, int | None] = {}
    wsos_sheet = data.wsos_sheet or None
    for section in data.wsos_sections:
        if section.number in seen_sections:
            out.problem(
                section.row,
                "section",
                DUPLICATE_SECTION,
                sheet=wsos_sheet,
                code=section.number,
                first=seen_sections[section.number],
            )
        seen_sections.setdefault(section.number, section.row)

    if not any(True for _ in data.aspects()):
        out.problem(data.total_row, data.total_column, NO_ASPECTS)
    for criterion in data.criteria:
        if criterion.code in seen_criteria:
            out.problem(
                criterion.row,
                "criterion",
                DUPLICATE_CRITERION,
                code=criterion.code,
                first=seen_criteria[criterion.code],
            )
        seen_criteria.setdefault(criterion.code, criterion.row)
        for sub in criterion.sub_criteria:
            if sub.code in seen_subs:
                out.problem(
                    sub.row,
                    "sub_criterion",
                    DUPLICATE_SUB,
                    code=sub.code,
                    first=seen_subs[sub.code],
                )
            seen_subs.setdefault(sub.code, sub.row)
            if not sub.aspects:
                out.problem(
                    sub.row, "sub_criterion", SUB_WITHOUT_ASPECTS, warning=True, code=sub.code
                )
            for aspect in sub.aspects:
                if aspect.code in seen_aspects:
                    out.problem(
                        aspect.row,
                        "aspect_code",
                        DUPLICATE_ASPECT,
                        code=aspect.code,
                        first=seen_aspects[aspect.code],
                    )
                seen_aspects.setdefault(aspect.code, aspect.row)
                if len(aspect.code) > MAX_LEN["aspect_code"]:
                    out.problem(
                        aspect.row,
                        "sub_criterion" if aspect.code_generated else "aspect_code",
                        TOO_LONG,
                        max=MAX_LEN["aspect_code"],
                        length=len(aspect.code),
                    )
                _validate_aspect(out, data, aspect, sections)
        # The aspects of a criterion must add up to the mark it is stated to be worth.
        if criterion.max_mark is not None and criterion.aspect_total != criterion.max_mark:
            out.problem(
                criterion.row,
                "criterion_mark",
                CRITERION_SUM,
                code=criterion.code,
                actual=criterion.aspect_total,
                stated=criterion.max_mark,
            )

    # The criteria (their stated marks, else what their aspects carry) must
    # make up the scheme's total.
    criteria_total = sum(
        (c.max_mark if c.max_mark is not None else c.aspect_total for c in data.criteria),
        Decimal(0),
    )
    if data.criteria and criteria_total != data.expected_total:
        out.problem(
            data.total_row,
            data.total_column,
            TOTAL_SUM,
            actual=criteria_total,
            expected=data.expected_total,
        )
    if data.stated_total is not None and data.stated_total != SCHEME_TOTAL:
        out.problem(
            data.total_row, data.total_column, TOTAL_NOT_100, warning=True, total=data.stated_total
        )
    weights = [s.weight for s in data.wsos_sections if s.weight is not None]
    if weights and sum(weights, Decimal(0)) != data.expected_total:
        out.problem(
            data.wsos_sections[0].row,
            "weight",
            WSOS_SUM,
            warning=True,
            sheet=wsos_sheet,
            actual=sum(weights, Decimal(0)),
            expected=data.expected_total,
        )
    bare = data.judgement_without_descriptors()
    if bare:
        out.problem(None, None, NO_DESCRIPTORS, warning=True, count=bare)
    return out.problems


def _validate_aspect(
    out: SchemeData, data: SchemeData, aspect: AspectData, sections: set[str]
) -> None:
    row = aspect.row
    if aspect.kind not in AspectKind.values:
        out.problem(row, "type", UNKNOWN_TYPE, value=aspect.kind)
    if not aspect.description:
        out.problem(row, "description", NO_DESCRIPTION)
    mark = aspect.max_mark
    if mark is not None:
        if mark <= 0:
            out.problem(row, "max_mark", MAX_MARK_NOT_POSITIVE, value=mark)
        elif mark != mark.quantize(Decimal("0.01")) or mark > MAX_MARK_LIMIT:
            out.problem(row, "max_mark", MAX_MARK_TOO_PRECISE, value=mark)
    if aspect.wsos_section:
        if len(aspect.wsos_section) > MAX_LEN["wsos_section"]:
            out.problem(
                row,
                "wsos_section",
                TOO_LONG,
                max=MAX_LEN["wsos_section"],
                length=len(aspect.wsos_section),
            )
        if sections and aspect.wsos_section not in sections:
            out.problem(
                row, "wsos_section", UNKNOWN_SECTION, warning=True, code=aspect.wsos_section
            )

    if aspect.kind == AspectKind.MEASUREMENT:
        for d in aspect.descriptors:
            if d.text or data.source != "aspects":
                out.problem(d.row, d.column or "score", DESCRIPTOR_ON_MEASUREMENT)
        return
    if aspect.kind != AspectKind.JUDGEMENT:
        return
    if not aspect.descriptors and data.source == "aspects":
        # Optional in the aspects sheet (the tablet then shows bare 0–3);
        # the import reports how many J aspects have none.
        return
    # A J aspect needs one descriptor for each score 0, 1, 2, 3 (all or none
    # in the aspects sheet; always in a CIS workbook, whose layout carries them).
    first_row: dict[int, int | None] = {}
    for d in aspect.descriptors:
        if d.score in first_row:
            out.problem(d.row, "score", DUPLICATE_SCORE, score=d.score, first=first_row[d.score])
            continue
        first_row[d.score] = d.row
        if not d.text:
            column = d.column if d.column and d.column.startswith("descriptor_") else "descriptor"
            out.problem(d.row, column, EMPTY_DESCRIPTOR, score=d.score)
    for score in JUDGEMENT_SCORES:
        if score not in first_row:
            column = f"descriptor_{score}" if data.source == "aspects" else "score"
            out.problem(row, column, MISSING_DESCRIPTOR, score=score)


# --------------------------------------------------------------------------- database


@dataclass
class ModelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class ApplyReport:
    skill_id: int
    dry_run: bool = False
    counts: dict[str, ModelCounts] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[SchemeProblem] = field(default_factory=list)

    def count(self, model: str, outcome: str, n: int = 1) -> None:
        stats = self.counts.setdefault(model, ModelCounts())
        setattr(stats, outcome, getattr(stats, outcome) + n)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())


class _DryRunRollback(Exception):
    pass


def scheme_locked_reason(skill: Skill) -> SchemeProblem | None:
    """Why the scheme of ``skill`` may not change now, or None."""
    label = f"{skill.code} {skill.name}"
    if SkillMarking.objects.filter(skill=skill, status=SkillMarking.Status.SIGNED_OFF).exists():
        return SchemeProblem(None, None, None, None, SIGNED_OFF, {"skill": label})
    # Ledger records point at aspects too (PROTECT): a mark written and later
    # removed still pins the scheme.
    if (
        Mark.objects.filter(skill=skill).exists()
        or LedgerRecord.objects.filter(skill=skill, aspect__isnull=False).exists()
    ):
        return SchemeProblem(None, None, None, None, HAS_MARKS, {"skill": label})
    return None


def apply_scheme(
    skill: Skill, data: SchemeData, *, replace: bool = True, dry_run: bool = False
) -> ApplyReport:
    """Write ``data`` as the marking scheme of ``skill``, all or nothing.

    Items are matched by code (criterion, sub-criterion, aspect, WSOS section
    number, descriptor score) and updated in place, so importing the same
    scheme again changes nothing. With ``replace`` (the default) items the
    data no longer has are deleted; without it they are kept. Raises
    ``SchemeImportError`` when the data has errors, or when the skill has
    marks or is signed off: changing a scheme under existing marks would
    silently change results. ``dry_run`` does everything, then rolls back.
    """
    problems = list(data.errors) or [p for p in validate_scheme(data) if not p.warning]
    if problems:
        raise SchemeImportError(problems)
    report = ApplyReport(skill.pk, dry_run=dry_run, summary=data.summary(), warnings=data.warnings)
    try:
        with transaction.atomic():
            # Lock the skill's marking state: write_mark locks the same row, so
            # no mark can slip in between the check and the write.
            SkillMarking.objects.select_for_update().get_or_create(skill=skill)
            locked = scheme_locked_reason(skill)
            if locked is not None:
                raise SchemeImportError([locked])
            _write(skill, data, replace, report)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return report


def _save(obj: Any, values: dict[str, Any], report: ApplyReport, model: str) -> None:
    """Set changed fields and save only those; count what happened."""
    if obj.pk is None:
        for k, v in values.items():
            setattr(obj, k, v)
        obj.save()
        report.count(model, "created")
        return
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    if changed:
        obj.save(update_fields=changed)
        report.count(model, "updated")
    else:
        report.count(model, "unchanged")


def _write(skill: Skill, data: SchemeData, replace: bool, report: ApplyReport) -> None:
    sections = {s.number: s for s in WSOSSection.objects.filter(skill=skill)}
    for section in data.wsos_sections:
        obj = sections.pop(section.number, None) or WSOSSection(skill=skill, number=section.number)
        values = {"title": section.title, "weight": section.weight or Decimal(0)}
        _save(obj, values, report, "wsos_sections")

    criteria = {c.code: c for c in Criterion.objects.filter(skill=skill)}
    subs = {
        (s.criterion_id, s.code): s for s in SubCriterion.objects.filter(criterion__skill=skill)
    }
    aspects = {a.code: a for a in Aspect.objects.filter(skill=skill)}
    descriptors = {
        (d.aspect_id, d.score): d for d in JudgementDescriptor.objects.filter(aspect__skill=skill)
    }
    kept_subs: set[int] = set()
    kept_aspects: set[int] = set()
    kept_descriptors: set[int] = set()
    order = 0
    for c_index, criterion in enumerate(data.criteria, start=1):
        c_obj = criteria.pop(criterion.code, None) or Criterion(skill=skill, code=criterion.code)
        _save(
            c_obj,
            {"name": criterion.name, "max_mark": criterion.max_mark, "order": c_index},
            report,
            "criteria",
        )
        for s_index, sub in enumerate(criterion.sub_criteria, start=1):
            s_obj = subs.get((c_obj.pk, sub.code)) or SubCriterion(criterion=c_obj, code=sub.code)
            _save(
                s_obj,
                {"name": sub.name, "marking_day": sub.marking_day, "order": s_index},
                report,
                "sub_criteria",
            )
            kept_subs.add(s_obj.pk)
            for aspect in sub.aspects:
                order += 1
                a_obj = aspects.get(aspect.code) or Aspect(skill=skill, code=aspect.code)
                _save(
                    a_obj,
                    {
                        "sub_criterion_id": s_obj.pk,
                        "kind": aspect.kind,
                        "description": aspect.description,
                        "extra_description": aspect.extra_description,
                        "requirement": aspect.requirement,
                        "wsos_section": aspect.wsos_section,
                        "max_mark": aspect.max_mark,
                        "order": order,
                    },
                    report,
                    "aspects",
                )
                kept_aspects.add(a_obj.pk)
                for d in aspect.descriptors:
                    d_obj = descriptors.get((a_obj.pk, d.score)) or JudgementDescriptor(
                        aspect=a_obj, score=d.score
                    )
                    _save(d_obj, {"text": d.text}, report, "descriptors")
                    kept_descriptors.add(d_obj.pk)

    # Descriptors of kept aspects that the data no longer has (an aspect
    # turned from J to M) always go: an M aspect must not carry any.
    stale = [d.pk for d in descriptors.values() if d.pk not in kept_descriptors]
    stale_descriptors = JudgementDescriptor.objects.filter(pk__in=stale)
    if not replace:
        stale_descriptors = stale_descriptors.filter(aspect_id__in=kept_aspects)
    report.count("descriptors", "deleted", stale_descriptors.delete()[0])
    if not replace:
        return
    # Children first, so nothing cascades behind the counts' back.
    gone_aspects = [a.pk for a in aspects.values() if a.pk not in kept_aspects]
    report.count(
        "aspects",
        "deleted",
        Aspect.objects.filter(pk__in=gone_aspects).delete()[1].get("scoring.Aspect", 0),
    )
    gone_subs = [s.pk for s in subs.values() if s.pk not in kept_subs]
    report.count(
        "sub_criteria",
        "deleted",
        SubCriterion.objects.filter(pk__in=gone_subs).delete()[1].get("scoring.SubCriterion", 0),
    )
    report.count(
        "criteria",
        "deleted",
        Criterion.objects.filter(pk__in=[c.pk for c in criteria.values()])
        .delete()[1]
        .get("scoring.Criterion", 0),
    )
    report.count(
        "wsos_sections",
        "deleted",
        WSOSSection.objects.filter(pk__in=[s.pk for s in sections.values()]).delete()[0],
    )


def scheme_of(skill: Skill) -> SchemeData:
    """The stored scheme of ``skill`` as plain data (source "portal")."""
    data = SchemeData(source="portal", title=f"{skill.code} {skill.name}")
    data.wsos_sections = [
        WSOSSectionData(s.number, s.title, s.weight)
        for s in sorted(
            WSOSSection.objects.filter(skill=skill), key=lambda s: _natural_key(s.number)
        )
    ]
    descriptors: dict[int, list[DescriptorData]] = defaultdict(list)
    for d in JudgementDescriptor.objects.filter(aspect__skill=skill).order_by("score"):
        descriptors[d.aspect_id].append(DescriptorData(d.score, d.text))
    by_sub: dict[int, list[AspectData]] = defaultdict(list)
    for a in Aspect.objects.filter(skill=skill).order_by("order", "code"):
        by_sub[a.sub_criterion_id].append(
            AspectData(
                code=a.code,
                kind=a.kind,
                description=a.description,
                max_mark=a.max_mark,
                extra_description=a.extra_description,
                requirement=a.requirement,
                wsos_section=a.wsos_section,
                descriptors=descriptors.get(a.pk, []),
            )
        )
    subs: dict[int, list[SubCriterionData]] = defaultdict(list)
    for s in SubCriterion.objects.filter(criterion__skill=skill).order_by("order", "code"):
        subs[s.criterion_id].append(SubCriterionData(s.code, s.name, s.marking_day, by_sub[s.pk]))
    for c in Criterion.objects.filter(skill=skill).order_by("order", "code"):
        data.criteria.append(CriterionData(c.code, c.name, c.max_mark, subs[c.pk]))
    return data


# --------------------------------------------------------------------------- writers

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="FFFFC000")
_SUB_FILL = PatternFill("solid", fgColor="FFDDEBF7")
_THIN = Side(style="thin", color="FFBFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _cell_number(value: Decimal | None) -> int | Decimal | None:
    """Whole numbers as ints (Excel shows 30, not 30.00); others exact."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def _excel_id(text: str) -> str | int:
    """WSOS section numbers go back as numbers, as CIS has them."""
    return int(text) if text.isdigit() and not text.startswith("0") else text


def write_aspects_sheet(
    workbook: Workbook,
    skills: Iterable[Skill | tuple[str, SchemeData]],
    *,
    chinese_titles: bool = False,
) -> Worksheet:
    """Our ``aspects`` sheet (docs/formats.md columns first, then the extra ones)
    for one or more skills, plus ``wsos_sections`` when any skill has WSOS
    sections. A skill may also be given as (skill code, SchemeData), to write
    a scheme that is not stored. Returns the aspects sheet."""
    schemes: list[tuple[str, SchemeData]] = [
        item if isinstance(item, tuple) else (item.code, scheme_of(item)) for item in skills
    ]
    keys = ASPECT_KEYS + ASPECT_EXTRA_KEYS
    ws = workbook.create_sheet(ASPECTS_SHEET)
    if chinese_titles:
        ws.append([TITLES_ZH[k] for k in keys])
    ws.append(keys)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    for code, data in schemes:
        for criterion in data.criteria:
            for sub in criterion.sub_criteria:
                for a in sub.aspects:
                    texts = {d.score: d.text for d in a.descriptors}
                    ws.append(
                        [
                            code,
                            criterion.code,
                            sub.code,
                            a.code,
                            a.kind,
                            _cell_number(a.max_mark),
                            a.description,
                            criterion.name,
                            _cell_number(criterion.max_mark),
                            sub.name,
                            sub.marking_day,
                            a.extra_description,
                            a.requirement,
                            a.wsos_section,
                            *(texts.get(s, "") for s in JUDGEMENT_SCORES),
                            _cell_number(data.stated_total),
                        ]
                    )
    keep_text_in_sheet(ws)  # user text never becomes a formula
    for index, key in enumerate(keys, start=1):
        wide = key in ("description", "extra_description", "requirement") or key.startswith(
            "descriptor_"
        )
        ws.column_dimensions[get_column_letter(index)].width = 50 if wide else max(len(key) + 2, 10)
    ws.freeze_panes = f"A{3 if chinese_titles else 2}"
    if any(data.wsos_sections for _c, data in schemes):
        wsos = workbook.create_sheet(WSOS_SHEET)
        if chinese_titles:
            wsos.append([TITLES_ZH[k] for k in WSOS_KEYS])
        wsos.append(WSOS_KEYS)
        for cell in wsos[wsos.max_row]:
            cell.font = _BOLD
        for code, data in schemes:
            for s in data.wsos_sections:
                wsos.append([code, _excel_id(s.number), s.title, _cell_number(s.weight)])
        wsos.column_dimensions["C"].width = 50
        keep_text_in_sheet(wsos)
    return ws


# Letters of the CIS blocks: CIS always lists criteria A … I, empty ones too.
CIS_LETTERS = "ABCDEFGHI"
_CIS_BLOCK_HEAD = [
    "Sub\nCriterion\nID",
    "Sub Criterion\nName or Description",
    "Day of Marking",
    "Aspect\nType\nM = Meas\nJ = Judg",
    "Aspect - Description",
    "Judg Score",
    "Extra Aspect Description (Meas or Judg)\nOR\nJudgement Score Description (Judg only)",
    "Requirement\n(Measurement Only)",
    "WSOS Section",
    "Calculation Row \n(Export only)",
    "Max\nMark",
]


def write_cis(workbook: Workbook, skill: Skill | SchemeData) -> Worksheet:
    """The CIS "Marking Scheme Import" sheet, laid out as CIS exports it, so
    a scheme kept in the portal can go back to CIS users. Totals and the
    variation are formulas, as in CIS; ``read_cis`` reads the sheet back to
    the same scheme."""
    data = skill if isinstance(skill, SchemeData) else scheme_of(skill)
    ws = workbook.create_sheet(CIS_SHEET)
    formulas: set[str] = set()  # coordinates of the formulas written here
    widths = (10, 40, 9, 9, 70, 8, 70, 30, 12, 14, 10, 16, 8, 10)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width

    ws["A1"] = data.title
    ws["A1"].font = _TITLE
    ws.merge_cells("A1:K1")
    row = 3
    ws.cell(row, 1, "WorldSkills Occupational Standards").font = _BOLD
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=11)
    row += 1
    for col, head in (
        (1, "Section"),
        (2, "WSOS Marks"),
        (9, "WSOS Marks"),
        (10, "Aspect Marks"),
        (11, "Variation"),
    ):
        cell = ws.cell(row, col, head)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    variation = {v.section: v for v in wsos_variation(data)}
    first_wsos = row + 1
    for section in data.wsos_sections:
        row += 1
        ws.cell(row, 1, _excel_id(section.number))
        ws.cell(row, 2, section.title)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=8)
        ws.cell(row, 9, _cell_number(section.weight))
        ws.cell(row, 10, _cell_number(variation[section.number].aspect_marks))
        formulas.add(ws.cell(row, 11, f"=ABS(I{row}-J{row})").coordinate)
    row += 1
    ws.cell(row, 9, "Total Variation").font = _BOLD
    formulas.add(
        ws.cell(row, 11, f"=SUM(K{first_wsos}:K{row - 1})" if row > first_wsos else 0).coordinate
    )

    row += 3
    ws.cell(row, 1, "Criteria").font = _BOLD
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=11)
    row += 1
    for col, head in ((1, "ID"), (2, "Name"), (11, "Mark")):
        cell = ws.cell(row, col, head)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    criterion: CriterionData | None
    for criterion in data.criteria:
        row += 1
        ws.cell(row, 1, criterion.code)
        ws.cell(row, 2, criterion.name)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=10)
        ws.cell(
            row,
            11,
            _cell_number(
                criterion.max_mark if criterion.max_mark is not None else criterion.aspect_total
            ),
        )

    by_code = {c.code: c for c in data.criteria}
    letters = [c.code for c in data.criteria]
    letters += [x for x in CIS_LETTERS if x not in by_code and all(len(c) == 1 for c in letters)]
    letters.sort(key=lambda c: (CIS_LETTERS.find(c) if c in CIS_LETTERS else 99, c))
    row += 2
    block_totals: list[str] = []
    for code in letters:
        criterion = by_code.get(code)
        row += 1
        head_row = row
        for col, head in enumerate(_CIS_BLOCK_HEAD, start=1):
            cell = ws.cell(row, col, head)
            cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEAD_FILL, _WRAP, _BOX
        ws.cell(row, 12, f"Criterion {code}").font = _BOLD
        ws.cell(row, 13, "Total\nMark").font = _BOLD
        ws.row_dimensions[row].height = 64.5
        for sub in criterion.sub_criteria if criterion else []:
            row += 1
            for col, value in ((1, sub.code), (2, sub.name), (3, sub.marking_day)):
                cell = ws.cell(row, col, value)
                cell.font, cell.fill = _BOLD, _SUB_FILL
            for aspect in sub.aspects:
                row += 1
                ws.cell(row, 4, aspect.kind)
                ws.cell(row, 5, aspect.description).alignment = _WRAP
                if aspect.extra_description:
                    ws.cell(row, 7, aspect.extra_description).alignment = _WRAP
                if aspect.requirement:
                    ws.cell(row, 8, aspect.requirement).alignment = _WRAP
                if aspect.wsos_section:
                    ws.cell(row, 9, _excel_id(aspect.wsos_section))
                mark = ws.cell(row, 11, _cell_number(aspect.max_mark))
                mark.number_format = "0.00"
                if aspect.kind == AspectKind.JUDGEMENT:
                    for d in sorted(aspect.descriptors, key=lambda d: d.score):
                        row += 1
                        ws.cell(row, 6, d.score)
                        ws.cell(row, 7, d.text).alignment = _WRAP
                    row += 1  # CIS leaves a blank row after each judgement block
            row += 1  # and one after each sub-criterion
        if criterion is None:
            row += 2
        formulas.add(ws.cell(head_row, 14, f"=SUM(K{head_row + 1}:K{row})").coordinate)
        block_totals.append(f"N{head_row}")
    row += 2
    ws.cell(row, 12, "Competition").font = _BOLD
    ws.cell(row, 13, "Total\nMark").font = _BOLD
    # A stated total other than the sum goes back as a number; else a formula, as CIS has it.
    total = ws.cell(
        row,
        14,
        _cell_number(data.stated_total)
        if data.stated_total is not None
        else f"=SUM(N1:N{row - 2})",
    )
    formulas.add(total.coordinate)
    ws.freeze_panes = None
    # Only the totals above are formulas; every text of the scheme stays text.
    keep_text_in_sheet(ws, formulas)
    return ws


def export_workbook(skill: Skill, fmt: str = "both") -> Workbook:
    """A fresh workbook holding the skill's scheme as ``aspects``, ``cis`` or both."""
    workbook = Workbook()
    default = workbook.worksheets[0]
    data = scheme_of(skill)
    if fmt in ("aspects", "both"):
        write_aspects_sheet(workbook, [skill])
    if fmt in ("cis", "both"):
        write_cis(workbook, data)
    workbook.remove(default)
    return workbook
