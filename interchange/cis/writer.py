"""A marking scheme out to Excel: our ``aspects`` sheet and the CIS sheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from competitions.models import Skill
from portal.exporters import keep_text_in_sheet
from scoring.models import (
    JUDGEMENT_SCORES,
    AspectKind,
)

from .data import (
    ASPECT_EXTRA_KEYS,
    ASPECT_KEYS,
    ASPECTS_SHEET,
    CIS_SHEET,
    TITLES_ZH,
    WSOS_KEYS,
    WSOS_SHEET,
    SchemeData,
    SubCriterionData,
)
from .store import scheme_of
from .variation import wsos_variation

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
        for values in _aspect_rows(code, data):
            ws.append(values)
    keep_text_in_sheet(ws)  # user text never becomes a formula
    for index, key in enumerate(keys, start=1):
        wide = key in ("description", "extra_description", "requirement") or key.startswith(
            "descriptor_"
        )
        ws.column_dimensions[get_column_letter(index)].width = 50 if wide else max(len(key) + 2, 10)
    ws.freeze_panes = f"A{3 if chinese_titles else 2}"
    if any(data.wsos_sections for _c, data in schemes):
        _write_wsos_sheet(workbook, schemes, chinese_titles)
    return ws


def _aspect_rows(code: str, data: SchemeData) -> Iterator[list[Any]]:
    """One row per aspect, in the columns of ``ASPECT_KEYS + ASPECT_EXTRA_KEYS``."""
    for criterion in data.criteria:
        for sub in criterion.sub_criteria:
            for a in sub.aspects:
                texts = {d.score: d.text for d in a.descriptors}
                yield [
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


def _write_wsos_sheet(
    workbook: Workbook, schemes: list[tuple[str, SchemeData]], chinese_titles: bool
) -> None:
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
    row = _cis_wsos_table(ws, data, 3, formulas)
    row = _cis_criteria_table(ws, data, row + 3)
    row = _cis_blocks(ws, data, row + 2, formulas)
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


def _cis_wsos_table(ws: Worksheet, data: SchemeData, row: int, formulas: set[str]) -> int:
    """The WSOS table from ``row`` on; returns its last row."""
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
    return row


def _cis_criteria_table(ws: Worksheet, data: SchemeData, row: int) -> int:
    """The Criteria table from ``row`` on; returns its last row."""
    ws.cell(row, 1, "Criteria").font = _BOLD
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=11)
    row += 1
    for col, head in ((1, "ID"), (2, "Name"), (11, "Mark")):
        cell = ws.cell(row, col, head)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
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
    return row


def _cis_blocks(ws: Worksheet, data: SchemeData, row: int, formulas: set[str]) -> int:
    """One block per criterion letter (A … I, empty ones too) after ``row``;
    returns the last row."""
    by_code = {c.code: c for c in data.criteria}
    letters = [c.code for c in data.criteria]
    letters += [x for x in CIS_LETTERS if x not in by_code and all(len(c) == 1 for c in letters)]
    letters.sort(key=lambda c: (CIS_LETTERS.find(c) if c in CIS_LETTERS else 99, c))
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
            row = _cis_sub_criterion(ws, sub, row)
        if criterion is None:
            row += 2
        formulas.add(ws.cell(head_row, 14, f"=SUM(K{head_row + 1}:K{row})").coordinate)
    return row


def _cis_sub_criterion(ws: Worksheet, sub: SubCriterionData, row: int) -> int:
    """A sub-criterion row and its aspects after ``row``; returns the last row."""
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
    return row + 1  # and one after each sub-criterion


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
