"""Event workbook import: all-or-nothing, and every problem located and explained."""

from __future__ import annotations

import datetime as dt

import pytest

from interchange.event_workbook.importer import import_workbook
from teams import idnumbers
from teams.models import Athlete, Entry, JudgeAssignment
from tests.interchange.test_workbook_import import (
    ZHANG_ID,
    errors_of,
    model_counts,
    sample,
    write_book,
)


@pytest.mark.django_db
def test_one_bad_cell_in_the_last_sheet_writes_nothing_at_all(tmp_path):
    sheets = sample()
    sheets["judges"][3][4] = "boss"  # judges!E5
    report = import_workbook(write_book(tmp_path / "bad.xlsx", sheets), "ev")

    assert not report.committed
    assert set(model_counts().values()) == {0}  # not even the event or its programme
    assert errors_of(report) == [("judges", 5, "role")]
    error = report.errors[0]
    assert error.column_letter == "E" and error.cell == "E5"
    assert error.message_en == "“boss” is not one of: judge / chief."
    assert error.message_zh == "“boss”不是以下值之一：judge / chief。"


@pytest.mark.django_db
def test_a_failed_update_leaves_an_existing_event_untouched(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    before = model_counts()
    sheets = sample()
    sheets["delegations"][0][1] = "改了名字"
    sheets["delegations"].append(["D03", "无锡市"])
    sheets["judges"][0][3] = "S99"
    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")
    assert errors_of(report) == [("judges", 2, "skill_code")]
    assert model_counts() == before
    assert not Entry.objects.filter(delegation__name="改了名字").exists()
    assert report.counts()["delegations"] == {"created": 0, "updated": 0, "unchanged": 0}


@pytest.mark.django_db
def test_every_problem_in_every_sheet_is_reported(tmp_path):
    sheets = sample()
    sheets["delegations"].append(["D01", "重复的"])  # row 4: duplicate code
    sheets["skills"][0][2] = 0  # row 2: team size
    sheets["skills"][1][3] = "gold"  # row 3: award policy
    sheets["entries"][1][1] = None  # row 3: competitor number missing
    sheets["entries"][2][5] = "not a date"  # row 4
    sheets["judges"][1][2] = "D77"  # row 3: unknown delegation
    report = import_workbook(write_book(tmp_path / "many.xlsx", sheets), "ev")

    assert errors_of(report) == [
        ("delegations", 4, "code"),
        ("skills", 2, "team_size"),
        ("skills", 3, "award_policy"),
        ("entries", 3, "competitor_no"),
        ("entries", 4, "birth_date"),
        ("judges", 3, "delegation_code"),
    ]
    messages = [e.message_en for e in report.errors]
    assert messages[0] == "D01 is listed twice (first in row 2)."
    assert messages[1] == "Enter a whole number of at least 1 (got “0”)."
    assert messages[3] == "This cell must not be empty."
    assert report.errors[3].message_zh == "此单元格不能为空。"
    assert "D77" in messages[5] and "D77" in report.errors[5].message_zh
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_team_size_mismatch_names_the_rows(tmp_path):
    sheets = sample()
    sheets["entries"].append(["T02", "101", "D01", "钱八", "M", "2000-02-02", None])
    sheets["entries"].append(["T02", "102", "D02", "孙九", "M", "2000-03-03", None])
    report = import_workbook(write_book(tmp_path / "size.xlsx", sheets), "ev")
    assert errors_of(report) == [("entries", 4, "competitor_no"), ("entries", 7, "competitor_no")]
    assert report.errors[0].message_en == (
        "Competitor number 101 of skill T02 has 3 rows (rows 4, 5, 6) "
        "but the skill's team size is 2."
    )
    assert report.errors[0].message_zh == (
        "赛项 T02 的参赛编号 101 有 3 行（第 4, 5, 6 行），但该赛项每队人数为 2。"
    )
    assert "has 1 rows (rows 7)" in report.errors[1].message_en
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_team_members_must_share_the_delegation(tmp_path):
    sheets = sample()
    sheets["entries"][3][2] = "D02"
    report = import_workbook(write_book(tmp_path / "d.xlsx", sheets), "ev")
    assert errors_of(report) == [("entries", 5, "delegation_code")]
    assert "row 4 has D01" in report.errors[0].message_en


@pytest.mark.django_db
def test_unknown_delegation_and_skill_codes(tmp_path):
    sheets = sample()
    sheets["entries"][0][2] = "D09"
    sheets["entries"][1][0] = "X99"
    report = import_workbook(write_book(tmp_path / "u.xlsx", sheets), "ev")
    assert errors_of(report) == [("entries", 2, "delegation_code"), ("entries", 3, "skill_code")]
    assert report.errors[0].column_letter == "C"
    assert report.errors[0].message_en == (
        "Unknown delegation code D09: not in the delegations sheet nor in the portal."
    )
    assert report.errors[0].message_zh == (
        "未知的代表团代码 D09：既不在 delegations 表中，也不在系统中。"
    )
    assert "X99" in report.errors[1].message_en


@pytest.mark.django_db
def test_bad_id_number_checksum(tmp_path):
    sheets = sample()
    last = ZHANG_ID[-1]
    sheets["entries"][0][6] = ZHANG_ID[:-1] + ("0" if last != "0" else "1")
    report = import_workbook(write_book(tmp_path / "id.xlsx", sheets), "ev")
    assert errors_of(report) == [("entries", 2, "id_number")]
    assert report.errors[0].column_letter == "G"
    assert report.errors[0].message_en == "ID number check character is wrong (typo?)."
    assert report.errors[0].message_zh.startswith("身份证号校验位")
    assert Athlete.objects.count() == 0


@pytest.mark.django_db
def test_id_number_must_match_birth_date_and_gender(tmp_path):
    sheets = sample()
    sheets["entries"][0][5] = dt.date(2000, 1, 3)
    sheets["entries"][0][4] = "女"
    report = import_workbook(write_book(tmp_path / "m.xlsx", sheets), "ev")
    assert sorted(errors_of(report)) == [("entries", 2, "birth_date"), ("entries", 2, "gender")]
    by_column = {e.column: e for e in report.errors}
    assert by_column["birth_date"].message_en == (
        "Birth date does not match the ID number (2000-01-02)."
    )
    assert by_column["birth_date"].message_zh.startswith("出生日期与身份证号不符")
    assert "2000-01-02" in by_column["birth_date"].message_zh
    assert by_column["gender"].message_en == "Gender does not match the ID number."


@pytest.mark.django_db
def test_blank_birth_date_and_gender_come_from_the_id_number(tmp_path):
    sheets = sample()
    sheets["entries"][0][4:6] = [None, None]
    assert import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev").committed
    zhang = Athlete.objects.get(id_number=ZHANG_ID)
    assert (zhang.birth_date, zhang.gender) == (dt.date(2000, 1, 2), "M")


@pytest.mark.django_db
def test_second_chief_judge_for_a_skill(tmp_path):
    sheets = sample()
    sheets["judges"][1][4] = "chief"  # J002 on S01, where J001 is chief (row 2)
    report = import_workbook(write_book(tmp_path / "c.xlsx", sheets), "ev")
    assert errors_of(report) == [("judges", 3, "role")]
    assert report.errors[0].message_en == (
        "Skill S01 already has chief judge J001 (row 2); a skill has one chief judge."
    )
    assert JudgeAssignment.objects.count() == 0


@pytest.mark.django_db
def test_second_chief_judge_against_the_portal(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    report = import_workbook(
        write_book(tmp_path / "b.xlsx", {"judges": [["J002", "刘裁判", "D01", "S01", "chief"]]}),
        "ev",
    )
    assert errors_of(report) == [("judges", 2, "role")]
    assert "already has chief judge J001 in the portal" in report.errors[0].message_en
    assert JudgeAssignment.objects.get(skill__code="S01", role="chief").judge.code == "J001"


@pytest.mark.django_db
def test_judge_rows_must_agree_on_name_and_delegation(tmp_path):
    sheets = sample()
    sheets["judges"][2][2] = "D01"  # J001 is D02 in row 2
    report = import_workbook(write_book(tmp_path / "j.xlsx", sheets), "ev")
    assert errors_of(report) == [("judges", 4, "delegation_code")]
    assert report.errors[0].message_en == "Judge J001 has D01 here but D02 in row 2."


@pytest.mark.django_db
def test_athlete_twice_in_one_event_within_the_file(tmp_path):
    sheets = sample()
    sheets["entries"].append(["S01", "003", "D01", "王五", "M", dt.date(2001, 5, 6), None])
    report = import_workbook(write_book(tmp_path / "t.xlsx", sheets), "ev")
    assert errors_of(report) == [("entries", 6, "name")]
    assert report.errors[0].message_en == (
        "王五 is already listed in row 4; an athlete can be in only one entry of an event."
    )


@pytest.mark.django_db
def test_athlete_twice_in_one_event_against_the_portal(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    born = dt.date(2000, 1, 2)
    extra = {"entries": [["S01", "009", "D01", "张三", "M", born, ZHANG_ID]]}
    report = import_workbook(write_book(tmp_path / "b.xlsx", extra), "ev")
    assert errors_of(report) == [("entries", 2, "name")]
    assert report.errors[0].message_en == (
        "张三 is already in entry S01 #001 of this event; "
        "an athlete can be in only one entry of an event."
    )
    # Another event may have the same athlete.
    assert import_workbook(
        write_book(tmp_path / "c.xlsx", {"skills": [["S01", "砌筑", 1, "ratio", "mean"]], **extra}),
        "other",
    ).committed
    assert Athlete.objects.filter(id_number=ZHANG_ID).count() == 1


@pytest.mark.django_db
def test_id_number_of_another_delegation_is_refused(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    sheets = {
        "skills": [["S01", "砌筑", 1, "ratio", "mean"]],
        "entries": [["S01", "001", "D02", "张三", "M", dt.date(2000, 1, 2), ZHANG_ID]],
    }
    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "other")
    assert errors_of(report) == [("entries", 2, "id_number")]
    assert "belongs to 张三 of delegation D01" in report.errors[0].message_en


@pytest.mark.django_db
def test_missing_key_row_and_unreadable_file(tmp_path):
    report = import_workbook(
        write_book(tmp_path / "k.xlsx", {"skills": [["S01"]]}, keys={"skills": ["code", "name"]}),
        "ev",
    )
    assert errors_of(report) == [("skills", None, None)]
    assert "award_policy" in report.errors[0].message_en

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    report = import_workbook(junk, "ev")
    assert [e.message_en for e in report.errors] == ["The file is not a readable .xlsx workbook."]
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_team_size_change_must_relist_existing_entries(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    report = import_workbook(
        write_book(tmp_path / "b.xlsx", {"skills": [["T02", "移动机器人", 3, "ratio", "mean"]]}),
        "ev",
    )
    assert errors_of(report) == [("skills", 2, "team_size")]
    assert "101" in report.errors[0].message_en


def test_make_id_number_sanity():
    # The fixtures rely on a valid ID; a broken generator would hide checksum tests.
    idnumbers.validate_id_number(ZHANG_ID)
