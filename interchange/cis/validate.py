"""The rules every marking scheme meets, whatever its source."""

from __future__ import annotations

from decimal import Decimal

from scoring.models import (
    JUDGEMENT_SCORES,
    AspectKind,
)

from .data import MAX_LEN, MAX_MARK_LIMIT, SCHEME_TOTAL, AspectData, SchemeData, SchemeProblem
from .messages import (
    CRITERION_SUM,
    DESCRIPTOR_ON_MEASUREMENT,
    DUPLICATE_ASPECT,
    DUPLICATE_CRITERION,
    DUPLICATE_SCORE,
    DUPLICATE_SECTION,
    DUPLICATE_SUB,
    EMPTY_DESCRIPTOR,
    MAX_MARK_NOT_POSITIVE,
    MAX_MARK_TOO_PRECISE,
    MISSING_DESCRIPTOR,
    NO_ASPECTS,
    NO_DESCRIPTION,
    NO_DESCRIPTORS,
    SUB_WITHOUT_ASPECTS,
    TOO_LONG,
    TOTAL_NOT_100,
    TOTAL_SUM,
    UNKNOWN_SECTION,
    UNKNOWN_TYPE,
    WSOS_SUM,
)


def validate_scheme(data: SchemeData) -> list[SchemeProblem]:
    """The rules every scheme must meet, whatever its source. Returns new
    problems (does not add them to ``data.problems``)."""
    out = SchemeData(sheet=data.sheet, columns=data.columns)  # a problem collector
    _check_sections(out, data)
    if not any(True for _ in data.aspects()):
        out.problem(data.total_row, data.total_column, NO_ASPECTS)
    _check_tree(out, data)
    _check_totals(out, data)
    bare = data.judgement_without_descriptors()
    if bare:
        out.problem(None, None, NO_DESCRIPTORS, warning=True, count=bare)
    return out.problems


def _check_sections(out: SchemeData, data: SchemeData) -> None:
    """Each WSOS section is listed once."""
    seen: dict[str, int | None] = {}
    for section in data.wsos_sections:
        if section.number in seen:
            out.problem(
                section.row,
                "section",
                DUPLICATE_SECTION,
                sheet=data.wsos_sheet or None,
                code=section.number,
                first=seen[section.number],
            )
        seen.setdefault(section.number, section.row)


def _check_tree(out: SchemeData, data: SchemeData) -> None:
    """Codes are unique at each level, every sub-criterion has aspects, each
    aspect is valid, and a criterion's aspects add up to its stated mark."""
    sections = {s.number for s in data.wsos_sections}
    seen_criteria: dict[str, int | None] = {}
    seen_subs: dict[str, int | None] = {}
    seen_aspects: dict[str, int | None] = {}
    for criterion in data.criteria:
        _once(out, seen_criteria, criterion.code, criterion.row, "criterion", DUPLICATE_CRITERION)
        for sub in criterion.sub_criteria:
            _once(out, seen_subs, sub.code, sub.row, "sub_criterion", DUPLICATE_SUB)
            if not sub.aspects:
                out.problem(
                    sub.row, "sub_criterion", SUB_WITHOUT_ASPECTS, warning=True, code=sub.code
                )
            for aspect in sub.aspects:
                _once(out, seen_aspects, aspect.code, aspect.row, "aspect_code", DUPLICATE_ASPECT)
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


def _once(
    out: SchemeData, seen: dict[str, int | None], code: str, row: int | None, column: str, message
) -> None:
    """Report ``code`` when an earlier row used it already."""
    if code in seen:
        out.problem(row, column, message, code=code, first=seen[code])
    seen.setdefault(code, row)


def _check_totals(out: SchemeData, data: SchemeData) -> None:
    """The criteria (their stated marks, else what their aspects carry) make
    up the scheme's total; the stated total and the WSOS weights agree."""
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
            sheet=data.wsos_sheet or None,
            actual=sum(weights, Decimal(0)),
            expected=data.expected_total,
        )


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
