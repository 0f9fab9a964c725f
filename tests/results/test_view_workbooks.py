"""Result workbooks: (a) a lead's own delegation, in the response; (b) the
full published rankings, by a Celery job with a polling page. Opened back
with openpyxl: cell types, number formats, frozen panes, print titles,
column widths, and nothing unpublished."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from files import services as file_services
from files.models import GeneratedFile
from results import exporters, services, workbooks
from results.models import ExportJob
from scoring.exporters import RankingsExporter

from .builders import U_ATHLETES, world

pytestmark = pytest.mark.django_db

KEYS = [c.key for c in RankingsExporter.columns]
TITLES = [c.title_zh for c in RankingsExporter.columns[:9]]  # the documented keys


@pytest.fixture
def w():
    return world()


def cells_text(wb) -> str:
    return "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
    )


def lead_workbook(client, w, user):
    client.force_login(user)
    r = client.get(reverse("results:lead_workbook", args=[w.event.code]))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert r["Content-Disposition"].startswith("attachment;")
    assert "no-store" in r["Cache-Control"]
    return load_workbook(io.BytesIO(r.content))


def test_delegation_workbook_before_publication_has_status_only(client, w):
    wb = lead_workbook(client, w, w.lead_a)
    assert wb.sheetnames == ["我方成绩", "奖牌榜"]
    ws = wb["我方成绩"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0].startswith("鹤岗市青山代表团")  # caption
    # Chinese header, same columns; the delegation's name after the known ones.
    assert rows[1] == [*TITLES, "赛项名称", "状态", "代表团"]
    body = rows[2:]
    assert [(r[0], r[2]) for r in body] == [("W07", "101"), ("W07", "103"), ("W99", "201")]
    for r in body:
        assert r[1] is None and r[5] is None and r[6] is None  # no rank, no score
        assert r[10] == "已签核"
        assert r[11] == "鹤岗市青山代表团"
    assert "91.25" not in cells_text(wb) and "55.17" not in cells_text(wb)


def test_delegation_workbook_after_publication(client, w):
    w.publish()
    wb = lead_workbook(client, w, w.lead_a)
    ws = wb["我方成绩"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    a1, a2, ua = body
    assert a1[:9] == ["W07", 1, "101", "QXZ", "司马青云", 91.25, 760, "金牌", "技术能手"]
    assert a2[1] == 3 and a2[7] == "铜牌"
    assert isinstance(a1[1], int) and isinstance(a1[5], float)
    assert a1[10] == "已公布"
    assert ua[0] == "W99" and ua[1] is None and ua[5] is None and ua[7] in (None, "")
    assert ua[4] == U_ATHLETES[0]  # own athlete, status only
    text = cells_text(wb)
    assert "55.17" not in text and "97.31" not in text and "HIDC" not in text
    # Never another delegation's entries.
    assert "欧阳晓岚" not in text
    medals = [[c.value for c in row] for row in wb["奖牌榜"].iter_rows(min_row=3)]
    assert [m[:6] for m in medals] == [[1, "QXZ", 1, 0, 1, 0], [2, "WVK", 0, 1, 0, 0]]
    assert medals[0][6] == "鹤岗市青山代表团"  # names beside codes


def test_presentation_details(client, w):
    w.publish()
    wb = lead_workbook(client, w, w.lead_a)
    ws = wb["我方成绩"]
    assert ws.freeze_panes == "A3"
    assert ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    widths = {k: ws.column_dimensions[k].width for k in "ABCDEFGHIJK"}
    assert all(v and v >= 6 for v in widths.values())
    assert widths["E"] == 27  # names: the column's own width (24) + padding
    header = next(iter(ws.iter_rows(min_row=2, max_row=2)))
    assert header[0].font.b and header[0].fill.fgColor.rgb.endswith("1F4E79")
    first = next(iter(ws.iter_rows(min_row=3, max_row=3)))
    assert first[5].number_format == "0.00" and first[1].number_format == "0"
    assert first[6].number_format == "0"
    # Text stays text (a string cell); the "@" format is left out of presentations.
    assert first[2].value == "101" and first[2].data_type == "s"


def test_delegation_workbook_needs_a_lead(client, w):
    url = reverse("results:lead_workbook", args=[w.event.code])
    assert client.get(url).status_code == 302
    client.force_login(w.organiser)
    assert client.get(url).status_code == 403


def run_rankings_job(client, w, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("results:rankings_export", args=[w.event.code]))
    assert r.status_code == 302
    job = ExportJob.objects.get()
    assert r["Location"] == reverse("results:export_job", args=[job.pk]) + "?start=1"
    return job


def test_full_rankings_job_polling_and_download(client, w, django_capture_on_commit_callbacks):
    w.publish()
    job = run_rankings_job(client, w, w.lead_b, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.percent == 100
    assert job.generated.total == 1 and job.generated.done == 1
    page = client.get(reverse("results:export_job", args=[job.pk]) + "?start=1")
    assert b"data-auto-download" in page.content  # the page ends in the download
    status_url = reverse("files:status", args=[job.generated_id])
    status = client.get(status_url, HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in status.content  # finished: polling stops
    r = client.get(reverse("files:download", args=[job.generated_id]))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["汇总", "奖牌榜", "W07 砌筑"]
    ws = wb["W07 砌筑"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[1] == [*TITLES, "代表团"]
    assert [r[2] for r in rows[2:]] == ["101", "102", "103", "104"]
    assert rows[2][:9] == ["W07", 1, "101", "QXZ", "司马青云", 91.25, 760, "金牌", "技术能手"]
    assert rows[2][9] == "鹤岗市青山代表团"  # the name beside the code
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$1:$2"
    assert ws.auto_filter.ref == f"A2:J{len(rows)}"  # a filter on the header row
    summary = [[c.value for c in row] for row in wb["汇总"].iter_rows(min_row=3)]
    assert summary[0][:6] == ["W07", "砌筑", 1, 4, 4, 91.25]
    assert summary[0][6:10] == [1, 1, 1, 0] and summary[0][13] == 3
    assert isinstance(summary[0][14], dt.datetime)
    for secret in w.secrets:
        assert secret not in cells_text(wb)


def test_bulk_award_columns_equal_the_awards_apps(w):
    from awards import awarding
    from awards.models import AwardSettings

    AwardSettings.objects.create(programme=w.event.programme, skill=w.hidden, title_name="特别能手")
    expected = {**awarding.award_columns(w.skill), **awarding.award_columns(w.hidden)}
    assert services.award_columns_for([w.skill, w.hidden]) == expected
    assert expected[w.entries["uc"].pk] == ("金牌", "特别能手")


def test_rows_match_export_results(client, w):
    """One definition: a skill's sheet holds exactly export_results' rows."""
    from awards import awarding

    w.publish()
    reference = [
        tuple(row)
        for row in RankingsExporter(w.event, awards=awarding.award_columns(w.skill)).rows()
        if row[0] == w.skill.code
    ]
    sheets = exporters.rankings_sheets(w.event)
    ours = [tuple(row) for row in sheets[2].rows()]
    assert ours == reference
    assert sheets[2].columns == RankingsExporter.columns
    assert ours[0][5] == Decimal("91.25")


def test_job_reused_until_publication_changes(client, w, django_capture_on_commit_callbacks):
    w.publish()
    job = run_rankings_job(client, w, w.organiser, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("results:rankings_export", args=[w.event.code]))
    assert ExportJob.objects.count() == 1
    assert ExportJob.objects.get().pk == job.pk


def test_download_only_for_requester_and_organisers(client, w, django_capture_on_commit_callbacks):
    w.publish()
    job = run_rankings_job(client, w, w.lead_a, django_capture_on_commit_callbacks)
    url = reverse("files:download", args=[job.generated_id])
    client.force_login(w.lead_b)
    assert client.get(url).status_code == 404
    client.force_login(w.organiser)
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_expired_file_is_gone(client, w, django_capture_on_commit_callbacks):
    w.publish()
    job = run_rankings_job(client, w, w.lead_a, django_capture_on_commit_callbacks)
    GeneratedFile.objects.filter(pk=job.generated_id).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(reverse("files:download", args=[job.generated_id])).status_code == 410
    name = GeneratedFile.objects.get(pk=job.generated_id).file.name
    assert file_services.purge_expired() == 1
    from django.core.files.storage import default_storage

    assert not default_storage.exists(name) and not ExportJob.objects.exists()


def test_failed_job_says_so(client, w, monkeypatch, django_capture_on_commit_callbacks):
    from results import tasks

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbooks, "write_rankings_workbook", boom)
    client.force_login(w.organiser)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("results:rankings_export", args=[w.event.code]))
    job = ExportJob.objects.get()
    # The last delivery (retries exhausted) records the failure for the page.
    with pytest.raises(RuntimeError):  # eager tasks propagate (settings)
        tasks.build_export.apply(args=[job.pk], retries=tasks.build_export.max_retries)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "disk full" in job.generated.error
    page = client.get(reverse("results:export_job", args=[job.pk]))
    assert "生成失败".encode() in page.content
    assert b"hx-trigger" not in page.content


def test_a_retried_export_leaves_one_file(
    client, w, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The task writes into the job's GeneratedFile row: a failed first try
    and its retry, or a redelivery of a job already written, leave one row
    and one stored workbook."""
    from pathlib import Path

    from celery.exceptions import Retry

    from results import tasks

    w.publish()
    real = workbooks.write_rankings_workbook
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker lost its database for a moment")
        return real(*args, **kwargs)

    monkeypatch.setattr(workbooks, "write_rankings_workbook", flaky)
    client.force_login(w.organiser)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("results:rankings_export", args=[w.event.code]))
    job = ExportJob.objects.get()
    with pytest.raises(Retry):  # the first try fails and asks for a retry
        tasks.build_export.apply(args=[job.pk])
    assert GeneratedFile.objects.get().status == GeneratedFile.Status.RUNNING
    tasks.build_export.apply(args=[job.pk], retries=1)  # the retry's delivery
    job.refresh_from_db()
    assert len(calls) == 2 and job.status == ExportJob.Status.DONE

    # Redelivered while the row still said "running": written again, in place.
    GeneratedFile.objects.filter(pk=job.generated_id).update(status=GeneratedFile.Status.RUNNING)
    tasks.build_export.apply(args=[job.pk])
    assert len(calls) == 3
    assert ExportJob.objects.count() == 1 and GeneratedFile.objects.count() == 1
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*.xlsx")]
    assert stored == [Path(settings.MEDIA_ROOT) / GeneratedFile.objects.get().file.name]
