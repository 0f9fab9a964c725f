"""Reading our ``aspects`` sheet (and ``wsos_sections``) of docs/formats.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from portal import spreadsheets
from scoring.models import (
    JUDGEMENT_SCORES,
)

from .cells import as_number, as_text, check_length, is_formula, shown
from .cis_sheet import parse_max_mark
from .data import (
    ASPECT_KEYS,
    ASPECTS_SHEET,
    HEADER_SEARCH_ROWS,
    MAX_LEN,
    WSOS_KEYS,
    WSOS_SHEET,
    AspectData,
    CriterionData,
    DescriptorData,
    SchemeData,
    SchemeProblem,
    SubCriterionData,
    WSOSSectionData,
)
from .messages import (
    DUPLICATE_SUB,
    EMPTY_CELL,
    INCONSISTENT,
    NEGATIVE,
    NO_HEADER,
    NO_ROWS_FOR_SKILL,
    NO_SCHEME_SHEET,
    NOT_A_NUMBER,
    OTHER_SKILLS_IGNORED,
    TOO_LONG,
)
from .validate import validate_scheme
from .workbook import named_sheet, sheet_rows


def find_key_row(
    rows: list[tuple[Any, ...]], required: list[str]
) -> tuple[int, dict[str, int]] | None:
    """Find the key row (row index, key → column index) within the first rows."""
    return spreadsheets.find_header(enumerate(rows), required, HEADER_SEARCH_ROWS - 1)


def read_aspects(
    workbook: Workbook | spreadsheets.BoundedWorkbook, skill_code: str | None = None
) -> SchemeData:
    """Read our ``aspects`` sheet (and ``wsos_sections`` if present) for one
    skill. Without ``skill_code`` the sheet must hold exactly one skill."""
    ws = named_sheet(workbook, ASPECTS_SHEET)
    if ws is None:
        empty = SchemeData(source="aspects")
        empty.problems.append(SchemeProblem(None, None, None, None, NO_SCHEME_SHEET))
        return empty
    rows = sheet_rows(ws)
    header = find_key_row(rows, ASPECT_KEYS)
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
        if all(as_text(v) == "" for v in values.values()):
            continue
        code = as_text(values.get("skill_code"))
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
        crit = as_text(values.get("criterion")) or "?"
        sub = as_text(values.get("sub_criterion")) or "?"
        criterion = self.criteria.setdefault(crit, CriterionData(crit, crit, row=number))
        if sub not in self.subs:
            self.subs[sub] = (criterion, SubCriterionData(sub, sub, row=number))
            criterion.sub_criteria.append(self.subs[sub][1])
        self.subs[sub][1].aspects.append(
            AspectData(as_text(values.get("aspect_code")), "", "", None, row=number)
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

    def _repeated(self, number: int, item: str, key: str, values: Mapping[str, Any]) -> str:
        return self._same(number, item, key, as_text(values.get(key)))

    def add(self, number: int, values: Mapping[str, Any]) -> None:
        """One aspect row: its criterion and sub-criterion (created at their
        first row, checked against it later), then the aspect itself."""
        data = self.data
        crit_code = as_text(values.get("criterion"))
        sub_code = as_text(values.get("sub_criterion"))
        ok = True
        for key, value in (("criterion", crit_code), ("sub_criterion", sub_code)):
            if not value:
                data.problem(number, key, EMPTY_CELL)
                ok = False
            check_length(data, number, key, value)
        if not ok:
            return
        criterion = self._criterion(number, crit_code, values)
        self._stated_total(number, values)
        sub = self._sub_criterion(number, sub_code, criterion, values)
        if sub is not None:
            sub.aspects.append(self._aspect(number, sub_code, sub, values))

    def _criterion(self, number: int, code: str, values: Mapping[str, Any]) -> CriterionData:
        data = self.data
        criterion = self.criteria.get(code)
        if criterion is None:
            criterion = self.criteria[code] = CriterionData(code, "", row=number)
            data.criteria.append(criterion)
        criterion.name = self._repeated(number, code, "criterion_name", values) or code
        check_length(data, number, "criterion_name", criterion.name)
        mark_text = self._same(number, code, "criterion_mark", _mark_text(values, "criterion_mark"))
        if mark_text and criterion.max_mark is None:
            try:
                criterion.max_mark = as_number(mark_text)
            except ValueError:
                data.problem(number, "criterion_mark", NOT_A_NUMBER, value=mark_text)
            if criterion.max_mark is not None and criterion.max_mark < 0:
                data.problem(number, "criterion_mark", NEGATIVE, value=criterion.max_mark)
        return criterion

    def _stated_total(self, number: int, values: Mapping[str, Any]) -> None:
        data = self.data
        total_text = self._same(number, "*", "scheme_total", _mark_text(values, "scheme_total"))
        if total_text and data.stated_total is None:
            try:
                data.stated_total = as_number(total_text)
                data.total_row, data.total_column = number, "scheme_total"
            except ValueError:
                data.problem(number, "scheme_total", NOT_A_NUMBER, value=total_text)

    def _sub_criterion(
        self, number: int, code: str, criterion: CriterionData, values: Mapping[str, Any]
    ) -> SubCriterionData | None:
        """The row's sub-criterion, or None when another criterion has it."""
        data = self.data
        found = self.subs.get(code)
        if found is None:
            sub = SubCriterionData(code, "", row=number)
            self.subs[code] = (criterion, sub)
            criterion.sub_criteria.append(sub)
        else:
            owner, sub = found
            if owner is not criterion:
                data.problem(number, "sub_criterion", DUPLICATE_SUB, code=code, first=sub.row)
                return None
        name = self._same(
            number, code, "sub_criterion_name", as_text(values.get("sub_criterion_name"))
        )
        sub.name = name or code
        sub.marking_day = self._same(
            number, code, "marking_day", as_text(values.get("marking_day"))
        )
        check_length(data, number, "sub_criterion_name", sub.name)
        check_length(data, number, "marking_day", sub.marking_day)
        return sub

    def _aspect(
        self, number: int, sub_code: str, sub: SubCriterionData, values: Mapping[str, Any]
    ) -> AspectData:
        code = as_text(values.get("aspect_code"))
        generated = not code
        if generated:
            code = f"{sub_code}.{len(sub.aspects) + 1}"
        aspect = AspectData(
            code=code,
            kind=as_text(values.get("type")).upper(),
            description=as_text(values.get("description")),
            max_mark=parse_max_mark(self.data, number, values.get("max_mark")),
            extra_description=as_text(values.get("extra_description")),
            requirement=as_text(values.get("requirement")),
            wsos_section=as_text(values.get("wsos_section")),
            row=number,
            code_generated=generated,
        )
        for score in JUDGEMENT_SCORES:
            key = f"descriptor_{score}"
            text = as_text(values.get(key))
            # An empty cell is a missing descriptor; an M aspect's are reported by validation.
            if text:
                aspect.descriptors.append(DescriptorData(score, text, number, key))
        return aspect


def _mark_text(values: Mapping[str, Any], key: str) -> str:
    raw = values.get(key)
    if is_formula(raw):
        return ""  # a computed mark is not a stated one
    if isinstance(raw, float):
        return repr(raw) if not raw.is_integer() else str(int(raw))
    return as_text(raw)


def _read_wsos_sheet(
    workbook: Workbook | spreadsheets.BoundedWorkbook, data: SchemeData, skill_code: str
) -> None:
    ws = named_sheet(workbook, WSOS_SHEET)
    if ws is None:
        return
    rows = sheet_rows(ws)
    header = find_key_row(rows, WSOS_KEYS)
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
        if as_text(values["skill_code"]) != skill_code:
            continue
        section = as_text(values["section"])
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
            weight = as_number(values["weight"])
        except ValueError:
            problem("weight", NOT_A_NUMBER, value=shown(values["weight"]))
        if weight is not None and weight < 0:
            problem("weight", NEGATIVE, value=weight)
        title = as_text(values["title"])
        for key, value in (("section", section), ("title", title)):
            if len(value) > MAX_LEN[key]:
                problem(key, TOO_LONG, max=MAX_LEN[key], length=len(value))
        data.wsos_sections.append(WSOSSectionData(section, title, weight, number))
