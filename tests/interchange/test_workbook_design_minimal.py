"""The event workbook exactly as documented: sheets with only the documented
columns, J aspects without descriptors, M marks without judge codes (a
theory exam, a measuring device). Built here with openpyxl; the results are
checked against numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from competitions.models import Skill
from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.writer import build_workbook
from scoring.models import Aspect, JudgementDescriptor, LedgerRecord, Mark
from scoring.results import compute_skill
from teams.models import Athlete, Entry, Quota
from tests import factories
from tests.interchange.test_workbook_scoring import model_counts

pytestmark = pytest.mark.django_db

# The documented columns, nothing more.
SHEETS: dict[str, list[list]] = {
    "delegations": [["code", "name"], ["D1", "南京市"], ["D2", "苏州市"], ["D3", "裁判委员会"]],
    "skills": [
        ["code", "name", "team_size", "award_policy", "judgement_aggregation"],
        ["S1", "砌筑", 1, "ratio", "mean"],
    ],
    "entries": [
        ["skill_code", "competitor_no", "delegation_code", "name", "gender", "birth_date"],
        ["S1", "001", "D1", "张三", "男", "2000-01-02"],
        ["S1", "002", "D2", "李四", "F", "1999-03-04"],
    ],
    "judges": [
        ["code", "name", "delegation_code", "skill_code", "role"],
        ["C1", "陈裁判长", "D3", "S1", "chief"],
        ["J1", "刘裁判", "D3", "S1", "judge"],
        ["J2", "周裁判", "D3", "S1", "judge"],
        ["J3", "吴裁判", "D1", "S1", "judge"],  # recused from 001 (D1)
    ],
    # theory 40 + measured 20 (M), judged 30 + 10 (J): 100; no descriptor columns.
    "aspects": [
        [
            "skill_code",
            "criterion",
            "sub_criterion",
            "aspect_code",
            "type",
            "max_mark",
            "description",
        ],
        ["S1", "A", "A1", "T1", "M", 40, "理论考试"],
        ["S1", "A", "A2", "M1", "M", 20, "尺寸偏差"],
        ["S1", "B", "B1", "J1", "J", 30, "整体效果"],
        ["S1", "B", "B1", "J2", "J", 10, "工艺美观"],
    ],
    "marks": [
        ["skill_code", "competitor_no", "aspect_code", "judge_code", "score"],
        # M rows: no judge (the theory exam system, a measuring device)
        ["S1", "001", "T1", None, 32.5],
        ["S1", "001", "M1", None, 15],
        ["S1", "002", "T1", None, 40],
        ["S1", "002", "M1", None, 12.25],
        # J rows: every judge but the chief, and J3 not on D1's entry
        ["S1", "001", "J1", "J1", 3],
        ["S1", "001", "J1", "J2", 2],
        ["S1", "001", "J2", "J1", 1],
        ["S1", "001", "J2", "J2", 2],
        ["S1", "002", "J1", "J1", 2],
        ["S1", "002", "J1", "J2", 1],
        ["S1", "002", "J1", "J3", 3],
        ["S1", "002", "J2", "J1", 0],
        ["S1", "002", "J2", "J2", 0],
        ["S1", "002", "J2", "J3", 3],
    ],
}


def write(path: Path, sheets: dict[str, list[list]] = SHEETS) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def edited(**changes: list[list]) -> dict[str, list[list]]:
    return {**{k: [list(r) for r in v] for k, v in SHEETS.items()}, **changes}


def test_the_documented_minimal_workbook_imports_with_exact_results(tmp_path):
    organiser = factories.organiser()
    report = import_workbook(write(tmp_path / "min.xlsx"), "final", actor=organiser)
    assert report.committed, [str(e) for e in report.errors]
    assert report.counts()["marks"]["created"] == 14
    # The import says how many J aspects have no descriptors.
    [bare] = [w for w in report.warnings if "no descriptors" in w.message_en]
    assert bare.params["count"] == 2
    assert "2 个评价评分点没有评分描述" in bare.message_zh
    assert not JudgementDescriptor.objects.exists()
    assert Aspect.objects.filter(kind="J").count() == 2

    # M marks without a judge: no judge on the mark, the organiser in the ledger.
    m_marks = Mark.objects.filter(kind="M")
    assert m_marks.count() == 4 and not m_marks.filter(judge__isnull=False).exists()
    m_records = LedgerRecord.objects.filter(aspect__kind="M")
    assert m_records.count() == 4
    assert set(m_records.values_list("actor", "source", "judge")) == {
        (organiser.pk, "import", None)
    }

    # Gender as written: 男 and F are both read.
    assert dict(Athlete.objects.values_list("name", "gender")) == {"张三": "M", "李四": "F"}

    # By hand (mean aggregation; mark = max × mean / 3):
    # 001: 32.5 + 15 + 30×(3+2)/2/3 = 25 + 10×(1+2)/2/3 = 5        → 77.50
    # 002: 40 + 12.25 + 30×(2+1+3)/3/3 = 20 + 10×(0+0+3)/3/3 = 10/3 → 75.58 (75.5833…)
    results = compute_skill(Skill.objects.get(code="S1"))
    by_number = {e.competitor_no: e for e in results.entries}
    assert results.complete
    assert by_number["001"].final_score == Decimal("77.50")
    assert by_number["002"].final_score == Decimal("75.58")
    assert (by_number["001"].rank, by_number["002"].rank) == (1, 2)

    # Exported, the file reads back unchanged (gender as the template asks).
    out = tmp_path / "out.xlsx"
    build_workbook(Skill.objects.get(code="S1").event).save(out)
    again = import_workbook(out, "final", actor=organiser)
    assert again.committed, [str(e) for e in again.errors]
    assert all(c["created"] == c["updated"] == 0 for c in again.counts().values())


def test_a_j_row_without_judge_code_is_refused_on_its_cell(tmp_path):
    marks = [list(r) for r in SHEETS["marks"]]
    marks[5][3] = None  # row 6: 001 J1 by J1
    report = import_workbook(
        write(tmp_path / "j.xlsx", edited(marks=marks)), "final", actor=factories.organiser()
    )
    [error] = report.errors
    assert (error.sheet, error.row, error.column, error.column_letter) == (
        "marks",
        6,
        "judge_code",
        "D",
    )
    assert "J1" in error.message_en and "judge_code" in error.message_zh
    assert set(model_counts().values()) == {0}


def test_the_chief_gives_no_judgement_scores(tmp_path):
    marks = [list(r) for r in SHEETS["marks"]] + [["S1", "001", "J1", "C1", 2]]
    report = import_workbook(
        write(tmp_path / "c.xlsx", edited(marks=marks)), "final", actor=factories.organiser()
    )
    [error] = report.errors
    assert (error.sheet, error.row, error.column) == ("marks", 16, "judge_code")
    assert "chief judge" in error.message_en
    assert set(model_counts().values()) == {0}


def test_marks_without_judge_need_an_importing_organiser(tmp_path):
    path = write(tmp_path / "min.xlsx")
    report = import_workbook(path, "final")  # nobody named
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("marks", 2, "judge_code")]
    assert "--user" in report.errors[0].message_en  # the service needs an actor
    assert set(model_counts().values()) == {0}

    with pytest.raises(CommandError):
        call_command("import_event", str(path), event="final", user="nobody")
    organiser = factories.organiser()
    call_command("import_event", str(path), event="final", user=organiser.username)
    assert set(LedgerRecord.objects.filter(aspect__kind="M").values_list("actor", flat=True)) == {
        organiser.pk
    }


def test_quotas_hold_in_imports_with_the_lead_pages_rule(tmp_path):
    organiser = factories.organiser()
    assert import_workbook(write(tmp_path / "min.xlsx"), "final", actor=organiser).committed
    skill = Skill.objects.get(code="S1")
    Quota.objects.create(
        skill=skill, delegation=Entry.objects.get(competitor_no="001").delegation, max_entries=1
    )
    entries = [list(r) for r in SHEETS["entries"]] + [["S1", "003", "D1", "王五", "男", None]]
    before = model_counts()
    report = import_workbook(
        write(tmp_path / "q.xlsx", edited(entries=entries)), "final", actor=organiser
    )
    [error] = report.errors
    assert (error.sheet, error.row, error.column) == ("entries", 4, "delegation_code")
    assert "quota is 1" in error.message_en and "名额 1" in error.message_zh
    assert model_counts() == before
    # Within the quota (a second place), the same file imports.
    Quota.objects.filter(skill=skill).update(max_entries=2)
    assert import_workbook(
        write(tmp_path / "q.xlsx", edited(entries=entries)), "final", actor=organiser
    ).committed


def test_the_command_line_records_judgeless_marks_as_its_own_account(tmp_path):
    from django.contrib.auth.models import User

    call_command("import_event", str(write(tmp_path / "min.xlsx")), event="final")
    account = User.objects.get(username="cli-import")
    assert not account.is_active and not account.has_usable_password()  # cannot sign in
    actors = set(LedgerRecord.objects.filter(aspect__kind="M").values_list("actor", flat=True))
    assert actors == {account.pk}
