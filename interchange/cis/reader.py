"""Which layout a scheme workbook holds, and reading it (CIS, aspects or both)."""

from __future__ import annotations

from copy import deepcopy

from openpyxl import Workbook

from portal import spreadsheets

from .aspects_sheet import read_aspects
from .cis_sheet import read_cis
from .data import ASPECTS_SHEET, SchemeData, SchemeProblem
from .messages import BOTH_SHEETS_DIFFER, NO_ROWS_FOR_SKILL, NO_SCHEME_SHEET
from .workbook import find_cis_sheet, named_sheet


def read_scheme(
    workbook: Workbook | spreadsheets.BoundedWorkbook, skill_code: str | None = None
) -> SchemeData:
    """Detect the layout and read it: the CIS sheet, our ``aspects`` sheet, or
    both (an export of ours holds both: then they must agree, and the aspects
    sheet wins because it keeps the portal's aspect codes)."""
    cis_ws = find_cis_sheet(workbook)
    aspects_ws = named_sheet(workbook, ASPECTS_SHEET)
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
