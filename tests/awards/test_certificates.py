"""Certificate PDFs and batches: embedded CJK font, extractable text,
idempotent re-runs, layout changes, a chunk killed half-way."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from awards import awarding, batches, certificates, issuing, layouts, rendering, tasks, zips
from awards.models import Certificate, CertificateBatch, CertificateChunk
from files import services as file_services
from tests import debian
from tests import factories as f

from .conftest import ranked_entries, sign_off

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Rendering needs a TrueType CJK font; reading the PDF back needs poppler.
needs_fonts = pytest.mark.usefixtures("cjk_fonts")


def award_world(world, *, names=None, ranks=(1, 2, 3, 4), policy="worldskills", team_size=1):
    skill = f.skill(
        event=world["event"], code="W01", name="砌筑", award_policy=policy, team_size=team_size
    )
    entries = ranked_entries(
        skill, list(ranks), world["dels"], scale=[780, 760, 740, 720][: len(ranks)], names=names
    )
    sign_off(skill)
    awarding.compute_awards(skill)
    return skill, entries


def run_batch(event, django_capture_on_commit_callbacks, size=2) -> CertificateBatch:
    """Start a batch and let the (eager) tasks run when the transaction commits."""
    with django_capture_on_commit_callbacks(execute=True):
        batch = tasks.start_batch(event, size=size)
    batch.refresh_from_db()
    return batch


@needs_fonts
def test_certificate_pdf_embeds_cjk_font_and_text_extracts(world, tmp_path):
    debian.require("poppler-utils")
    _skill, entries = award_world(world, names=["欧阳淑珺", "李四", "王五", "赵六"])
    issuing.issue_certificates(world["event"])
    cert = Certificate.objects.get(entry=entries[0])
    layout = layouts.layout_for(world["programme"])
    assert rendering.render_certificate(cert, layout)
    pdf = tmp_path / "c.pdf"
    with default_storage.open(cert.file.name, "rb") as fh:
        pdf.write_bytes(fh.read())
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows, fonts.stdout
    # every font is an embedded TrueType subset (emb = yes), e.g. AAAAAA+UMingCN
    for row in rows:
        assert "TrueType" in row and " yes yes yes " in row, row
    assert any("UMingCN" in r or "UKaiCN" in r or "ZenHei" in r for r in rows)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "欧阳淑珺",
        "金牌",
        "砌筑",
        "南京市代表团",
        "2026年江苏省职业技能大赛",
        "江苏省人力资源和社会保障厅",
        "2026年5月17日",
        cert.serial,
    ):
        assert expected in text, expected
    # One certificate as a picture for people to look at (artifacts/ is git-ignored).
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(ARTIFACTS / "certificate")],
        check=True,
    )
    assert (ARTIFACTS / "certificate.png").stat().st_size > 10_000


def test_qr_code_carries_the_verification_url(world):
    _skill, entries = award_world(world)
    issuing.issue_certificates(world["event"])
    cert = Certificate.objects.get(entry=entries[0])
    data = rendering.certificate_data(cert, layouts.layout_for(world["programme"]))
    assert data.verify_url == f"https://portal.example.org/verify/{cert.serial}/"
    matrix = certificates._qr_modules(data.verify_url)
    assert len(matrix) >= 21  # a real QR symbol (version ≥ 1)


@needs_fonts
def test_printed_qr_code_scans_to_the_verification_url(world, tmp_path):
    """The QR code as printed (the PDF rasterised at a phone-camera-like
    resolution) decodes to the certificate's /verify/ URL."""
    debian.require("poppler-utils", "zbar-tools")
    _skill, entries = award_world(world)
    issuing.issue_certificates(world["event"])
    cert = Certificate.objects.get(entry=entries[0])
    layout = layouts.layout_for(world["programme"])
    rendering.render_certificate(cert, layout)
    pdf = tmp_path / "c.pdf"
    with default_storage.open(cert.file.name, "rb") as fh:
        pdf.write_bytes(fh.read())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "c")],
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "c.png")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert scanned == [rendering.verify_url(cert.serial)]


def test_rare_character_falls_back_to_a_font_that_has_it():
    # The preferred family (song: AR PL UMing) and the wide fallback (hei).
    debian.require("fonts-arphic-uming", "fonts-wqy-zenhei")
    certificates._font.cache_clear()
    song = certificates.font_for("张三", "song")
    assert song == "cert-song"
    assert certificates.font_for("", "song") == "cert-song"
    # 𠀀 (U+20000) is in no font here: still the preferred family, never a crash
    assert certificates.font_for("𠀀", "song") == "cert-song"


@needs_fonts
def test_batch_renders_all_then_rerun_renders_nothing(world, django_capture_on_commit_callbacks):
    award_world(world)  # 4 entries: gold, silver, bronze, excellence → 4 certificates
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert batch.status == CertificateBatch.Status.DONE
    assert (batch.total, batch.done, batch.errors, batch.rendered) == (4, 4, 0, 4)
    assert batch.chunks.count() == 2
    certs = list(Certificate.objects.order_by("serial"))
    mtimes = {c.pk: Path(default_storage.path(c.file.name)).stat().st_mtime_ns for c in certs}
    serials = [c.serial for c in certs]

    again = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert again.status == CertificateBatch.Status.DONE
    assert (again.done, again.rendered) == (4, 0)
    certs2 = list(Certificate.objects.order_by("serial"))
    assert [c.serial for c in certs2] == serials  # no new serials
    assert all(c.render_count == 1 for c in certs2)
    assert {
        c.pk: Path(default_storage.path(c.file.name)).stat().st_mtime_ns for c in certs2
    } == mtimes

    # the zips: all four, and per delegation only that delegation's
    with zipfile.ZipFile(default_storage.path(again.archive.file.name)) as zf:
        assert len(zf.namelist()) == 4
    nj = again.delegation_zips.get(delegation__code="NJ")
    with zipfile.ZipFile(default_storage.path(nj.generated.file.name)) as zf:
        names = zf.namelist()
    assert len(names) == nj.count == 2  # ranks 1 and 4 are NJ's (delegations in turn)
    assert all(n.endswith(".pdf") for n in names)


@needs_fonts
def test_layout_change_regenerates_and_name_change_redraws_one(
    world, django_capture_on_commit_callbacks
):
    _skill, entries = award_world(world)
    run_batch(world["event"], django_capture_on_commit_callbacks)
    layout = layouts.layout_for(world["programme"])
    fields = dict(layout.fields)
    fields["award"] = {**fields["award"], "size": 50}
    layout.fields = fields
    layouts.save_layout(layout)
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert batch.rendered == 4
    assert set(Certificate.objects.values_list("layout_version", flat=True)) == {layout.version}
    # a corrected athlete name revokes that certificate only and reissues it
    # under a new serial (see docs/integrity.md, "identity lock")
    athlete = entries[2].members.first().athlete
    athlete.name = "更正后的名字"
    athlete.save()
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert batch.rendered == 1
    old = Certificate.objects.get(athlete=athlete, revoked=True)
    new = Certificate.objects.get(athlete=athlete, revoked=False)
    assert (old.render_count, new.render_count) == (2, 1)
    assert new.serial != old.serial
    assert Certificate.objects.filter(revoked=True).count() == 1


class Killed(BaseException):
    """Stands for a worker dying: not an Exception, so nothing inside catches it."""


@needs_fonts
def test_chunk_killed_half_way_is_retried_and_skips_what_is_done(world, monkeypatch):
    award_world(world)
    batch = tasks.start_batch(world["event"], size=4)
    chunk_ids = batches.prepare_batch(batch)
    assert len(chunk_ids) == 1
    real = certificates.render_pdf
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(certificates, "render_pdf", dying)
    with pytest.raises(Killed):
        batches.render_chunk(chunk_ids[0])
    assert Certificate.objects.filter(render_count=1).count() == 2
    chunk = CertificateChunk.objects.get(pk=chunk_ids[0])
    assert not chunk.completed
    # the redelivered message: draws only the two that are missing, then packs
    assert batches.render_chunk(chunk_ids[0]) is True
    assert calls["n"] == 5  # 2 + the killed one + 2 redrawn, none drawn twice
    assert set(Certificate.objects.values_list("render_count", flat=True)) == {1}
    batch = zips.finish_batch(batch.pk)
    assert (batch.status, batch.done, batch.total) == ("done", 4, 4)
    chunk.refresh_from_db()
    assert chunk.attempts == 2 and chunk.done == 4


@needs_fonts
def test_a_failing_certificate_is_counted_not_fatal(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    award_world(world)
    real = certificates.render_pdf

    def broken(data, layout):
        # Only the bronze medallist's certificate fails (names depend on test order).
        if data.award == "铜牌":
            raise ValueError("bad glyph")
        return real(data, layout)

    monkeypatch.setattr(certificates, "render_pdf", broken)
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert batch.status == "done"
    assert (batch.done, batch.errors) == (3, 1)
    assert "bad glyph" in batch.error_log


@needs_fonts
def test_expired_zips_are_purged(world, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    award_world(world)
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    path = Path(default_storage.path(batch.archive.file.name))
    nj_path = Path(
        default_storage.path(batch.delegation_zips.get(delegation__code="NJ").generated.file.name)
    )
    assert path.exists() and nj_path.exists()
    # One purge for every generated file: the batch's zip and each delegation's.
    zips = 1 + batch.delegation_zips.count()
    assert file_services.purge_expired(now=timezone.now()) == 0
    after = batch.archive.expires_at + dt.timedelta(seconds=1)
    assert file_services.purge_expired(now=after) == zips
    batch.refresh_from_db()
    assert batch.archive is None and not path.exists() and not nj_path.exists()
    assert not batch.delegation_zips.exists()
    assert Certificate.objects.exclude(file="").count() == 4  # the certificates stay


def test_empty_event_batch_finishes(world, django_capture_on_commit_callbacks):
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    assert batch.status == "done" and batch.total == 0


@needs_fonts
def test_packing_again_leaves_one_set_of_zips(world, settings, django_capture_on_commit_callbacks):
    """A redelivered packing message (the batch back to "packing") stores the
    zips again in place of the first ones: no second set of files or rows."""
    from files.models import GeneratedFile

    award_world(world)
    batch = run_batch(world["event"], django_capture_on_commit_callbacks)
    media = Path(settings.MEDIA_ROOT) / "generated"
    before = sorted(p.name for p in media.rglob("*.zip"))
    rows = GeneratedFile.objects.count()
    assert rows == 1 + batch.delegation_zips.count()

    CertificateBatch.objects.filter(pk=batch.pk).update(status=CertificateBatch.Status.ZIPPING)
    tasks.finish_certificate_batch.apply(args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == CertificateBatch.Status.DONE
    assert GeneratedFile.objects.count() == rows
    assert sorted(p.name for p in media.rglob("*.zip")) == before
    assert len(list(media.rglob("*.zip"))) == rows
    with zipfile.ZipFile(default_storage.path(batch.archive.file.name)) as zf:
        assert len(zf.namelist()) == 4
