"""Our ``aspects`` sheet, validation, idempotent re-import and refusals."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from interchange.cis.aspects_sheet import read_aspects
from interchange.cis.data import (
    ASPECT_EXTRA_KEYS,
    ASPECT_KEYS,
    TITLES_ZH,
    AspectData,
    CriterionData,
    DescriptorData,
    SchemeData,
    SchemeImportError,
    SubCriterionData,
    WSOSSectionData,
)
from interchange.cis.reader import read_scheme
from interchange.cis.store import apply_scheme, scheme_of
from interchange.cis.workbook import load_scheme_workbook
from interchange.cis.writer import write_aspects_sheet, write_cis
from portal.spreadsheets import BoundedWorkbook
from scoring.models import (
    Aspect,
    Criterion,
    JudgementDescriptor,
    Mark,
    SkillMarking,
    SubCriterion,
    WSOSSection,
)
from tests import factories

SCHEME_MODELS = (WSOSSection, Criterion, SubCriterion, Aspect, JudgementDescriptor)
DESCRIPTORS = ["不符合要求", "部分符合", "基本符合", "完全符合"]


def scheme_rows() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in SCHEME_MODELS}


def small_scheme() -> SchemeData:
    """Two criteria (60 + 40), an M and a J aspect, fractional marks, WSOS weights."""
    judged = AspectData(
        "A1.2",
        "J",
        "砌体整体美观",
        Decimal("10.5"),
        wsos_section="2",
        descriptors=[DescriptorData(i, t) for i, t in enumerate(DESCRIPTORS)],
    )
    return SchemeData(
        criteria=[
            CriterionData(
                "A",
                "砌筑",
                Decimal(60),
                [
                    SubCriterionData(
                        "A1",
                        "尺寸",
                        "1",
                        [
                            AspectData(
                                "A1.1",
                                "M",
                                "墙体高度 ±2 mm",
                                Decimal("49.5"),
                                extra_description="每超差 1 mm 扣 0.25 分",
                                requirement="1200 mm",
                                wsos_section="1",
                            ),
                            judged,
                        ],
                    )
                ],
            ),
            CriterionData(
                "B",
                "理论",
                Decimal(40),
                [
                    SubCriterionData(
                        "B1", "笔试", "2", [AspectData("B1.1", "M", "理论考试", Decimal(40))]
                    )
                ],
            ),
        ],
        wsos_sections=[
            WSOSSectionData("1", "工作组织", Decimal(70)),
            WSOSSectionData("2", "外观", Decimal(30)),
        ],
    )


def sheet(rows: list[list], *, keys=None, title_row: bool = False) -> BoundedWorkbook:
    """A workbook with one ``aspects`` sheet: (title row), key row, rows."""
    keys = keys or [*ASPECT_KEYS, *ASPECT_EXTRA_KEYS]
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "aspects"
    if title_row:
        ws.append([TITLES_ZH[k] for k in keys])
    ws.append(keys)
    for row in rows:
        ws.append(row)
    return reload(wb)


def reload(wb: Workbook) -> BoundedWorkbook:
    """Saved and opened as an upload is (bounded, streaming)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return load_scheme_workbook(buffer)


def reopen(wb: Workbook) -> Workbook:
    """Saved and opened by openpyxl in full, to look at and edit cells."""
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return load_workbook(buffer)


def row(skill="S1", crit="A", sub="A1", code="", kind="M", mark=50, desc="描述", **extra):
    values = dict(zip(ASPECT_KEYS, [skill, crit, sub, code, kind, mark, desc], strict=True))
    values.update(extra)
    return [values.get(k) for k in [*ASPECT_KEYS, *ASPECT_EXTRA_KEYS]]


def problems(data: SchemeData) -> list[tuple[int | None, str | None, str | None, str]]:
    return [(p.row, p.column, p.column_letter, p.message_en) for p in data.errors]


# --------------------------------------------------------------------------- round trips


def test_aspects_sheet_round_trip():
    original = small_scheme()
    wb = Workbook()
    write_aspects_sheet(wb, [("S1", original)])
    data = read_aspects(reload(wb), "S1")
    assert data.errors == []
    assert data == original
    assert data.total == Decimal(100)


def test_chinese_title_row_is_accepted_and_rows_keep_excel_numbers():
    wb = Workbook()
    write_aspects_sheet(wb, [("S1", small_scheme())], chinese_titles=True)
    book = reopen(wb)
    assert book["aspects"]["A1"].value == "赛项代码"
    assert book["aspects"]["A2"].value == "skill_code"
    data = read_aspects(book, "S1")
    assert data == small_scheme()
    assert [a.row for a in data.aspects()] == [3, 4, 5]

    broken = sheet([row(mark="abc"), row(code="X", mark=50)], title_row=True)
    assert (3, "max_mark", "F", "The max mark “abc” is not a number.") in problems(
        read_aspects(broken, "S1")
    )


def test_cis_round_trip_without_the_database():
    original = small_scheme()
    original.title = "S1 砌筑"
    wb = Workbook()
    write_cis(wb, original)
    again = read_scheme(reload(wb))
    assert again.source == "cis"
    assert again.errors == []
    assert again == original


def test_minimal_design_columns_only():
    """docs/formats.md columns alone: no criterion marks, codes given, totals from aspects."""
    data = read_aspects(
        sheet(
            [
                ["S1", "A", "A1", "A-01", "M", 60, "高度"],
                ["S1", "B", "B1", "B-01", "M", 40, "理论"],
                ["S2", "A", "A1", "A-01", "M", 100, "别的赛项"],
            ],
            keys=ASPECT_KEYS,
        ),
        "S1",
    )
    assert data.errors == []
    assert [a.code for a in data.aspects()] == ["A-01", "B-01"]
    assert data.criteria[0].max_mark is None
    assert any("1 rows of other skills (S2)" in p.message_en for p in data.warnings)


# --------------------------------------------------------------------------- validation


def test_every_problem_is_reported_with_row_column_and_both_languages():
    data = read_aspects(
        sheet(
            [
                row(kind="X", mark=10, criterion_mark=60),  # 2 unknown type
                row(mark="abc"),  # 3
                row(mark=0),  # 4
                row(mark=-1),  # 5
                row(kind="J", mark=10, descriptor_0="a", descriptor_1="b", descriptor_3="d"),  # 6
                row(code="A1.1", mark=0.125),  # 7 duplicate code, 3 decimals
                row(mark=5, descriptor_0="?"),  # 8 M with descriptor
                row(crit="B", sub="A1", mark=1),  # 9 A1 already under A
                row(skill=None),  # 10
                row(crit="C", sub="C1", mark=20, criterion_mark=30),  # 11 C ≠ 30
            ]
        ),
        "S1",
    )
    found = problems(data)
    expected = [
        (2, "type", "E", "Unknown aspect type “X”: use M (measurement) or J (judgement)."),
        (3, "max_mark", "F", "The max mark “abc” is not a number."),
        (4, "max_mark", "F", "The max mark must be more than 0 (got 0)."),
        (5, "max_mark", "F", "The max mark must be more than 0 (got -1)."),
        (6, "descriptor_2", "Q", "The judgement aspect has no descriptor for score 2."),
        (7, "aspect_code", "D", "Aspect code A1.1 is used twice (first in row 2)."),
        (
            8,
            "descriptor_0",
            "O",
            "A measurement aspect has no judgement descriptors: remove this or make the aspect J.",
        ),
        (9, "sub_criterion", "C", "Sub-criterion A1 is listed twice (first in row 2)."),
        (10, "skill_code", "A", "This cell must not be empty."),
        (
            11,
            "criterion_mark",
            "I",
            "The aspects of criterion C add up to 20, but the criterion is worth 30.",
        ),
    ]
    for item in expected:
        assert item in found, (item, found)
    assert any(r == 7 and "2 decimal places" in m for r, _k, _l, m in found)
    assert any(r == 2 and "criterion A add up to" in m for r, _k, _l, m in found)
    # Both languages are exposed, and the Chinese one is a translation.
    unknown = next(p for p in data.errors if p.column == "type")
    assert unknown.message_en.startswith("Unknown aspect type")
    assert unknown.message_zh != unknown.message_en
    assert "X" in unknown.message_zh
    with translation.override("en"):
        assert str(unknown) == f"aspects E2 type: {unknown.message_en}"


def test_total_must_be_100_unless_stated():
    data = read_aspects(sheet([row(mark=50), row(crit="B", sub="B1", mark=40)]), "S1")
    assert any(m == "The criteria add up to 90, not 100." for *_x, m in problems(data))

    stated = read_aspects(
        sheet([row(mark=50, scheme_total=90), row(crit="B", sub="B1", mark=40, scheme_total=90)]),
        "S1",
    )
    assert stated.errors == []
    assert [p.message_en for p in stated.warnings] == ["The scheme states a total of 90, not 100."]


def test_inconsistent_repeated_columns():
    data = read_aspects(sheet([row(criterion_name="砌筑"), row(criterion_name="抹灰")]), "S1")
    assert (
        2 + 1,
        "criterion_name",
        "H",
        "This differs from row 2 (“砌筑”); every row of A must say the same.",
    ) in problems(data)


def test_no_scheme_sheet_and_no_rows_for_skill():
    wb = Workbook()
    wb.worksheets[0].title = "other"
    assert "No marking scheme found" in read_scheme(reload(wb)).errors[0].message_en
    data = read_scheme(sheet([row(skill="S2", mark=100)]), "S1")
    assert data.errors[0].message_en == "The aspects sheet has no row for skill S1."


def test_both_sheets_must_agree():
    wb = Workbook()
    write_aspects_sheet(wb, [("S1", small_scheme())])
    write_cis(wb, small_scheme())
    book = reopen(wb)
    assert read_scheme(reload(book), "S1").errors == []
    book["aspects"]["G2"] = "edited in Excel"
    data = read_scheme(reload(book), "S1")
    assert "they differ" in data.errors[0].message_en


# --------------------------------------------------------------------------- database


@pytest.mark.django_db
def test_apply_then_reapply_is_idempotent():
    skill = factories.skill()
    first = apply_scheme(skill, small_scheme())
    assert first.counts["aspects"].created == 3
    assert first.counts["descriptors"].created == 4
    pks = set(Aspect.objects.filter(skill=skill).values_list("pk", flat=True))
    rows = scheme_rows()

    again = apply_scheme(skill, small_scheme())
    assert not again.changed
    assert again.counts["aspects"].unchanged == 3
    assert scheme_rows() == rows
    assert set(Aspect.objects.filter(skill=skill).values_list("pk", flat=True)) == pks
    assert scheme_of(skill) == small_scheme()


@pytest.mark.django_db
def test_reimport_updates_in_place_and_removes_what_is_gone():
    skill = factories.skill()
    apply_scheme(skill, small_scheme())
    kept = Aspect.objects.get(skill=skill, code="A1.1")

    changed = small_scheme()
    sub = changed.criteria[0].sub_criteria[0]
    sub.aspects[0].max_mark = Decimal(60)  # A1.1 takes over A1.2's marks
    sub.aspects[0].description = "墙体高度 ±3 mm"
    del sub.aspects[1]
    report = apply_scheme(skill, changed)
    assert report.counts["aspects"].updated == 2  # A1.1 changed; B1.1 moved up one place
    assert report.counts["aspects"].deleted == 1
    assert Aspect.objects.get(skill=skill, code="A1.1").pk == kept.pk
    assert not JudgementDescriptor.objects.filter(aspect__skill=skill).exists()
    assert scheme_of(skill) == changed


@pytest.mark.django_db
def test_errors_write_nothing():
    skill = factories.skill()
    data = read_aspects(sheet([row(mark="abc")]), "S1")
    before = scheme_rows()
    with pytest.raises(SchemeImportError) as exc:
        apply_scheme(skill, data)
    assert exc.value.problems[0].row == 2
    assert scheme_rows() == before


@pytest.mark.django_db
def test_refused_when_marks_exist():
    skill = factories.skill()
    apply_scheme(skill, small_scheme())
    aspect = Aspect.objects.get(skill=skill, code="B1.1")
    Mark.objects.create(
        skill=skill,
        entry=factories.entry(skill),
        aspect=aspect,
        judge=factories.judge(skill),
        kind="M",
        value=Decimal(30),
    )
    rows = scheme_rows()
    changed = small_scheme()
    changed.criteria[1].sub_criteria[0].aspects[0].description = "改"
    with pytest.raises(SchemeImportError) as exc:
        apply_scheme(skill, changed)
    assert "already has marks" in exc.value.problems[0].message_en
    assert exc.value.problems[0].message_zh != exc.value.problems[0].message_en
    assert scheme_rows() == rows
    assert Aspect.objects.get(pk=aspect.pk).description == "理论考试"


@pytest.mark.django_db
def test_refused_when_signed_off():
    skill = factories.skill()
    SkillMarking.objects.create(skill=skill, status=SkillMarking.Status.SIGNED_OFF)
    with pytest.raises(SchemeImportError) as exc:
        apply_scheme(skill, small_scheme())
    assert "signed off" in exc.value.problems[0].message_en
    assert scheme_rows()["Aspect"] == 0


@pytest.mark.django_db
def test_write_aspects_sheet_for_several_skills():
    one, two = factories.skill(), factories.skill()
    apply_scheme(one, small_scheme())
    apply_scheme(two, small_scheme())
    wb = Workbook()
    write_aspects_sheet(wb, [one, two])
    book = reopen(wb)
    assert [c.value for c in book["aspects"][1]][:7] == ASPECT_KEYS
    assert book["aspects"].max_row == 1 + 6
    assert read_aspects(book, two.code) == scheme_of(two)
