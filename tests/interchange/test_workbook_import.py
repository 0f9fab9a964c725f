"""Event workbook import: happy path, title row, idempotence, updates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from competitions.models import Event, Programme, Skill
from interchange.event_workbook.importer import import_workbook
from teams import idnumbers
from teams.models import Athlete, Delegation, Entry, EntryMember, Judge, JudgeAssignment
from tests import factories

ZHANG_ID = idnumbers.make_id_number("320102", dt.date(2000, 1, 2), 11, "M")

KEYS = {
    "delegations": ["code", "name"],
    "skills": ["code", "name", "team_size", "award_policy", "judgement_aggregation"],
    "entries": [
        "skill_code",
        "competitor_no",
        "delegation_code",
        "name",
        "gender",
        "birth_date",
        "id_number",
    ],
    "judges": ["code", "name", "delegation_code", "skill_code", "role"],
}


def sample() -> dict[str, list[list[Any]]]:
    """A small consistent event: one individual and one 2-person team skill."""
    return {
        "delegations": [["D01", "南京市"], ["D02", "苏州市"]],
        "skills": [
            ["S01", "砌筑", 1, "ratio", "mean"],
            ["T02", "移动机器人", 2, "worldskills", "trimmed"],
        ],
        "entries": [
            ["S01", "001", "D01", "张三", "男", dt.datetime(2000, 1, 2), ZHANG_ID],
            ["S01", "002", "D02", "李四", "F", "1999-03-04", None],
            ["T02", "101", "D01", "王五", "M", dt.date(2001, 5, 6), None],
            ["T02", "101", "D01", "赵六", "女", "2002-07-08", None],
        ],
        "judges": [
            ["J001", "陈裁判", "D02", "S01", "chief"],
            ["J002", "刘裁判", "D01", "S01", "judge"],
            ["J001", "陈裁判", "D02", "T02", "judge"],
            ["J003", "周裁判", "D02", "T02", "chief"],
        ],
    }


def write_book(
    path: Path,
    sheets: dict[str, list[list[Any]]],
    *,
    title_row: bool = False,
    keys: dict[str, list[str]] | None = None,
) -> Path:
    """Write sheets as an .xlsx: key row (optionally below a Chinese title row), then rows."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        header = (keys or {}).get(name, KEYS.get(name, []))
        if title_row:
            ws.append([f"标题{i}" for i in range(len(header))])
        ws.append(header)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def model_counts() -> dict[str, int]:
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
        )
    }


def errors_of(report) -> list[tuple]:
    return [(e.sheet, e.row, e.column) for e in report.errors]


@pytest.mark.django_db
def test_happy_path_creates_event_programme_and_rows(tmp_path):
    report = import_workbook(write_book(tmp_path / "ev.xlsx", sample()), "final-2026")

    assert report.errors == []
    assert report.committed
    assert report.event_created and report.programme_created
    assert report.counts() == {
        "delegations": {"created": 2, "updated": 0, "unchanged": 0},
        "skills": {"created": 2, "updated": 0, "unchanged": 0},
        "entries": {"created": 4, "updated": 0, "unchanged": 0},
        "judges": {"created": 4, "updated": 0, "unchanged": 0},
    }
    event = Event.objects.get(code="final-2026")
    assert event.programme.year == dt.date.today().year
    team = Entry.objects.get(skill__event=event, skill__code="T02", competitor_no="101")
    assert team.delegation.code == "D01"
    assert sorted(a.name for a in team.athletes.all()) == ["王五", "赵六"]
    zhang = Athlete.objects.get(name="张三")
    assert (zhang.gender, zhang.birth_date, zhang.id_number) == ("M", dt.date(2000, 1, 2), ZHANG_ID)
    zhao = Athlete.objects.get(name="赵六")
    assert (zhao.gender, zhao.birth_date) == ("F", dt.date(2002, 7, 8))
    assert Skill.objects.get(event=event, code="T02").judgement_aggregation == "trimmed"
    chiefs = JudgeAssignment.objects.filter(role="chief").values_list("skill__code", "judge__code")
    assert sorted(chiefs) == [("S01", "J001"), ("T02", "J003")]
    assert Judge.objects.get(code="J001").delegation.code == "D02"
    assert model_counts()["JudgeAssignment"] == 4


@pytest.mark.django_db
def test_existing_programme_holds_the_new_event(tmp_path):
    programme = factories.programme(year=2030)
    report = import_workbook(write_book(tmp_path / "ev.xlsx", sample()), "final")
    assert report.event_created and not report.programme_created
    assert Event.objects.get(code="final").programme == programme
    assert Programme.objects.count() == 1


@pytest.mark.django_db
def test_chinese_title_row_is_accepted_and_rows_keep_their_excel_numbers(tmp_path):
    sheets = sample()
    sheets["entries"][1][5] = "1999-13-04"  # 2nd data row: Excel row 4 under a title row
    report = import_workbook(write_book(tmp_path / "t.xlsx", sheets, title_row=True), "ev")
    assert errors_of(report) == [("entries", 4, "birth_date")]
    assert report.errors[0].column_letter == "F"

    report = import_workbook(write_book(tmp_path / "ok.xlsx", sample(), title_row=True), "ev")
    assert report.errors == []
    assert report.counts()["entries"]["created"] == 4


@pytest.mark.django_db
def test_blank_rows_whitespace_and_empty_strings(tmp_path):
    sheets = sample()
    sheets["delegations"] = [["  D01 ", " 南京市  "], ["", "  "], [None, None], ["D02", "苏州市"]]
    sheets["entries"][1][6] = "   "  # empty-string ID cell means no ID
    report = import_workbook(write_book(tmp_path / "w.xlsx", sheets), "ev")
    assert report.errors == []
    assert sorted(Delegation.objects.values_list("code", "name")) == [
        ("D01", "南京市"),
        ("D02", "苏州市"),
    ]
    assert Athlete.objects.get(name="李四").id_number is None


@pytest.mark.django_db
def test_reimport_changes_nothing(tmp_path):
    path = write_book(tmp_path / "ev.xlsx", sample())
    assert import_workbook(path, "ev").committed
    before = model_counts()
    athletes = dict(Athlete.objects.values_list("pk", "name"))
    created_at = dict(Entry.objects.values_list("pk", "created_at"))

    report = import_workbook(path, "ev")

    assert report.errors == []
    assert not report.event_created
    for name, stats in report.counts().items():
        assert stats == {"created": 0, "updated": 0, "unchanged": stats["unchanged"]}, name
    assert report.counts()["entries"]["unchanged"] == 4
    assert report.counts()["judges"]["unchanged"] == 4
    assert model_counts() == before
    assert dict(Athlete.objects.values_list("pk", "name")) == athletes
    assert dict(Entry.objects.values_list("pk", "created_at")) == created_at


@pytest.mark.django_db
def test_reimport_brings_an_existing_event_up_to_date(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    sheets = sample()
    sheets["delegations"][0][1] = "南京市代表团"
    sheets["skills"][0][2:] = [1, "national", "mean"]
    # Swap the team: 赵六 leaves, 孙七 joins; J003 hands the chief role to J001.
    sheets["entries"][3] = ["T02", "101", "D01", "孙七", "M", "2003-01-01", None]
    sheets["judges"][2][4] = "chief"
    sheets["judges"][3][4] = "judge"

    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")

    assert report.errors == []
    assert report.counts()["delegations"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert report.counts()["skills"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert report.counts()["entries"] == {"created": 1, "updated": 1, "unchanged": 2}
    assert report.counts()["judges"] == {"created": 0, "updated": 2, "unchanged": 2}
    assert Delegation.objects.get(code="D01").name == "南京市代表团"
    assert Skill.objects.get(code="S01").award_policy == "national"
    team = Entry.objects.get(skill__code="T02", competitor_no="101")
    assert sorted(a.name for a in team.athletes.all()) == ["孙七", "王五"]
    assert Athlete.objects.filter(name="赵六").exists()  # left the team, still an athlete
    assert JudgeAssignment.objects.get(skill__code="T02", role="chief").judge.code == "J001"


@pytest.mark.django_db
def test_athlete_matched_by_id_number_across_imports(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    sheets = sample()
    sheets["entries"][0][3] = "张叁"  # a corrected name; the ID number says who it is
    report = import_workbook(write_book(tmp_path / "b.xlsx", sheets), "ev")
    assert report.errors == []
    assert report.counts()["entries"] == {"created": 0, "updated": 1, "unchanged": 3}
    assert Athlete.objects.get(id_number=ZHANG_ID).name == "张叁"
    assert Athlete.objects.count() == 4


@pytest.mark.django_db
def test_sheets_are_optional_and_codes_may_come_from_the_database(tmp_path):
    assert import_workbook(write_book(tmp_path / "a.xlsx", sample()), "ev").committed
    only_judges = {"judges": [["J009", "吴裁判", "D01", "T02", "judge"]]}
    report = import_workbook(write_book(tmp_path / "j.xlsx", only_judges), "ev")
    assert report.errors == []
    assert report.counts() == {"judges": {"created": 1, "updated": 0, "unchanged": 0}}
    assert JudgeAssignment.objects.filter(skill__code="T02").count() == 3


@pytest.mark.django_db
def test_unknown_sheet_and_column_are_warnings_not_imported(tmp_path):
    sheets = {**sample(), "说明": [["随便写点什么"]]}
    keys = {**KEYS, "delegations": ["code", "name", "remark"]}
    sheets["delegations"] = [["D01", "南京市", "备注"], ["D02", "苏州市", None]]
    report = import_workbook(write_book(tmp_path / "w.xlsx", sheets, keys=keys), "ev")
    assert report.errors == []
    assert report.committed
    assert [(w.sheet, w.column) for w in report.warnings] == [
        ("delegations", "remark"),
        ("说明", None),
    ]
    assert "说明" in report.warnings[1].message_en and "未导入" in report.warnings[1].message_zh


@pytest.mark.django_db
def test_dry_run_checks_everything_and_writes_nothing(tmp_path):
    report = import_workbook(write_book(tmp_path / "ev.xlsx", sample()), "ev", dry_run=True)
    assert report.errors == []
    assert not report.committed
    assert report.counts()["entries"]["created"] == 4
    assert set(model_counts().values()) == {0}
