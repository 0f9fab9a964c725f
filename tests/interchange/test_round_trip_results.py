"""Import an event workbook with marks → export
results → the numbers match the rules (docs/scoring.md).

Every expected number below is worked out by hand from docs/scoring.md in the
comments next to it — not by calling the product's code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from interchange.event_workbook.importer import import_workbook
from scoring.ledger import verify_ledger
from scoring.models import LedgerRecord, Mark
from teams.models import Entry
from tests.interchange.test_workbook_scoring import write_book

D = ["未完成", "基本完成", "良好", "优秀"]  # the four judgement descriptors


def event_book() -> dict[str, list[list[Any]]]:
    sheets: dict[str, list[list[Any]]] = {
        "delegations": [[f"D0{i}", f"代表团{i}"] for i in range(1, 6)] + [["D09", "裁判委员会"]],
        "skills": [
            ["R01", "砌筑", 1, "worldskills", "trimmed"],
            ["R02", "焊接", 1, "worldskills", "mean"],
            ["R03", "理论", 1, "ratio", "mean"],
        ],
        "entries": [
            ["R01", f"00{i}", f"D0{i}", f"选手R{i}", "男", "2000-01-0" + str(i), None]
            for i in range(1, 6)
        ]
        + [
            ["R02", f"10{i}", f"D0{i}", f"选手H{i}", "女", "2001-02-0" + str(i), None]
            for i in range(1, 4)
        ]
        + [
            ["R03", f"20{i}", f"D0{i}", f"选手L{i}", "男", "2002-03-0" + str(i), None]
            for i in range(1, 4)
        ],
        "judges": [
            ["C1", "裁判长一", "D09", "R01", "chief"],
            *[[f"T{i}", f"裁判T{i}", "D09", "R01", "judge"] for i in range(1, 6)],
            ["C2", "裁判长二", "D09", "R02", "chief"],
            ["K1", "裁判K1", "D09", "R02", "judge"],
            ["K2", "裁判K2", "D09", "R02", "judge"],
            ["K3", "裁判K3", "D01", "R02", "judge"],  # recused from entry 101 (D01)
            ["C3", "裁判长三", "D09", "R03", "chief"],
            ["L1", "裁判L1", "D09", "R03", "judge"],
        ],
        "aspects": [
            ["R01", "A", "A1", "M1", "M", 40, "尺寸", "测量"],
            ["R01", "A", "A1", "M2", "M", 30, "平整", "测量"],
            ["R01", "B", "B1", "J1", "J", 30, "美观", "评价", *D],
            ["R02", "A", "A1", "M1", "M", 50, "焊缝尺寸", "测量"],
            ["R02", "B", "B1", "J1", "J", 50, "焊缝外观", "评价", *D],
            ["R03", "A", "A1", "M1", "M", 100, "理论考试", "理论"],
        ],
        "marks": [],
    }
    marks = sheets["marks"]
    # R01 (trimmed: 5 judges → drop one highest and one lowest, mean of 3).
    r01 = {
        "001": ("35.5", 20, (3, 3, 2, 2, 1)),
        "002": (30, 25, (2, 2, 2, 2, 2)),
        "003": (35, 20, (3, 2, 2, 2, 0)),
        "004": (20.25, 10, (1, 1, 1, 0, 3)),
        # 005: absent, no marks
    }
    for number, (m1, m2, scores) in r01.items():
        marks.append(["R01", number, "M1", "T1", m1])
        marks.append(["R01", number, "M2", "C1", m2])  # the chief judge may enter M marks
        for i, score in enumerate(scores, start=1):
            marks.append(["R01", number, "J1", f"T{i}", score])
    # R02 (mean; K3 is recused from 101, so 101 has two scores).
    marks += [
        ["R02", "101", "M1", "K1", 40],
        ["R02", "101", "J1", "K1", 3],
        ["R02", "101", "J1", "K2", 2],
        ["R02", "102", "M1", "K2", 45.5],
        ["R02", "102", "J1", "K1", 2],
        ["R02", "102", "J1", "K2", 2],
        ["R02", "102", "J1", "K3", 1],
        ["R02", "103", "M1", "K3", 12],
        ["R02", "103", "J1", "K1", 0],
        ["R02", "103", "J1", "K2", 1],
        ["R02", "103", "J1", "K3", 0],
    ]
    # R03: one theory mark each.
    marks += [["R03", "201", "M1", "L1", 80], ["R03", "202", "M1", "L1", "80"]]
    marks += [["R03", "203", "M1", "L1", 50]]
    return sheets


@pytest.mark.django_db
def test_import_marks_then_export_results_matches_the_rules_by_hand(tmp_path):
    report = import_workbook(write_book(tmp_path / "event.xlsx", event_book()), "rt")
    assert report.errors == [], [str(e) for e in report.errors]
    assert report.counts()["marks"] == {"created": 42, "updated": 0, "unchanged": 0}
    # R01: 4 entries × (2 M + 5 J); R02: 11 rows; R03: 3 rows → 28 + 11 + 3
    assert Mark.objects.count() == LedgerRecord.objects.count() == 42
    assert verify_ledger().ok
    # The organiser marks 005 absent (the workbook has no status column).
    Entry.objects.filter(skill__code="R01", competitor_no="005").update(status=Entry.Status.ABSENT)

    out = tmp_path / "results.xlsx"
    call_command("export_results", "--event", "rt", "--output", str(out))

    ws = load_workbook(out)["rankings"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    keys = rows[0]
    got = {
        (r[keys.index("skill_code")], r[keys.index("competitor_no")]): (
            r[keys.index("rank")],
            None
            if r[keys.index("final_score")] is None
            else Decimal(repr(r[keys.index("final_score")])),
            r[keys.index("scale_score")],
            r[keys.index("delegation_code")],
            r[keys.index("names")],
        )
        for r in rows[1:]
    }
    assert len(got) == 11  # every entry once, the absent one too

    # ---- R01, trimmed mean, J1 max 30: mark = 30 × m / 3 = 10 m.
    # 001: J1 3,3,2,2,1 → drop 3 and 1 → (3+2+2)/3 = 7/3 → 70/3 = 23.333…
    #      F = 35.5 + 20 + 23.333… = 78.8333… → 78.83
    # 002: J1 2,2,2,2,2 → 2 → 20;            F = 30 + 25 + 20 = 75.00
    # 003: J1 3,2,2,2,0 → drop 3 and 0 → 2 → 20 (the plain mean 9/5 would give 18);
    #      F = 35 + 20 + 20 = 75.00  — a tie with 002
    # 004: J1 1,1,1,0,3 → drop 3 and 0 → 1 → 10; F = 20.25 + 10 + 10 = 40.25
    # Ranks on F, highest first: 78.83 → 1; 75.00, 75.00 → 2, 2; 40.25 → 4.
    # Scale over the 4 ranked: sorted 40.25, 75, 75, 78.83 → med = (75 + 75)/2 = 75
    #   |F − med| = 3.83, 0, 0, 34.75 → sorted 0, 0, 3.83, 34.75 → MAD = 1.915
    #   1.4826 × 1.915 = 2.839179
    #   001: 700 + 30 × 3.83 / 2.839179 = 700 + 114.9 / 2.839179 = 700 + 40.469… → 740
    #   002, 003: 700
    #   004: 700 − 30 × 34.75 / 2.839179 = 700 − 1042.5 / 2.839179 = 700 − 367.18… = 332.8… → 333
    assert got[("R01", "001")][:3] == (1, Decimal("78.83"), 740)
    assert got[("R01", "002")][:3] == (2, Decimal("75.00"), 700)
    assert got[("R01", "003")][:3] == (2, Decimal("75.00"), 700)
    assert got[("R01", "004")][:3] == (4, Decimal("40.25"), 333)
    assert got[("R01", "005")][:3] == (None, None, None)  # absent: not ranked
    assert got[("R01", "001")][3:] == ("D01", "选手R1")

    # ---- R02, plain mean, J1 max 50: mark = 50 × m / 3.
    # 101: K3 recused → K1 3, K2 2 → m = 5/2 → 50 × 5/6 = 41.666…; F = 40 + 41.666… → 81.67
    # 102: 2, 2, 1 → m = 5/3 → 50 × 5/9 = 27.777…; F = 45.5 + 27.777… = 73.2777… → 73.28
    # 103: 0, 1, 0 → m = 1/3 → 50/9 = 5.555…; F = 12 + 5.555… = 17.555… → 17.56
    # Ranks 1, 2, 3. med = 73.28; |F − med| = 8.39, 0, 55.72 → MAD = 8.39
    #   1.4826 × 8.39 = 12.439014
    #   101: 700 + 30 × 8.39 / 12.439014 = 700 + 251.7 / 12.439014 = 700 + 20.23… → 720
    #   103: 700 − 30 × 55.72 / 12.439014 = 700 − 1671.6 / 12.439014 = 700 − 134.38… = 565.6… → 566
    assert got[("R02", "101")][:3] == (1, Decimal("81.67"), 720)
    assert got[("R02", "102")][:3] == (2, Decimal("73.28"), 700)
    assert got[("R02", "103")][:3] == (3, Decimal("17.56"), 566)

    # ---- R03, measurement only: F = 80, 80, 50 → ranks 1, 1, 3.
    # med = 80; |F − med| = 0, 0, 30 → MAD = 0 → use the population standard
    # deviation of F in place of 1.4826 × MAD: mean 70, deviations 10, 10, −20
    #   → σ = √((100 + 100 + 400)/3) = √200 = 14.1421…
    #   201, 202: F = med → 700
    #   203: 700 + 30 × (50 − 80) / 14.1421… = 700 − 900 / 14.1421… = 700 − 63.64… = 636.36… → 636
    assert got[("R03", "201")][:3] == (1, Decimal("80.00"), 700)
    assert got[("R03", "202")][:3] == (1, Decimal("80.00"), 700)
    assert got[("R03", "203")][:3] == (3, Decimal("50.00"), 636)
