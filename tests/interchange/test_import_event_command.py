"""The import_event, export_event and event_template management commands."""

from __future__ import annotations

import pytest
from django.core.management import call_command, execute_from_command_line
from openpyxl import load_workbook

from competitions.models import Event
from tests.interchange.test_workbook_import import model_counts, sample, write_book


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    # run_from_argv closes all connections when a command ends, which would
    # end the test's transaction; the real manage.py process ends anyway.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)


def run(capsys, *argv: str) -> tuple[int | str, str, str]:
    """Run manage.py in-process (same test database); exit status, stdout, stderr."""
    code: int | str = 0
    try:
        execute_from_command_line(["manage.py", *argv])
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.django_db
def test_import_event_prints_a_summary(tmp_path, capsys):
    path = write_book(tmp_path / "ev.xlsx", sample())
    code, out, err = run(capsys, "import_event", str(path), "--event", "final")
    assert code == 0, err
    assert "entries" in out and "4" in out.split("entries")[1].splitlines()[0]
    assert "event final imported / 导入完成" in out
    assert Event.objects.filter(code="final").exists()

    code, out, _err = run(capsys, "import_event", str(path), "--event", "final")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("judges"))
    assert line.split() == ["judges", "0", "0", "4"]


@pytest.mark.django_db
def test_import_event_errors_exit_non_zero_with_a_bilingual_table(tmp_path, capsys):
    sheets = sample()
    sheets["entries"][0][2] = "D09"
    sheets["judges"][3][4] = "boss"
    path = write_book(tmp_path / "bad.xlsx", sheets)

    code, _out, err = run(capsys, "import_event", str(path), "--event", "final")

    assert code == 1
    assert "2 problem(s); nothing was written." in err
    lines = err.splitlines()
    entry_line = next(x for x in lines if x.startswith("entries"))
    assert "row 2" in entry_line and "delegation_code (C)" in entry_line
    assert "未知的代表团代码 D09" in entry_line and "Unknown delegation code D09" in entry_line
    judge_line = next(x for x in lines if x.startswith("judges"))
    assert "row 5" in judge_line and "role (E)" in judge_line
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_import_event_dry_run_writes_nothing(tmp_path, capsys):
    path = write_book(tmp_path / "ev.xlsx", sample())
    code, out, _err = run(capsys, "import_event", str(path), "--event", "final", "--dry-run")
    assert code == 0
    assert "dry run" in out
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_export_event_and_template_commands(tmp_path):
    call_command("import_event", str(write_book(tmp_path / "ev.xlsx", sample())), event="final")
    out = tmp_path / "out.xlsx"
    call_command("export_event", event="final", output=str(out))
    assert load_workbook(out)["entries"].max_row == 5

    template = tmp_path / "template.xlsx"
    call_command("event_template", output=str(template))
    sheet = load_workbook(template)["judges"]
    assert [c.value for c in sheet[2]] == [
        "code", "name", "delegation_code", "skill_code", "role", "delegation_name"
    ]  # fmt: skip
    assert sheet["A1"].value == "裁判编号"
