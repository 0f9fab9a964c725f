"""No formula from user text: a name such as =HYPERLINK("http://x","点我") goes
out of every exporter as text (an xlsx string cell, a CSV cell with a leading
apostrophe), and comes back in as that same text — also from a workbook where
somebody typed it into Excel as a real formula."""

from __future__ import annotations

import csv
import io

import pytest
import tablib
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from competitions.models import Event
from interchange.cis.reader import read_scheme
from interchange.cis.workbook import load_scheme_workbook
from interchange.cis.writer import export_workbook
from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.writer import build_workbook
from portal import spreadsheet_formats
from portal.exporters import Column, Presentation, SheetExporter, csv_text, write_workbook
from results import exporters as result_exporters
from scoring.models import Aspect, Criterion
from teams.admin import DelegationAdmin
from teams.models import Athlete, Delegation
from teams.resources import DelegationResource
from tests import factories as f
from tests.interchange.test_workbook_import import sample, write_book
from tests.results.builders import world
from tests.scoring.builders import scheme_skill

EVIL = '=HYPERLINK("http://x","点我")'
EVIL_TOO = "+1+cmd|' /C calc'!A0"
pytestmark = pytest.mark.django_db


def cells(book) -> list:
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def assert_no_formula_and_found(book, *texts: str) -> None:
    """Every cell holding one of ``texts`` is a plain string cell, every text
    is there, and no cell of the workbook is a formula."""
    every = cells(book)
    assert [c.coordinate for c in every if c.data_type == "f"] == []
    for text in texts:
        found = [c for c in every if c.value == text]
        assert found, f"{text!r} is missing"
        assert {c.data_type for c in found} == {"s"}


def test_sheet_exporter_writes_text_as_strings_in_both_layouts(tmp_path):
    class Names(SheetExporter):
        sheet_name = "names"
        columns = (Column("name", "姓名"), Column("code", "代码", "@"))
        caption = EVIL

        def rows(self):
            yield (EVIL, EVIL)
            yield ("=1+2", 3)

    for presentation in (None, Presentation(header=("titles", "keys"))):
        out = tmp_path / "n.xlsx"
        write_workbook([Names()], out, presentation=presentation)
        book = load_workbook(out)
        assert_no_formula_and_found(book, EVIL, "=1+2")


def test_results_workbooks_lead_and_full_rankings(tmp_path, client):
    w = world()
    Athlete.objects.filter(name="司马青云").update(name=EVIL)
    Delegation.objects.filter(pk=w.del_a.pk).update(name=EVIL_TOO)
    w.publish()
    # (a) the lead's workbook, as downloaded
    client.force_login(w.lead_a)
    r = client.get(reverse("results:lead_workbook", args=[w.event.code]))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert_no_formula_and_found(book, EVIL, EVIL_TOO)
    # (b) the full rankings (the job writes exactly these sheets)
    out = tmp_path / "full.xlsx"
    write_workbook(result_exporters.rankings_sheets(w.event), out, presentation=Presentation())
    assert_no_formula_and_found(load_workbook(out), EVIL, EVIL_TOO)


def test_export_results_command(tmp_path):
    w = world()
    Athlete.objects.filter(name="司马青云").update(name=EVIL)
    Delegation.objects.filter(pk=w.del_a.pk).update(name=EVIL_TOO)
    out = tmp_path / "r.xlsx"
    call_command("export_results", "--event", w.event.code, "--output", str(out))
    assert_no_formula_and_found(load_workbook(out), EVIL, EVIL_TOO)


def test_event_workbook_export_and_reimport(tmp_path):
    assert import_workbook(write_book(tmp_path / "in.xlsx", sample()), "ev").committed
    Athlete.objects.filter(name="张三").update(name=EVIL)
    Delegation.objects.filter(code="D01").update(name=EVIL_TOO)
    out = tmp_path / "out.xlsx"
    build_workbook(Event.objects.get(code="ev")).save(out)
    assert_no_formula_and_found(load_workbook(out), EVIL, EVIL_TOO)

    report = import_workbook(out, "ev")
    assert report.errors == []
    assert report.counts()["entries"]["unchanged"] == 4  # read back as the same text
    assert report.counts()["delegations"]["unchanged"] == 2


def test_event_workbook_reads_a_typed_formula_as_its_text(tmp_path):
    """A name typed into Excel as a formula (a formula cell, no cached value)
    is imported as its text, not as an empty cell."""
    path = write_book(tmp_path / "in.xlsx", sample())
    book = load_workbook(path)
    ws = book["entries"]
    name_col = [c.value for c in ws[1]].index("name") + 1
    ws.cell(2, name_col).value = EVIL  # openpyxl: a formula cell
    assert ws.cell(2, name_col).data_type == "f"
    book.save(path)

    report = import_workbook(path, "ev")
    assert report.errors == []
    assert Athlete.objects.filter(name=EVIL).count() == 1


def test_marking_scheme_export_both_formats_and_reimport(tmp_path):
    s = scheme_skill()
    Aspect.objects.filter(pk=s.m_aspects[0].pk).update(description=EVIL)
    Criterion.objects.filter(skill=s.skill).update(name=EVIL_TOO)
    for fmt in ("aspects", "cis"):
        out = tmp_path / f"{fmt}.xlsx"
        export_workbook(s.skill, fmt).save(out)
        book = load_workbook(out)
        formulas = [c.value for c in cells(book) if c.data_type == "f"]
        # The CIS layout's own totals stay formulas; nothing else is one.
        assert all(v.startswith(("=SUM(", "=ABS(")) for v in formulas), formulas
        for text in (EVIL, EVIL_TOO):
            found = [c for c in cells(book) if c.value == text]
            assert found and {c.data_type for c in found} == {"s"}
        data = read_scheme(load_scheme_workbook(out), s.skill.code)
        assert not data.errors, data.errors
        assert EVIL in [a.description for a in data.aspects()]
        assert {c.name for c in data.criteria} == {EVIL_TOO}


def test_admin_offers_only_safe_formats():
    admin = DelegationAdmin(Delegation, None)
    assert admin.get_export_formats() == [spreadsheet_formats.CSV, spreadsheet_formats.XLSX]
    # Imports: the same safe formats, bounded like every upload (docs/uploads.md).
    imports = admin.get_import_formats()
    assert [f.__name__ for f in imports] == ["BoundedCSV", "BoundedXLSX"]
    assert issubclass(imports[0], spreadsheet_formats.CSV)
    assert issubclass(imports[1], spreadsheet_formats.XLSX)


def test_admin_xlsx_and_csv_exports_and_reimports():
    Delegation.objects.create(code="D01", name=EVIL)
    Delegation.objects.create(code="D02", name=EVIL_TOO)
    Delegation.objects.create(code="D03", name="-5")  # a plain number stays as it is
    data = DelegationResource().export(Delegation.objects.order_by("code"))

    xlsx = spreadsheet_formats.XLSX()
    book = load_workbook(io.BytesIO(xlsx.export_data(data)))
    assert_no_formula_and_found(book, EVIL, EVIL_TOO)
    again = xlsx.create_dataset(xlsx.export_data(data))
    assert [r[1] for r in again] == [EVIL, EVIL_TOO, "-5"]

    text = spreadsheet_formats.CSV().export_data(data)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "'" + EVIL and rows[2][1] == "'" + EVIL_TOO and rows[3][1] == "-5"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)
    back = spreadsheet_formats.CSV().create_dataset(text)
    assert [r[1] for r in back] == [EVIL, EVIL_TOO, "-5"]
    result = DelegationResource().import_data(back, dry_run=False)
    assert result.totals["skip"] == 3  # the same values: nothing changes


def test_admin_export_view_downloads_safe_xlsx(client):
    Delegation.objects.create(code="D01", name=EVIL)
    client.force_login(f.organiser())
    url = reverse("admin:teams_delegation_export")
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if label == "xlsx")
    data = {"format": index, "resource": 0}
    data.update({name: True for name in form.fields if name.startswith("delegationresource_")})
    r = client.post(url, data)
    assert r.status_code == 200, r.content[:500]
    assert_no_formula_and_found(load_workbook(io.BytesIO(r.content)), EVIL)


def test_a_typed_formula_in_an_admin_xlsx_import_reads_as_text():
    book = Workbook()
    ws = book.active
    ws.append(["code", "name"])
    ws.append(["D01", EVIL])  # a real formula cell
    buf = io.BytesIO()
    book.save(buf)
    data = spreadsheet_formats.XLSX().create_dataset(buf.getvalue())
    assert list(data[0]) == ["D01", EVIL]
    assert isinstance(data, tablib.Dataset)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        (EVIL, "'" + EVIL),
        ("@SUM(1)", "'@SUM(1)"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("-5", "-5"),
        ("+3.5", "+3.5"),
        ("张三", "张三"),
        (7, 7),
    ],
)
def test_csv_text(value, safe):
    assert csv_text(value) == safe
