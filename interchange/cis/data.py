"""What a marking scheme is, read from or written to Excel: the plain
structure both layouts share (docs/formats.md), its columns and limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from portal import spreadsheets
from portal.problems import CellProblem
from scoring.models import (
    AspectKind,
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
