"""Pages: verification, downloads and who may have them, medal table,
certificate batches, layout editor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from awards import issuing, layouts
from awards.models import Certificate, CertificateBatch
from files.models import GeneratedFile
from tests import factories as f

from .conftest import publish_all
from .test_certificates import award_world, run_batch


@pytest.fixture
def produced(world, django_capture_on_commit_callbacks):
    """An event whose four certificates are generated; a lead for NJ and SZ."""
    skill, entries = award_world(world, names=["欧阳淑珺", "李四", "王五", "赵六"])
    nj, sz, _wx = world["dels"]
    world["athlete"] = entries[0].members.first().athlete
    world["athlete"].id_number = "11010519491231002X"
    world["athlete"].save()
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    world.update(
        skill=skill,
        entries=entries,
        batch=batch,
        cert=Certificate.objects.get(entry=entries[0]),
        lead_nj=f.lead(nj),
        lead_sz=f.lead(sz),
        organiser=f.organiser(),
    )
    return world


# ------------------------------------------------------------ verification


def test_verify_known_serial_shows_name_skill_award_event_only(client, produced):
    publish_all(produced["event"], produced["organiser"])
    cert = produced["cert"]
    r = client.get(f"/verify/{cert.serial}/")
    assert r.status_code == 200
    html = r.content.decode()
    for shown in ("欧阳淑珺", "砌筑", "金牌", "2026年江苏省职业技能大赛决赛"):
        assert shown in html
    for hidden in (
        "南京市代表团",  # delegation
        "11010519491231002X",  # ID number
        produced["entries"][0].competitor_no,
        "江苏省人力资源和社会保障厅",
    ):
        assert hidden not in html, hidden


def test_verify_unknown_and_revoked(client, produced):
    r = client.get("/verify/NOPE-2026-000999/")
    assert r.status_code == 404
    assert "没有" in r.content.decode() or "No certificate" in r.content.decode()
    publish_all(produced["event"], produced["organiser"])
    cert = produced["cert"]
    issuing.revoke_certificate(cert, "test")
    r = client.get(f"/verify/{cert.serial}/")
    assert r.status_code == 410
    html = r.content.decode()
    assert "欧阳淑珺" not in html and "金牌" not in html
    assert "撤销" in html or "revoked" in html


def test_verify_url_is_the_root_level_path(produced):
    assert reverse("awards:verify", args=["X-1"]) == "/verify/X-1/"


# ------------------------------------------------------------ downloads


@pytest.mark.usefixtures("cjk_fonts")
def test_certificate_pdf_download_permissions(client, produced, monkeypatch):
    url = reverse("awards:certificate_pdf", args=[produced["cert"].serial])
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(produced["lead_sz"])  # another delegation
    assert client.get(url).status_code == 403
    client.force_login(produced["lead_nj"])  # own delegation, results not published
    assert client.get(url).status_code == 403
    publish_all(produced["event"], produced["organiser"])
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert b"".join(r.streaming_content)[:5] == b"%PDF-"
    client.force_login(produced["organiser"])
    assert client.get(url).status_code == 200


@pytest.mark.usefixtures("cjk_fonts")
def test_zip_downloads_permissions(client, produced, monkeypatch):
    batch = produced["batch"]
    full = reverse("files:download", args=[batch.archive_id])
    nj = batch.delegation_zips.get(delegation__code="NJ")
    nj_zip = reverse("files:download", args=[nj.generated_id])
    assert client.get(full).status_code == 302
    assert client.get(nj_zip).status_code == 302
    publish_all(produced["event"], produced["organiser"])
    # A file somebody may not have answers as one that does not exist (404).
    client.force_login(produced["lead_sz"])
    assert client.get(full).status_code == 404
    assert client.get(nj_zip).status_code == 404  # another delegation's lead
    client.force_login(produced["lead_nj"])
    assert client.get(full).status_code == 404  # leads get their own zip only
    r = client.get(nj_zip)
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert "private" in r["Cache-Control"]
    client.force_login(produced["organiser"])
    assert client.get(full).status_code == 200


def test_expired_zip_is_gone(client, produced):
    import datetime as dt

    from django.utils import timezone

    batch = produced["batch"]
    GeneratedFile.objects.filter(pk=batch.archive_id).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    client.force_login(produced["organiser"])
    assert client.get(reverse("files:download", args=[batch.archive_id])).status_code == 410


def test_lead_certificates_page(client, produced, monkeypatch):
    url = reverse("awards:lead_certificates", args=[produced["event"].code])
    client.force_login(produced["lead_nj"])
    assert client.get(url).status_code == 403  # not published yet
    publish_all(produced["event"], produced["organiser"])
    html = client.get(url).content.decode()
    assert "欧阳淑珺" in html and "李四" not in html  # 李四 is SZ's


# ------------------------------------------------------------ organiser pages


def test_medal_table_page_organisers_only_for_now(client, produced):
    url = reverse("awards:medal_table", args=[produced["event"].code])
    client.force_login(produced["lead_nj"])
    assert client.get(url).status_code == 403
    client.force_login(produced["organiser"])
    r = client.get(url)
    assert r.status_code == 200
    html = r.content.decode()
    assert "南京市代表团" in html and "medal-lanes" in html and "砌筑" in html
    r = client.post(url)  # recompute on demand (eager here)
    assert r.status_code == 302
    prog = reverse("awards:programme_medal_table", args=[produced["programme"].code])
    assert client.get(prog).status_code == 200


@pytest.mark.usefixtures("cjk_fonts")
def test_certificates_page_starts_a_batch_and_reports_progress(
    client, produced, django_capture_on_commit_callbacks
):
    url = reverse("awards:certificates", args=[produced["event"].code])
    client.force_login(produced["lead_nj"])
    assert client.get(url).status_code == 403
    client.force_login(produced["organiser"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url)
    assert r.status_code == 302
    batch = CertificateBatch.objects.order_by("-pk").first()
    assert f"batch={batch.pk}" in r["Location"]
    page = client.get(r["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span id="batch-done">4</span> / <span id="batch-total">4</span>' in html
    # The progress partial of the files app, as for a results workbook.
    status = client.get(reverse("files:status", args=[batch.archive_id]), HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and b"hx-trigger" not in status.content  # finished
    download = reverse("files:download", args=[batch.archive_id])
    assert f'data-auto-download="{download}"' in status.content.decode()
    assert client.get(download).status_code == 200


@pytest.mark.usefixtures("cjk_fonts")
def test_layout_editor_saves_bumps_version_and_previews(client, produced):
    from PIL import Image

    programme = produced["programme"]
    url = reverse("awards:layout_editor", args=[programme.code])
    client.force_login(produced["lead_nj"])
    assert client.get(url).status_code == 403
    client.force_login(produced["organiser"])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: ("on" if v is True else v) for k, v in form.initial.items() if v is not None}
    for name, field in form.fields.items():
        if "__" in name:
            data[name] = field.initial
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    version = layouts.layout_for(programme).version
    assert client.post(url, data).status_code == 302
    assert layouts.layout_for(programme).version == version  # nothing changed
    data["award__size"] = 52
    preview = client.post(reverse("awards:layout_preview", args=[programme.code]), data)
    assert preview.status_code == 200, preview.content
    assert preview["Content-Type"] == "image/png"
    assert layouts.layout_for(programme).version == version  # preview saves nothing
    assert client.post(url, data).status_code == 302
    layout = layouts.layout_for(programme)
    assert layout.version == version + 1
    assert layout.fields["award"]["size"] == 52
    # a background image upload is normalised to a JPEG of the page's proportions
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "#f5e6c8").save(buf, "PNG")
    data["background"] = SimpleUploadedFile("bg.png", buf.getvalue(), "image/png")
    assert client.post(url, data).status_code == 302
    layout.refresh_from_db()
    assert layout.version == version + 2 and layout.background_render.name.endswith(".jpg")
    png = client.get(reverse("awards:layout_preview", args=[programme.code]))
    assert png.status_code == 200
    img = Image.open(io.BytesIO(png.content))
    assert img.width > img.height  # A4 landscape
