"""Reading the WorldSkills CIS "Marking Scheme Import" sheet."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from portal import spreadsheets
from scoring.models import (
    JUDGEMENT_SCORES,
)

from .cells import as_number, as_text, check_length, is_formula, norm, shown
from .data import (
    CIS_COLUMNS,
    AspectData,
    CriterionData,
    DescriptorData,
    SchemeData,
    SchemeProblem,
    SubCriterionData,
    WSOSSectionData,
)
from .messages import (
    ASPECT_BEFORE_SUB,
    BAD_SCORE,
    BLOCK_WITHOUT_LETTER,
    CRITERION_NOT_LISTED,
    DUPLICATE_CRITERION,
    HEADING_SKIPPED,
    MAX_MARK_NOT_NUMBER,
    NEGATIVE,
    NO_SCHEME_SHEET,
    NOT_A_NUMBER,
    ROW_IGNORED,
    SCORE_WITHOUT_ASPECT,
)
from .validate import validate_scheme
from .workbook import find_cis_sheet, sheet_rows


def read_cis(workbook: Workbook | spreadsheets.BoundedWorkbook) -> SchemeData:
    """Read the CIS "Marking Scheme Import" sheet, as it is (typos included),
    then validate it. Problems are in ``.problems``; nothing raises."""
    ws = find_cis_sheet(workbook)
    data = SchemeData(source="cis", columns=dict(CIS_COLUMNS))
    if ws is None:
        data.problems.append(SchemeProblem(None, None, None, None, NO_SCHEME_SHEET))
        return data
    data.sheet = ws.title
    _CisReader(ws, data).read()
    data.problems.extend(validate_scheme(data))
    return data


# 0-based indexes of the block columns.
C_SUB, C_SUBNAME, C_DAY, C_TYPE, C_DESC, C_SCORE, C_EXTRA, C_REQ, C_WSOS, C_CALC, C_MAX = range(11)
C_BLOCK, C_BLOCK_TOTAL_LABEL, C_BLOCK_TOTAL = 11, 12, 13


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
        for number, raw in enumerate(sheet_rows(self.ws), start=1):
            cells = list(raw) + [None] * max(0, 14 - len(raw))
            self.row(number, cells)
        self.data.criteria = [
            c
            for c in self.criteria.values()
            # Empty blocks (E … I in most schemes) and zero rows carry nothing.
            if c.sub_criteria or (c.max_mark or 0) != 0
        ]

    def row(self, number: int, cells: list[Any]) -> None:
        first = norm(cells[0])
        if not self.data.title and first and self.mode is None and not self.criteria:
            if first not in ("worldskills occupational standards", "criteria"):
                self.data.title = as_text(cells[0])
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
        if norm(cells[C_BLOCK]) == "competition":
            self.mode = None
            total = cells[C_BLOCK_TOTAL]
            if not is_formula(total) and as_text(total):
                try:
                    self.data.stated_total = as_number(total)
                except ValueError:
                    self.data.problem(number, "scheme_total", NOT_A_NUMBER, value=shown(total))
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
        heads = [norm(c) for c in cells]
        if "aspect marks" in heads:
            self.weight_col = heads.index("aspect marks") - 1
        elif "wsos marks" in heads:
            self.weight_col = len(heads) - 1 - heads[::-1].index("wsos marks")
        self.data.columns["weight"] = get_column_letter(self.weight_col + 1)
        self.mode = "wsos"

    def wsos_row(self, number: int, cells: list[Any]) -> None:
        section = as_text(cells[0])
        if not section:
            self.mode = None
            return
        weight: Decimal | None = None
        try:
            weight = as_number(cells[self.weight_col])
        except ValueError:
            self.data.problem(number, "weight", NOT_A_NUMBER, value=shown(cells[self.weight_col]))
        if weight is not None and weight < 0:
            self.data.problem(number, "weight", NEGATIVE, value=weight)
        title = as_text(cells[1])
        check_length(self.data, number, "section", section)
        check_length(self.data, number, "title", title)
        self.data.wsos_sections.append(WSOSSectionData(section, title, weight, number))

    # -- Criteria table
    def criteria_header(self, number: int, cells: list[Any]) -> None:
        heads = [norm(c) for c in cells]
        if "mark" in heads:
            self.mark_col = heads.index("mark")
            self.data.columns["criterion_mark"] = get_column_letter(self.mark_col + 1)
        if "name" in heads:
            self.name_col = heads.index("name")
        self.mode = "criteria"

    def criteria_row(self, number: int, cells: list[Any]) -> None:
        code = as_text(cells[0])
        if not code:
            self.mode = None
            return
        mark: Decimal | None = None
        raw = cells[self.mark_col]
        try:
            mark = as_number(raw)
        except ValueError:
            self.data.problem(number, "criterion_mark", NOT_A_NUMBER, value=shown(raw))
        if mark is not None and mark < 0:
            self.data.problem(number, "criterion_mark", NEGATIVE, value=mark)
        name = as_text(cells[self.name_col])
        check_length(self.data, number, "criterion", code)
        check_length(self.data, number, "criterion_name", name)
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
        label = as_text(cells[C_BLOCK])
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
        sub_code = as_text(cells[C_SUB])
        kind = as_text(cells[C_TYPE]).upper()
        score = as_text(cells[C_SCORE])
        max_raw = cells[C_MAX]
        has_max = as_text(max_raw) != "" or is_formula(max_raw)
        if sub_code:
            self.sub_criterion(number, sub_code, cells)
            if not (kind or has_max):
                return
        if kind or has_max:
            self.aspect_row(number, kind, cells)
        elif score:
            self.score_row(number, cells)
        else:
            texts = [as_text(c) for c in cells[C_DESC:C_CALC]]
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
        name = as_text(cells[C_SUBNAME])
        day = as_text(cells[C_DAY])
        check_length(self.data, number, "sub_criterion", code)
        check_length(self.data, number, "sub_criterion_name", name)
        check_length(self.data, number, "marking_day", day)
        self.sub = SubCriterionData(code, name, day, row=number)
        criterion.sub_criteria.append(self.sub)

    def aspect_row(self, number: int, kind: str, cells: list[Any]) -> None:
        if self.sub is None:
            self.data.problem(number, "type", ASPECT_BEFORE_SUB)
            self.aspect = None
            return
        max_mark = parse_max_mark(self.data, number, cells[C_MAX])
        code = f"{self.sub.code}.{len(self.sub.aspects) + 1}"
        self.aspect = AspectData(
            code=code,
            kind=kind,
            description=as_text(cells[C_DESC]),
            max_mark=max_mark,
            extra_description=as_text(cells[C_EXTRA]),
            requirement=as_text(cells[C_REQ]),
            wsos_section=as_text(cells[C_WSOS]),
            row=number,
            code_generated=True,
        )
        self.sub.aspects.append(self.aspect)

    def score_row(self, number: int, cells: list[Any]) -> None:
        if self.aspect is None:
            self.data.problem(number, "score", SCORE_WITHOUT_ASPECT)
            return
        score = parse_score(self.data, number, "score", cells[C_SCORE])
        if score is None:
            return
        self.aspect.descriptors.append(
            DescriptorData(score, as_text(cells[C_EXTRA]), number, "descriptor")
        )


def parse_max_mark(data: SchemeData, row: int, raw: Any) -> Decimal | None:
    """Parse only; range and precision are validate_scheme's job."""
    if is_formula(raw):
        data.problem(row, "max_mark", MAX_MARK_NOT_NUMBER, value=str(raw))
        return None
    try:
        return as_number(raw)
    except ValueError:
        data.problem(row, "max_mark", MAX_MARK_NOT_NUMBER, value=shown(raw))
        return None


def parse_score(data: SchemeData, row: int, column: str, raw: Any) -> int | None:
    try:
        number = as_number(raw)
    except ValueError:
        number = None
    if (
        number is None
        or number != number.to_integral_value()
        or int(number) not in JUDGEMENT_SCORES
    ):
        data.problem(row, column, BAD_SCORE, value=shown(raw))
        return None
    return int(number)
