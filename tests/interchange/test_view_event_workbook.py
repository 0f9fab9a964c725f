"""The organisers' event workbook page: upload, result, downloads, access."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from competitions.models import Event
from teams.models import Entry
from tests import factories
from tests.interchange.test_workbook_import import model_counts, sample, write_book

pytestmark = pytest.mark.django_db


def upload(tmp_path, sheets, name="ev.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, write_book(tmp_path / name, sheets).read_bytes())


def test_organiser_uploads_a_workbook_and_sees_the_summary(client, tmp_path):
    client.force_login(factories.organiser())
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": upload(tmp_path, sample())},
        follow=True,
    )
    assert response.status_code == 200
    job = response.context["job"]
    assert response.redirect_chain == [(reverse("interchange:import_job", args=[job.pk]), 302)]
    html = response.content.decode()
    assert "赛事 final 导入完成" in html
    assert reverse("interchange:event_workbook_export", args=["final"]) in html
    assert response.context["report"].sheets["entries"].created == 4
    assert Entry.objects.filter(skill__event__code="final").count() == 3


def test_organiser_sees_every_problem_and_nothing_is_written(client, tmp_path):
    client.force_login(factories.organiser())
    sheets = sample()
    sheets["entries"][0][2] = "D09"
    sheets["skills"][1][2] = "two"
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": upload(tmp_path, sheets)},
        follow=True,
    )
    html = response.content.decode()
    assert "发现 2 个问题，未写入任何数据。" in html
    assert "Unknown delegation code D09" in html and "未知的代表团代码 D09" in html
    assert "<td>entries</td><td>2</td><td>delegation_code (C)</td>" in html
    assert "<td>skills</td><td>3</td><td>team_size (C)</td>" in html
    assert set(model_counts().values()) == {0}
    assert not Event.objects.exists()


def test_upload_must_be_an_xlsx(client):
    client.force_login(factories.organiser())
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": SimpleUploadedFile("ev.csv", b"code,name")},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["请上传 .xlsx 工作簿。"]
    assert response.context["report"] is None


def test_organiser_downloads_the_template_and_the_event_workbook(client, tmp_path):
    client.force_login(factories.organiser())
    response = client.get(reverse("interchange:event_workbook_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book["delegations"]["A2"].value == "code"

    client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": upload(tmp_path, sample())},
    )
    response = client.get(reverse("interchange:event_workbook_export", args=["final"]))
    assert response.status_code == 200
    assert 'filename="final.xlsx"' in response["Content-Disposition"]
    assert load_workbook(BytesIO(response.content))["entries"]["D2"].value == "张三"
    missing = client.get(reverse("interchange:event_workbook_export", args=["nope"]))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("interchange:event_workbook", []),
        ("interchange:event_workbook_template", []),
        ("interchange:event_workbook_export", ["final"]),
    ],
)
def test_other_roles_are_refused_and_anonymous_users_sent_to_login(client, url_name, args):
    factories.event(code="final")
    url = reverse(url_name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    for user in (factories.lead(), factories.judge().user, factories.user()):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_non_organiser_upload_writes_nothing(client, tmp_path):
    client.force_login(factories.lead())
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": upload(tmp_path, sample())},
    )
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_marks_uploaded_through_the_page_are_the_organisers_in_the_ledger(client, tmp_path):
    from scoring.models import LedgerRecord
    from tests.interchange.test_workbook_scoring import scoring_sample
    from tests.interchange.test_workbook_scoring import write_book as write_scoring_book

    organiser = factories.organiser()
    client.force_login(organiser)
    path = write_scoring_book(tmp_path / "marks.xlsx", scoring_sample())
    response = client.post(
        reverse("interchange:event_workbook"),
        {"event": "final", "file": SimpleUploadedFile("marks.xlsx", path.read_bytes())},
        follow=True,
    )
    assert response.status_code == 200
    writes = LedgerRecord.objects.filter(action=LedgerRecord.Action.WRITE)
    assert writes.exists()
    assert set(writes.values_list("actor", flat=True)) == {organiser.pk}
    assert set(writes.values_list("source", flat=True)) == {"import"}
