"""Event workbook: the ``aspects`` and ``marks`` sheets.

Happy path, re-import, export → re-import, updates through the ledger.
``scoring_sample()`` and ``model_counts()`` are shared with the error tests.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from competitions.models import Event, Programme, Skill
from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.writer import build_workbook, template_workbook
from scoring.ledger import verify_ledger
from scoring.models import (
    Aspect,
    Criterion,
    JudgementDescriptor,
    LedgerRecord,
    Mark,
    SkillMarking,
    SubCriterion,
    WSOSSection,
)
from teams.models import Athlete, Delegation, Entry, EntryMember, Judge, JudgeAssignment
from tests.interchange.test_workbook_import import KEYS as ROSTER_KEYS
from tests.interchange.test_workbook_import import write_book as write_roster_book

ASPECT_KEYS = [
    "skill_code",
    "criterion",
    "sub_criterion",
    "aspect_code",
    "type",
    "max_mark",
    "description",
    "criterion_name",
    "descriptor_0",
    "descriptor_1",
    "descriptor_2",
    "descriptor_3",
]
MARK_KEYS = ["skill_code", "competitor_no", "aspect_code", "judge_code", "score"]
KEYS = {**ROSTER_KEYS, "aspects": ASPECT_KEYS, "marks": MARK_KEYS}
DESCRIPTORS = ["未完成", "基本完成", "良好", "优秀"]

# S01: M1 30 + M2 20.5 (criterion A), J1 30 + J2 19.5 (criterion B) = 100.
ASPECTS = [
    ["S01", "A", "A1", "M1", "M", 30, "尺寸偏差", "测量"],
    ["S01", "A", "A1", "M2", "M", 20.5, "水平度", "测量"],
    ["S01", "B", "B1", "J1", "J", 30, "整体效果", "评价", *DESCRIPTORS],
    ["S01", "B", "B1", "J2", "J", 19.5, "工艺美观", "评价", *DESCRIPTORS],
]
ENTRIES = {"001": "D01", "002": "D02", "003": "D03"}
MARKERS = ["J01", "J02", "J03"]  # all of delegation D09: nobody is recused


def marks_rows() -> list[list[Any]]:
    """A full set: per entry M1, M2 (by J01), and J1, J2 by each marker."""
    m_values = {"001": (25, 18.25), "002": ("30", 20.5), "003": (0, 7)}
    j_scores = {"001": (3, 2, 3), "002": (2, 2, 1), "003": (0, 1, 1)}
    rows: list[list[Any]] = []
    for number in ENTRIES:
        m1, m2 = m_values[number]
        rows.append(["S01", number, "M1", "J01", m1])
        rows.append(["S01", number, "M2", "J01", m2])
        for aspect in ("J1", "J2"):
            for judge, score in zip(MARKERS, j_scores[number], strict=True):
                rows.append(["S01", number, aspect, judge, score])
    return rows


def scoring_sample() -> dict[str, list[list[Any]]]:
    """One individual skill: three entries, a chief and three judges, a
    100-mark scheme of two M and two J aspects, and every mark."""
    return {
        "delegations": [
            ["D01", "南京市"],
            ["D02", "苏州市"],
            ["D03", "无锡市"],
            ["D09", "裁判委员会"],
        ],
        "skills": [["S01", "砌筑", 1, "ratio", "mean"]],
        "entries": [
            ["S01", number, delegation, f"选手{number}", "男", "2000-01-02", None]
            for number, delegation in ENTRIES.items()
        ],
        "judges": [
            ["C01", "陈裁判长", "D09", "S01", "chief"],
            *[[code, f"裁判{code}", "D09", "S01", "judge"] for code in MARKERS],
            ["J04", "南京裁判", "D01", "S01", "judge"],  # may mark all but D01's entry
        ],
        "aspects": [list(r) for r in ASPECTS],
        "marks": marks_rows(),
    }


def write_book(path: Path, sheets: dict[str, list[list[Any]]], **kw: Any) -> Path:
    return write_roster_book(path, sheets, keys={**KEYS, **kw.pop("keys", {})}, **kw)


def model_counts() -> dict[str, int]:
    """Rows of every model an event workbook import may write."""
    return {
        m.__name__: m.objects.count()
        for m in (
            Programme,
            Event,
            Skill,
            Delegation,
            Athlete,
            Entry,
            EntryMember,
            Judge,
            JudgeAssignment,
            Criterion,
            SubCriterion,
            Aspect,
            JudgementDescriptor,
            Mark,
            LedgerRecord,
            SkillMarking,
        )
    }


def errors_of(report) -> list[tuple]:
    return [(e.sheet, e.row, e.column) for e in report.errors]


def stored_marks() -> dict[tuple, Decimal]:
    return {
        (number, aspect, judge if kind == "J" else None): value
        for number, aspect, judge, kind, value in Mark.objects.values_list(
            "entry__competitor_no", "aspect__code", "judge__code", "kind", "value"
        )
    }


# --------------------------------------------------------------------------- tests


@pytest.mark.django_db
def test_happy_path_writes_scheme_marks_and_ledger(tmp_path):
    report = import_workbook(write_book(tmp_path / "ev.xlsx", scoring_sample()), "ev")

    assert report.errors == [] and report.warnings == []
    assert report.committed
    counts = report.counts()
    assert counts["aspects"] == {"created": 4, "updated": 0, "unchanged": 0}
    # 3 entries × (2 M marks + 2 J aspects × 3 judges)
    assert counts["marks"] == {"created": 24, "updated": 0, "unchanged": 0}
    assert Mark.objects.count() == 24
    assert Mark.objects.filter(kind="J").count() == 18
    assert LedgerRecord.objects.count() == 24
    assert set(LedgerRecord.objects.values_list("source", "reason", "old_value").distinct()) == {
        ("import", "event workbook import", None)
    }
    assert verify_ledger().ok
    marking = SkillMarking.objects.get(skill__code="S01")
    assert marking.ledger_length == 24
    assert marking.results_computed_at is None

    marks = stored_marks()
    assert marks[("001", "M2", None)] == Decimal("18.25")
    assert marks[("002", "M1", None)] == Decimal("30.00")
    assert marks[("001", "J1", "J02")] == Decimal("2.00")
    aspect = Aspect.objects.get(code="J1")
    assert (aspect.kind, aspect.max_mark, aspect.sub_criterion.criterion.name) == (
        "J",
        Decimal("30.00"),
        "评价",
    )
    assert [d.text for d in aspect.descriptors.order_by("score")] == DESCRIPTORS
    assert Aspect.objects.get(code="M2").max_mark == Decimal("20.50")


@pytest.mark.django_db
def test_reimport_changes_nothing(tmp_path):
    path = write_book(tmp_path / "ev.xlsx", scoring_sample())
    assert import_workbook(path, "ev").committed
    before = model_counts()
    head = SkillMarking.objects.get().ledger_head

    report = import_workbook(path, "ev")

    assert report.errors == []
    assert report.counts()["aspects"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert report.counts()["marks"] == {"created": 0, "updated": 0, "unchanged": 24}
    assert model_counts() == before
    assert SkillMarking.objects.get().ledger_head == head


@pytest.mark.django_db
def test_a_changed_mark_is_updated_through_the_ledger(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", scoring_sample()), "ev").committed
    sheets = scoring_sample()
    sheets["marks"][1][4] = 19  # 001 M2: 18.25 → 19
    sheets["marks"][2][4] = 2  # 001 J1 by J01: 3 → 2

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert report.errors == []
    assert report.counts()["marks"] == {"created": 0, "updated": 2, "unchanged": 22}
    assert LedgerRecord.objects.count() == 26
    last = list(LedgerRecord.objects.order_by("-seq")[:2])
    assert {(r.old_value, r.new_value) for r in last} == {
        (Decimal("18.25"), Decimal("19.00")),
        (Decimal("3.00"), Decimal("2.00")),
    }
    mark = Mark.objects.get(entry__competitor_no="001", aspect__code="M2")
    assert (mark.value, mark.version) == (Decimal("19.00"), 2)
    assert verify_ledger().ok


@pytest.mark.django_db
def test_m_mark_is_attributed_to_its_new_writer(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", scoring_sample()), "ev").committed
    sheets = scoring_sample()
    sheets["marks"][0][3:] = ["C01", 26]  # the chief judge corrects 001 M1: 25 → 26
    sheets["marks"][8][3] = "J02"  # 002 M1 by another judge, same value: nothing to write

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert report.errors == []
    assert report.counts()["marks"] == {"created": 0, "updated": 1, "unchanged": 23}
    assert Mark.objects.get(entry__competitor_no="001", aspect__code="M1").judge.code == "C01"
    assert Mark.objects.get(entry__competitor_no="002", aspect__code="M1").judge.code == "J01"


@pytest.mark.django_db
def test_marks_may_refer_to_a_scheme_and_rosters_already_in_the_portal(tmp_path):
    sheets = scoring_sample()
    marks = sheets.pop("marks")
    assert import_workbook(write_book(tmp_path / "a.xlsx", sheets), "ev").committed
    assert Mark.objects.count() == 0

    report = import_workbook(write_book(tmp_path / "b.xlsx", {"marks": marks}), "ev")

    assert report.errors == []
    assert report.counts() == {"marks": {"created": 24, "updated": 0, "unchanged": 0}}
    assert verify_ledger().ok


@pytest.mark.django_db
def test_export_then_reimport_changes_nothing(tmp_path):
    assert import_workbook(write_book(tmp_path / "in.xlsx", scoring_sample()), "ev").committed
    out = tmp_path / "out.xlsx"
    build_workbook(Event.objects.get(code="ev")).save(out)

    book = load_workbook(out)
    assert book.sheetnames == [
        "delegations",
        "skills",
        "entries",
        "judges",
        "aspects",
        "marks",
        "rewards",
    ]
    aspects = [list(r) for r in book["aspects"].iter_rows(values_only=True)]
    assert aspects[0][:7] == ASPECT_KEYS[:7]
    assert aspects[2][:7] == ["S01", "A", "A1", "M2", "M", 20.5, "水平度"]
    assert aspects[3][aspects[0].index("descriptor_3")] == "优秀"
    marks = [list(r) for r in book["marks"].iter_rows(values_only=True)]
    assert marks[0] == MARK_KEYS
    assert len(marks) == 25
    assert ["S01", "001", "M2", "J01", 18.25] in marks
    assert ["S01", "003", "J2", "J03", 1] in marks  # J scores as whole numbers

    before = model_counts()
    report = import_workbook(out, "ev")

    assert report.errors == [] and report.warnings == []
    assert report.counts()["aspects"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert report.counts()["marks"] == {"created": 0, "updated": 0, "unchanged": 24}
    assert model_counts() == before


@pytest.mark.django_db
def test_export_reimports_into_a_new_event_with_the_same_marks(tmp_path):
    assert import_workbook(write_book(tmp_path / "in.xlsx", scoring_sample()), "ev").committed
    out = tmp_path / "out.xlsx"
    build_workbook(Event.objects.get(code="ev")).save(out)
    first = stored_marks()

    report = import_workbook(out, "copy")

    assert report.errors == []
    assert report.counts()["marks"]["created"] == 24
    copied = {
        (number, aspect, judge if kind == "J" else None): value
        for number, aspect, judge, kind, value in Mark.objects.filter(
            skill__event__code="copy"
        ).values_list("entry__competitor_no", "aspect__code", "judge__code", "kind", "value")
    }
    assert copied == first
    assert verify_ledger().ok


@pytest.mark.django_db
def test_a_signed_off_skill_reimports_unchanged(tmp_path):
    path = write_book(tmp_path / "ev.xlsx", scoring_sample())
    assert import_workbook(path, "ev").committed
    SkillMarking.objects.filter(skill__code="S01").update(status=SkillMarking.Status.SIGNED_OFF)
    before = model_counts()

    report = import_workbook(path, "ev")

    assert report.errors == []
    assert report.counts()["marks"] == {"created": 0, "updated": 0, "unchanged": 24}
    assert report.counts()["aspects"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert model_counts() == before


@pytest.mark.django_db
def test_a_scheme_without_marks_is_replaced_and_keeps_its_wsos_sections(tmp_path):
    sheets = scoring_sample()
    del sheets["marks"]
    assert import_workbook(write_book(tmp_path / "a.xlsx", sheets), "ev").committed
    skill = Skill.objects.get(code="S01")
    WSOSSection.objects.create(skill=skill, number="1", title="工作组织", weight=100)
    # M2 goes; its 20.5 marks move to a new M3 under another sub-criterion.
    sheets["aspects"][1] = ["S01", "A", "A2", "M3", "M", 20.5, "垂直度", "测量"]
    sheets["aspects"][0][6] = "尺寸偏差（mm）"

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert report.errors == []
    assert report.counts()["aspects"] == {"created": 1, "updated": 1, "unchanged": 2}
    assert sorted(Aspect.objects.values_list("code", flat=True)) == ["J1", "J2", "M1", "M3"]
    assert Aspect.objects.get(code="M1").description == "尺寸偏差（mm）"
    assert [(w.sheet, w.row, w.column) for w in report.warnings] == [("aspects", 2, "skill_code")]
    assert "M2" in report.warnings[0].message_en and "M2" in report.warnings[0].message_zh
    assert WSOSSection.objects.filter(skill=skill).count() == 1


@pytest.mark.django_db
def test_template_has_the_scoring_sheets_and_imports_as_empty(tmp_path):
    path = tmp_path / "template.xlsx"
    template_workbook().save(path)
    book = load_workbook(path)
    assert book.sheetnames[-3:] == ["aspects", "marks", "rewards"]
    marks = [list(r) for r in book["marks"].iter_rows(values_only=True)]
    assert marks[0][:2] == ["赛项代码", "参赛编号"]
    assert marks[1] == MARK_KEYS

    report = import_workbook(path, "new-event", dry_run=True)
    assert report.errors == [] and report.warnings == []
