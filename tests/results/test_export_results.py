"""python manage.py export_results: the rankings sheet of docs/formats.md."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from portal.exporters import Column, SheetExporter, write_workbook
from teams.models import Entry
from tests import factories as f
from tests.scoring.test_results import SIMPLE, build_scheme, fill, put

pytestmark = pytest.mark.django_db

KEYS = [
    "skill_code",
    "rank",
    "competitor_no",
    "delegation_code",
    "names",
    "final_score",
    "scale_score",
    "award",
    "title",
    "delegation_name",  # after the documented keys
]


def test_export_results_writes_rankings(tmp_path):
    event = f.event(code="final-x")
    s = build_scheme(SIMPLE, entries=["1", "2", "3", "4", "5"], event=event, code="B02")
    fill(s, "1", "20", (2, 2, 2), (2, 2, 2))  # 60
    fill(s, "2", "40", (3, 3, 3), (2, 2, 3))  # 40 + 30 + 30·7/9 = 93.333… → 93.33
    fill(s, "3", "20", (2, 2, 2), (2, 2, 2))  # 60: tie
    put(s, "4", "M1", "10")  # incomplete
    Entry.objects.filter(pk=s.entries["5"].pk).update(status=Entry.Status.ABSENT)
    other = build_scheme({"M1": ("M", "100")}, entries=["7"], event=event, code="A01")
    put(other, "7", "M1", "85.5")

    out = tmp_path / "results.xlsx"
    call_command("export_results", "--event", "final-x", "--output", str(out))

    wb = load_workbook(out)
    assert wb.sheetnames == ["rankings", "medal_table"]
    medal_keys = [c.value for c in wb["medal_table"][1]]
    # The documented keys in their order; the delegation's name only after them.
    assert medal_keys == [
        "place", "delegation_code", "gold", "silver", "bronze", "excellence", "delegation_name"
    ]  # fmt: skip
    ws = wb["rankings"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == KEYS
    body = rows[1:]
    assert [r[0] for r in body] == ["A01", "B02", "B02", "B02", "B02", "B02"]
    assert [(r[2], r[1]) for r in body] == [
        ("7", 1),
        ("2", 1),
        ("1", 2),
        ("3", 2),
        ("4", None),
        ("5", None),
    ]
    a01, b2, b1 = body[0], body[1], body[2]
    assert b2[5] == pytest.approx(93.33) and isinstance(b2[5], float)
    assert Decimal(str(b2[5])) == Decimal("93.33")
    assert a01[5] == 85.5 and a01[6] == 700
    assert isinstance(b1[1], int) and isinstance(b1[6], int)
    assert b1[3] == s.entries["1"].delegation.code
    assert b1[9] == s.entries["1"].delegation.name  # beside the code, after the keys
    # Ranking sheets carry an autofilter over the key row and every data row.
    assert ws.auto_filter.ref == f"A1:J{len(rows)}"
    assert b1[4] == s.entries["1"].names()
    assert body[4][5] is None and body[4][6] is None  # incomplete: no final score
    assert body[5][5] is None  # absent
    assert all(r[7] is None and r[8] is None for r in body)  # award, title: later
    # Number formats: 2 places for scores, integers for ranks.
    cells = next(iter(ws.iter_rows(min_row=3, max_row=3)))
    assert cells[5].number_format == "0.00"
    assert cells[1].number_format == "0"
    assert cells[6].number_format == "0"


def test_export_results_unknown_event(tmp_path):
    with pytest.raises(CommandError):
        call_command("export_results", "--event", "nope", "--output", str(tmp_path / "x.xlsx"))


def test_base_exporter_title_row_and_width_checks(tmp_path):
    class Two(SheetExporter):
        sheet_name = "two"
        columns = (Column("a", "甲"), Column("b", "乙", "0.00"))

        def rows(self):
            yield ("x", Decimal("1.50"))
            yield (None, None)

    class Bad(Two):
        sheet_name = "bad"

        def rows(self):
            yield ("only one",)

    out = tmp_path / "t.xlsx"
    write_workbook([Two()], out, title_row=True)
    ws = load_workbook(out)["two"]
    assert [[c.value for c in r] for r in ws.iter_rows()] == [
        ["甲", "乙"],
        ["a", "b"],
        ["x", 1.5],
    ]  # (an all-empty row leaves nothing in the file)
    with pytest.raises(ValueError):
        write_workbook([Bad()], tmp_path / "bad.xlsx")
