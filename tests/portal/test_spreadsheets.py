"""Hostile spreadsheet uploads are refused fast, with the sheet named, and
nothing is written (the bounds are set low here; the benchmark
``python -m benchmarks hostile`` measures full-size files)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from appeals.services import AppealRefused, check_attachment
from competitions.models import Event, ImportJob
from interchange.cis.data import SchemeImportError
from interchange.cis.reader import read_scheme
from interchange.cis.workbook import load_scheme_workbook
from interchange.event_workbook.importer import import_workbook
from portal import spreadsheets
from teams.models import Athlete, Delegation
from tests import factories
from tests.interchange.test_workbook_import import sample, write_book
from tests.interchange.test_workbook_scoring import model_counts

FAST = 5.0  # seconds: a refusal comes within seconds


def rewrite_part(path: Path, part: str, change) -> Path:
    """Rewrite one part of an .xlsx (``change(bytes) -> bytes``)."""
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def sheet_part(path: Path, title: str) -> str:
    """The zip part of the sheet called ``title`` (openpyxl numbers them in order)."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
    titles = re.findall(r'<sheet [^>]*name="([^"]+)"', workbook)
    return f"xl/worksheets/sheet{titles.index(title) + 1}.xml"


def declare_dimension(path: Path, title: str, ref: str) -> Path:
    def change(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), xml)

    return rewrite_part(path, sheet_part(path, title), change)


def drop_dimension(path: Path, title: str) -> Path:
    return rewrite_part(
        path, sheet_part(path, title), lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml)
    )


def refused(path_or_file, event="ev"):
    started = time.perf_counter()
    report = import_workbook(path_or_file, event)
    elapsed = time.perf_counter() - started
    assert not report.committed
    assert elapsed < FAST
    return report


@pytest.mark.django_db
def test_a_sheet_declaring_a1_to_xfd1048576_is_refused_at_once(tmp_path):
    path = declare_dimension(write_book(tmp_path / "d.xlsx", sample()), "entries", "A1:XFD1048576")
    report = refused(path)
    [error] = report.errors
    assert error.sheet == "entries"
    assert "A1:XFD1048576" in error.message_en and "16384" in error.message_en
    assert "A1:XFD1048576" in error.message_zh and "列" in error.message_zh
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path):
    path = write_book(tmp_path / "bomb.xlsx", sample())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/bomb.xml", b"0" * (16 * 1024 * 1024))  # 16 MB → ~16 KB
    assert path.stat().st_size < 100_000
    report = refused(path)
    [error] = report.errors
    assert "xl/media/bomb.xml" in error.message_en and "zip bomb" in error.message_en
    assert "压缩炸弹" in error.message_zh
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_a_part_too_large_unpacked_is_refused(tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_PART_BYTES = 12_000  # the theme part is ~8 KB
    settings.PORTAL_SPREADSHEET_MAX_STRINGS_BYTES = 100_000
    sheets = sample()
    sheets["entries"] *= 60  # (the rows would be wrong anyway: never looked at)
    path = write_book(tmp_path / "big.xlsx", sheets)
    report = refused(path)
    assert "xl/worksheets/sheet3.xml" in report.errors[0].message_en
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_too_many_cells_in_a_sheet_are_refused_naming_it(tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_CELLS = 1000
    sheets = sample()
    sheets["judges"] = [[f"J{i:03}", "裁判", "D01", "S01", "judge"] for i in range(300)]
    report = refused(write_book(tmp_path / "cells.xlsx", sheets))
    [error] = report.errors
    assert error.sheet == "judges"
    assert "more than 1000 cells" in error.message_en
    assert "1000" in error.message_zh and "单元格" in error.message_zh
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_rows_past_the_bound_are_refused_declared_or_not(tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_ROWS = 30
    sheets = sample()
    sheets["judges"] = [[f"J{i:03}", "裁判", "D01", "S01", "judge"] for i in range(40)]
    declared = refused(write_book(tmp_path / "rows.xlsx", sheets))
    assert declared.errors[0].sheet == "judges"
    assert "30 rows" in declared.errors[0].message_en
    # Without a dimension the reader stops at the first row past the bound.
    undeclared = refused(drop_dimension(write_book(tmp_path / "rows2.xlsx", sheets), "judges"))
    [error] = undeclared.errors
    assert (error.sheet, error.row) == ("judges", 31)
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_a_cell_far_to_the_right_is_refused_with_its_column(tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_COLUMNS = 10
    book = Workbook()
    ws = book.active
    ws.title = "delegations"
    ws.append(["code", "name"])
    ws.append(["D01", "南京市"])
    ws.cell(row=2, column=16384, value="x")
    path = tmp_path / "wide.xlsx"
    book.save(path)
    report = refused(drop_dimension(path, "delegations"))
    [error] = report.errors
    assert (error.sheet, error.row) == ("delegations", 2)
    assert "XFD" in error.message_en
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_a_file_larger_than_allowed_is_refused(tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_FILE_BYTES = 1000
    report = refused(write_book(tmp_path / "f.xlsx", sample()))
    assert "MB" in report.errors[0].message_en
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    report = refused(path)
    assert report.errors[0].message_en == "The file is not a readable .xlsx workbook."


@pytest.mark.django_db
def test_a_formula_cell_is_read_as_its_text(tmp_path):
    sheets = sample()
    sheets["entries"][1][3] = '=HYPERLINK("http://example.com","点我")'
    report = import_workbook(write_book(tmp_path / "f.xlsx", sheets), "ev")
    assert report.committed, report.errors
    assert Athlete.objects.filter(name='=HYPERLINK("http://example.com","点我")').exists()


def test_formula_text_is_text_that_remembers_it_was_a_formula(tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["=SUM(1,2)", "plain"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    with spreadsheets.open_workbook(path) as opened:
        [row] = list(opened.worksheets[0].iter_rows())
    assert row == ("=SUM(1,2)", "plain")
    assert spreadsheets.is_formula(row[0]) and not spreadsheets.is_formula(row[1])


@pytest.mark.django_db
def test_a_hostile_marking_scheme_is_refused_naming_the_sheet(tmp_path):
    book = Workbook()
    book.active.title = "aspects"
    book.active.append(["skill_code", "criterion"])
    path = tmp_path / "scheme.xlsx"
    book.save(path)
    declare_dimension(path, "aspects", "A1:XFD1048576")
    started = time.perf_counter()
    with pytest.raises(SchemeImportError) as caught:
        read_scheme(load_scheme_workbook(path))
    assert time.perf_counter() - started < FAST
    assert caught.value.problems[0].sheet == "aspects"


def test_a_docx_zip_bomb_is_not_accepted_as_an_appeal_attachment():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<w:document/>")
        z.writestr("word/bomb.xml", b"0" * (16 * 1024 * 1024))
    upload = SimpleUploadedFile("evidence.docx", buffer.getvalue())
    with pytest.raises(AppealRefused):
        check_attachment(upload)


@pytest.mark.django_db
def test_the_page_refuses_a_zip_bomb_in_the_request_and_queues_nothing(client, tmp_path):
    client.force_login(factories.organiser())
    path = write_book(tmp_path / "bomb.xlsx", sample())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/bomb.xml", b"0" * (16 * 1024 * 1024))
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": SimpleUploadedFile("bomb.xlsx", path.read_bytes())},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "压缩炸弹" in html and "zip bomb" in html
    assert not ImportJob.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_the_page_refuses_a_declared_dimension_in_the_request(client, tmp_path):
    client.force_login(factories.organiser())
    path = declare_dimension(write_book(tmp_path / "d.xlsx", sample()), "skills", "A1:XFD1048576")
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": SimpleUploadedFile("d.xlsx", path.read_bytes())},
    )
    html = response.content.decode()
    assert "<td>skills</td>" in html and "A1:XFD1048576" in html
    assert not ImportJob.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_the_job_page_shows_a_sheet_refused_while_read(client, tmp_path, settings):
    settings.PORTAL_SPREADSHEET_MAX_COLUMNS = 10
    client.force_login(factories.organiser())
    path = write_book(tmp_path / "w.xlsx", sample())
    book = load_workbook(path)
    book["skills"].cell(row=3, column=16384, value="x")
    book.save(path)
    drop_dimension(path, "skills")
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": SimpleUploadedFile("w.xlsx", path.read_bytes())},
        follow=True,
    )
    job = response.context["job"]
    assert job.status == ImportJob.Status.REFUSED
    html = response.content.decode()
    assert "<td>skills</td><td>3</td>" in html and "XFD" in html
    assert not Event.objects.exists()
    # The polled box is the same, and stops polling once finished.
    box = client.get(reverse("interchange:import_job_progress", args=[job.pk]))
    assert "XFD" in box.content.decode()
    assert "hx-trigger" not in box.content.decode()


def admin_import(client, path: Path, fmt: int = 1):
    with open(path, "rb") as f:
        return client.post(
            reverse("admin:teams_delegation_import"),
            {"resource": 0, "format": fmt, "import_file": f},
        )


@pytest.mark.django_db
def test_the_admin_import_button_reads_xlsx_within_the_bounds(client, tmp_path):
    client.force_login(factories.organiser())
    book = Workbook()
    book.active.append(["code", "name"])
    book.active.append(["D07", "常州市"])
    good = tmp_path / "delegations.xlsx"
    book.save(good)
    response = admin_import(client, good)
    assert response.status_code == 200
    assert "D07" in response.content.decode()  # the preview lists the row

    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    declare_dimension(bad, "Sheet", "A1:XFD1048576")
    started = time.perf_counter()
    response = admin_import(client, bad)
    assert time.perf_counter() - started < FAST
    html = response.content.decode()
    # The reason, in both languages, naming the sheet and the declared range.
    assert "Sheet" in html and "A1:XFD1048576" in html
    assert "最多接受" in html and "at most" in html
    assert "UploadRefused" not in html
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("prefix", [b"", b"x:"])
def test_cells_are_counted_exactly_across_chunks(prefix):
    ns = b' xmlns:x="m"' if prefix else b' xmlns="m"'
    row = b'<%srow><%sc r="A1"><%sv>1</%sv></%sc><%sc/></%srow>' % ((prefix,) * 7)
    head = b"<%sworksheet%s><%ssheetData>" % (prefix, ns, prefix)
    body = row * 100_000  # 200,000 cells, ~5 MB: crosses the 4 MB chunks
    stream = io.BytesIO(body + b"</%ssheetData></%sworksheet>" % (prefix, prefix))
    assert spreadsheets._count_cells(stream, 10**9, head) == 200_000
    stream.seek(0)
    assert spreadsheets._count_cells(stream, 1000, head) > 1000  # stops early
