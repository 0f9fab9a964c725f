"""Event workbook export and template: what comes out goes back in unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from competitions.models import Event
from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.writer import build_workbook, template_workbook
from tests import factories
from tests.interchange.test_workbook_import import (
    KEYS,
    ZHANG_ID,
    model_counts,
    sample,
    write_book,
)

# What the export writes: the documented keys, then the delegation's name
# (read-only, for people) on the entries and judges sheets.
EXPORTED = {
    name: [*keys, "delegation_name"] if name in ("entries", "judges") else keys
    for name, keys in KEYS.items()
}


@pytest.mark.django_db
def test_export_has_the_four_sheets_and_the_event_rows(tmp_path):
    assert import_workbook(write_book(tmp_path / "in.xlsx", sample()), "ev").committed
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
    rows = {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in KEYS}
    for name, keys in EXPORTED.items():
        assert rows[name][0] == keys
    assert rows["delegations"][1:] == [["D01", "南京市"], ["D02", "苏州市"]]
    assert rows["skills"][2] == ["T02", "移动机器人", 2, "worldskills", "trimmed"]
    zhang = rows["entries"][1]
    assert zhang[:5] == ["S01", "001", "D01", "张三", "男"]  # as the template asks
    assert zhang[5] == dt.datetime(2000, 1, 2)  # a real Excel date
    assert zhang[6] == ZHANG_ID
    assert len(rows["entries"]) == 5
    assert zhang[7] == "南京市"  # the delegation's name beside its code
    assert rows["judges"][1] == ["J001", "陈裁判", "D02", "S01", "chief", "苏州市"]


@pytest.mark.django_db
def test_export_then_reimport_changes_nothing(tmp_path):
    assert import_workbook(write_book(tmp_path / "in.xlsx", sample()), "ev").committed
    out = tmp_path / "out.xlsx"
    build_workbook(Event.objects.get(code="ev")).save(out)
    before = model_counts()

    report = import_workbook(out, "ev")

    assert report.errors == []
    assert report.counts() == {
        "delegations": {"created": 0, "updated": 0, "unchanged": 2},
        "skills": {"created": 0, "updated": 0, "unchanged": 2},
        "entries": {"created": 0, "updated": 0, "unchanged": 4},
        "judges": {"created": 0, "updated": 0, "unchanged": 4},
        "aspects": {"created": 0, "updated": 0, "unchanged": 0},
        "marks": {"created": 0, "updated": 0, "unchanged": 0},
        "rewards": {"created": 0, "updated": 0, "unchanged": 0},
    }
    assert model_counts() == before


@pytest.mark.django_db
def test_export_of_an_event_built_in_the_portal_round_trips(tmp_path):
    event = factories.event(code="final")
    team_skill = factories.skill(event=event, code="T01", team_size=3)
    solo = factories.skill(event=event, code="S01")
    factories.entry(team_skill, competitor_no="7")
    factories.entry(solo, athletes=[factories.athlete_with_id()])
    factories.judge(solo, role="chief")
    before = model_counts()
    out = tmp_path / "final.xlsx"
    build_workbook(event).save(out)

    report = import_workbook(out, "final")

    assert report.errors == []
    assert report.counts()["entries"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert report.counts()["judges"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert model_counts() == before


@pytest.mark.django_db
def test_template_has_a_chinese_title_row_and_imports_as_empty(tmp_path):
    path = tmp_path / "template.xlsx"
    template_workbook().save(path)
    book = load_workbook(path)
    assert book.sheetnames == [
        "delegations",
        "skills",
        "entries",
        "judges",
        "aspects",
        "marks",
        "rewards",
    ]
    entries = [list(r) for r in book["entries"].iter_rows(values_only=True)]
    assert entries[0][:2] == ["赛项代码", "参赛编号（团队成员相同）"]
    assert entries[1] == EXPORTED["entries"]

    report = import_workbook(path, "new-event", dry_run=True)
    assert report.errors == [] and report.warnings == []
    assert all(s.total == 0 for s in report.sheets.values())
