"""Event workbook ``aspects`` and ``marks`` sheets: every problem located by
sheet, row and column, in Chinese and English; and with any of them nothing
at all is written — not the marks, their ledger records or the skill's
ledger head, and not the roster sheets of the same file either."""

from __future__ import annotations

import pytest

from competitions.models import Skill
from interchange.event_workbook.importer import import_workbook
from scoring.ledger import verify_ledger
from scoring.models import Aspect, Criterion, MarkingGroup, SkillMarking, SubCriterion
from teams.models import Entry, Judge
from tests.interchange.test_workbook_scoring import (
    errors_of,
    model_counts,
    scoring_sample,
    write_book,
)

# Excel rows of the marks sheet (row 1 holds the keys): entry 001 is rows 2–9
# (M1, M2, J1 × J01–J03, J2 × J01–J03), 002 rows 10–17, 003 rows 18–25.
# In a test, sheets["marks"][i] is Excel row i + 2.


def bad_import(tmp_path, sheets, event="ev"):
    """Import ``sheets`` into a fresh database: nothing may be written."""
    report = import_workbook(write_book(tmp_path / "bad.xlsx", sheets), event)
    assert not report.committed
    assert set(model_counts().values()) == {0}  # not even the rosters of the same file
    return report


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("index", "score", "en", "zh"),
    [
        (
            2,
            4,
            "A judgement score must be 0, 1, 2 or 3 (got “4”).",
            "评价分必须是 0、1、2 或 3（此处为“4”）。",
        ),
        (2, 1.5, "A judgement score must be 0, 1, 2 or 3 (got “1.5”).", "（此处为“1.5”）"),
        (0, 30.5, "The mark 30.5 is out of range: aspect M1 allows 0 to 30.00.", "超出范围"),
        (0, -1, "The mark -1 is out of range: aspect M1 allows 0 to 30.00.", "超出范围"),
        (1, "abc", "“abc” is not a number.", "“abc”不是数字"),
        (1, 10.125, "A mark has at most 2 decimals (got “10.125”).", "最多两位小数"),
    ],
)
def test_a_bad_score_is_an_error_on_its_score_cell(tmp_path, index, score, en, zh):
    sheets = scoring_sample()
    sheets["marks"][index][4] = score
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", index + 2, "score")]
    error = report.errors[0]
    assert error.column_letter == "E" and error.cell == f"E{index + 2}"
    assert error.message_en == en
    assert zh in error.message_zh


@pytest.mark.django_db
def test_unknown_competitor_aspect_judge_and_skill(tmp_path):
    sheets = scoring_sample()
    sheets["marks"][0][1] = "999"  # row 2: no such entry
    sheets["marks"][1][2] = "M9"  # row 3: no such aspect
    sheets["marks"][2][3] = "J99"  # row 4: no such judge
    sheets["marks"][3][0] = "S77"  # row 5: no such skill
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [
        ("marks", 2, "competitor_no"),
        ("marks", 3, "aspect_code"),
        ("marks", 4, "judge_code"),
        ("marks", 5, "skill_code"),
    ]
    en = [e.message_en for e in report.errors]
    assert en[0] == (
        "Unknown competitor number 999 in skill S01: not in the entries sheet nor in the "
        "portal (1 row(s): 2)."
    )
    assert "M9" in en[1] and "J99" in en[2] and "S77" in en[3]
    assert "999" in report.errors[0].message_zh and "参赛编号" in report.errors[0].message_zh


@pytest.mark.django_db
def test_one_unknown_judge_in_many_rows_is_one_error_listing_them(tmp_path):
    sheets = scoring_sample()
    for row in sheets["marks"]:
        if row[3] == "J03":
            row[3] = "J33"
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", 6, "judge_code")]
    assert report.errors[0].message_en == (
        "Unknown judge code J33: not in the judges sheet nor in the portal "
        "(6 row(s): 6, 9, 14, 17, 22, 25)."
    )


@pytest.mark.django_db
def test_recusal_is_an_error_on_the_judge_code(tmp_path):
    sheets = scoring_sample()
    sheets["marks"][2][3] = "J04"  # row 4: J04 of D01 scores J1 of entry 001 (D01)
    sheets["marks"][5][3] = "J04"  # row 7: and J2
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", 4, "judge_code")]
    error = report.errors[0]
    assert error.message_en == (
        "Recusal (回避): judge J04 belongs to delegation D01, as does entry 001, and may not "
        "mark it (2 row(s): 4, 7)."
    )
    assert error.message_zh.startswith("回避：裁判 J04")


@pytest.mark.django_db
def test_recusal_counts_the_delegations_as_the_file_sets_them(tmp_path):
    # J01 moves to D02 in this very file: its marks of entry 002 become recusal.
    sheets = scoring_sample()
    for row in sheets["judges"]:
        if row[0] == "J01":
            row[2] = "D02"
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", 10, "judge_code")]
    assert "(4 row(s): 10, 11, 12, 15)" in report.errors[0].message_en


@pytest.mark.django_db
def test_judge_not_on_the_panel_and_chief_judgement_scores(tmp_path):
    sheets = scoring_sample()
    sheets["judges"].append(["J05", "外项目裁判", "D09", "S02", "judge"])
    sheets["skills"].append(["S02", "焊接", 1, "ratio", "mean"])
    sheets["marks"][2][3] = "J05"  # row 4: J05 judges S02, not S01
    sheets["marks"][10][3] = "C01"  # row 12: the chief judge gives a J score
    sheets["marks"][8][3] = "C01"  # row 10: the chief judge may give an M mark
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", 4, "judge_code"), ("marks", 12, "judge_code")]
    assert "J05 is not assigned to skill S01" in report.errors[0].message_en
    assert "chief judge of skill S01" in report.errors[1].message_en


@pytest.mark.django_db
def test_duplicate_mark_rows_name_both_rows(tmp_path):
    sheets = scoring_sample()
    sheets["marks"].append(["S01", "002", "J2", "J03", 2])  # row 26 = row 17 again
    sheets["marks"].append(["S01", "003", "M1", "J02", 0])  # row 27: M mark of row 18
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("marks", 26, "judge_code"), ("marks", 27, "aspect_code")]
    assert report.errors[0].message_en == (
        "The mark S01 / 002 / J2 / J03 is listed twice, in rows 17 and 26; keep one of them."
    )
    assert "第 17 行" in report.errors[0].message_zh and "第 26 行" in report.errors[0].message_zh
    assert "rows 18 and 27" in report.errors[1].message_en


@pytest.mark.django_db
def test_every_problem_of_every_sheet_is_reported_together(tmp_path):
    sheets = scoring_sample()
    sheets["entries"][0][5] = "not a date"  # entries row 2
    sheets["aspects"][0][5] = "thirty"  # aspects row 2: max mark
    sheets["marks"][4][4] = 7  # marks row 6: J score 7
    sheets["marks"][7][4] = None  # marks row 9: empty score
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [
        ("entries", 2, "birth_date"),
        ("aspects", 2, "max_mark"),
        ("aspects", 2, "max_mark"),  # the total (70 + the bad cell), at the skill's first row
        ("marks", 6, "score"),
        ("marks", 9, "score"),
    ]


@pytest.mark.django_db
def test_scheme_errors_are_located_and_block_everything(tmp_path):
    sheets = scoring_sample()
    sheets["aspects"][1][4] = "X"  # row 3: type
    sheets["aspects"][3][8] = None  # row 5: J2 has no descriptor for score 0
    report = bad_import(tmp_path, sheets)
    assert ("aspects", 3, "type") in errors_of(report)
    assert ("aspects", 5, "descriptor_0") in errors_of(report)
    located = {(e.row, e.column): e for e in report.errors}
    assert located[(3, "type")].column_letter == "E"
    assert "X" in located[(3, "type")].message_zh


@pytest.mark.django_db
def test_a_scheme_total_not_100_points_at_the_skills_first_row(tmp_path):
    sheets = scoring_sample()
    sheets["skills"].append(["S02", "焊接", 1, "ratio", "mean"])
    sheets["aspects"].append(["S02", "A", "A1", "W1", "M", 90, "焊缝", "测量"])  # rows 6
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("aspects", 6, "max_mark")]
    assert report.errors[0].message_en == "The criteria add up to 90, not 100."


@pytest.mark.django_db
def test_aspects_of_an_unknown_skill(tmp_path):
    sheets = scoring_sample()
    sheets["aspects"].append(["S77", "A", "A1", "X1", "M", 100, "别的", "测量"])
    report = bad_import(tmp_path, sheets)
    assert errors_of(report) == [("aspects", 6, "skill_code")]


# --------------------------------------------------------------------------- on an existing event


def import_ok(tmp_path, sheets, name="ok.xlsx"):
    report = import_workbook(write_book(tmp_path / name, sheets), "ev")
    assert report.errors == [], [str(e) for e in report.errors]
    return report


@pytest.mark.django_db
def test_a_failed_import_leaves_marks_ledger_and_rosters_untouched(tmp_path):
    import_ok(tmp_path, scoring_sample())
    before = model_counts()
    marking = SkillMarking.objects.values("ledger_head", "ledger_length").get()
    sheets = scoring_sample()
    sheets["delegations"][0][1] = "南京市代表团"  # a roster change
    sheets["marks"][0][4] = 26  # a valid change
    sheets["marks"][3][4] = 9  # and a bad score: row 5

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert errors_of(report) == [("marks", 5, "score")]
    assert model_counts() == before
    assert SkillMarking.objects.values("ledger_head", "ledger_length").get() == marking
    assert not Entry.objects.filter(delegation__name="南京市代表团").exists()
    assert verify_ledger().ok


@pytest.mark.django_db
def test_marks_of_an_absent_entry_are_refused(tmp_path):
    sheets = scoring_sample()
    marks = sheets.pop("marks")
    import_ok(tmp_path, sheets)
    Entry.objects.filter(competitor_no="003").update(status=Entry.Status.ABSENT)
    before = model_counts()

    report = import_workbook(write_book(tmp_path / "m.xlsx", {"marks": marks}), "ev")

    assert errors_of(report) == [("marks", 18, "competitor_no")]
    assert report.errors[0].message_en == (
        "Entry 003 of skill S01 is absent or withdrawn and is not marked "
        "(8 row(s): 18, 19, 20, 21, 22, 23, 24, 25)."
    )
    assert model_counts() == before


@pytest.mark.django_db
def test_a_signed_off_skill_refuses_a_change_on_its_skill_code(tmp_path):
    import_ok(tmp_path, scoring_sample())
    SkillMarking.objects.update(status=SkillMarking.Status.SIGNED_OFF)
    before = model_counts()
    sheets = scoring_sample()
    sheets["marks"][9][4] = 20  # row 11: 002 M2 20.5 → 20

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert errors_of(report) == [("marks", 11, "skill_code")]
    assert "signed off" in report.errors[0].message_en
    assert "(1 row(s): 11)" in report.errors[0].message_en
    assert model_counts() == before


@pytest.mark.django_db
def test_a_scheme_with_marks_cannot_change(tmp_path):
    import_ok(tmp_path, scoring_sample())
    before = model_counts()
    sheets = scoring_sample()
    sheets["aspects"][0][6] = "新的描述"

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert errors_of(report) == [("aspects", 2, "skill_code")]
    assert "already has marks" in report.errors[0].message_en
    assert model_counts() == before


@pytest.mark.django_db
def test_an_incomplete_stored_scheme_refuses_marks(tmp_path):
    sheets = scoring_sample()
    marks = sheets.pop("marks")
    del sheets["aspects"]
    import_ok(tmp_path, sheets)
    # A scheme built in the admin, still 10 marks short of 100.
    skill = Skill.objects.get(code="S01")
    for code, kind, max_mark in (("M1", "M", 30), ("M2", "M", "20.5"), ("J1", "J", 30)):
        criterion, _ = Criterion.objects.get_or_create(skill=skill, code=code[0], name=code[0])
        sub, _ = SubCriterion.objects.get_or_create(criterion=criterion, code=f"{code[0]}1")
        Aspect.objects.create(
            skill=skill, sub_criterion=sub, code=code, kind=kind, max_mark=max_mark, description="x"
        )
    sub = SubCriterion.objects.get(code="J1")
    Aspect.objects.create(
        skill=skill, sub_criterion=sub, code="J2", kind="J", max_mark="9.5", description="x"
    )
    before = model_counts()

    report = import_workbook(write_book(tmp_path / "m.xlsx", {"marks": marks}), "ev")

    assert errors_of(report) == [("marks", 2, "skill_code")]
    assert report.errors[0].message_en.startswith(
        "The marking scheme of skill S01 is not complete, so it cannot be marked yet: "
    )
    assert "90.00" in report.errors[0].message_en
    assert model_counts() == before


@pytest.mark.django_db
def test_a_marking_group_refusal_at_write_time_is_located(tmp_path):
    # Marking groups live in the portal only: the mark service refuses when writing.
    sheets = scoring_sample()
    marks = sheets.pop("marks")
    import_ok(tmp_path, sheets)
    group = MarkingGroup.objects.create(skill_id=Entry.objects.first().skill_id, name="一组")
    group.judges.add(Judge.objects.get(code="J02"))
    group.entries.add(Entry.objects.get(competitor_no="001"))
    before = model_counts()

    report = import_workbook(write_book(tmp_path / "m.xlsx", {"marks": marks}), "ev")

    # J02 may mark entry 001 only: its J1 and J2 scores of 002 and 003 are refused.
    assert errors_of(report) == [
        ("marks", 13, "judge_code"),
        ("marks", 16, "judge_code"),
        ("marks", 21, "judge_code"),
        ("marks", 24, "judge_code"),
    ]
    assert report.errors[0].message_en == (
        "Aspect J1 of entry 002 is outside the marking groups of judge J02."
    )
    assert model_counts() == before
