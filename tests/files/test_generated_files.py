"""One framework for generated files (files.GeneratedFile): expiry and purge,
progress on the shared partial, the download rule decided per file, and a
retried maker that leaves one file, not two (docs/exports.md)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from files import permissions
from files import services as file_services
from files.models import GeneratedFile
from tests import factories as f

pytestmark = pytest.mark.django_db

TTL = dt.timedelta(hours=1)
RULE = "tests.owner_only"


@permissions.rule(RULE)
def _owner_only(generated: GeneratedFile, user) -> bool:
    return generated.owner_id == user.pk


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file())


def _ready(owner=None, rule: str = RULE, body: bytes = b"hello") -> GeneratedFile:
    generated = file_services.create("tests.report", rule, ttl=TTL, owner=owner)
    return file_services.store(
        generated.pk, io.BytesIO(body), filename="report.txt", ttl=TTL, content_type="text/plain"
    )


def test_purge_deletes_expired_files_and_rows_only(settings):
    keep = _ready(body=b"keep")
    old = _ready(body=b"old")
    old_path = Path(settings.MEDIA_ROOT) / old.file.name
    assert old_path.exists()
    assert file_services.purge_expired() == 0
    GeneratedFile.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert file_services.purge_expired() == 1
    assert not old_path.exists() and not GeneratedFile.objects.filter(pk=old.pk).exists()
    assert GeneratedFile.objects.filter(pk=keep.pk).exists()
    assert _stored_files(settings) == [Path(settings.MEDIA_ROOT) / keep.file.name]


def test_purge_command_and_task_purge_too(settings):
    from django.core.management import call_command

    from files import tasks

    for _ in range(2):
        _ready()
    GeneratedFile.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("purge_files", stdout=out)
    assert "purged 2" in out.getvalue() and not _stored_files(settings)
    _ready()
    GeneratedFile.objects.update(expires_at=timezone.now())
    assert tasks.purge_expired.apply().get() == 1


def test_expired_file_answers_410_until_purged(client):
    owner = f.user()
    generated = _ready(owner=owner)
    client.force_login(owner)
    url = reverse("files:download", args=[generated.pk])
    r = client.get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"hello"
    assert r["Content-Type"] == "text/plain" and "private" in r["Cache-Control"]
    GeneratedFile.objects.filter(pk=generated.pk).update(expires_at=timezone.now())
    assert client.get(url).status_code == 410
    file_services.purge_expired()
    assert client.get(url).status_code == 404


def test_progress_runs_from_0_to_100_on_the_shared_partial(client):
    owner = f.user()
    client.force_login(owner)
    generated = file_services.create("tests.report", RULE, ttl=TTL, owner=owner)
    status_url = reverse("files:status", args=[generated.pk])
    page = client.get(status_url).content.decode()
    assert 'data-status="pending"' in page and "hx-trigger" in page  # polls itself

    file_services.start(generated.pk)
    file_services.report(generated.pk, 3, 4)
    generated.refresh_from_db()
    assert (generated.status, generated.percent) == (GeneratedFile.Status.RUNNING, 75)
    page = client.get(status_url).content.decode()
    assert 'value="75"' in page and "3 / 4" in page and "hx-trigger" in page

    file_services.report(generated.pk, 4, 4)  # all parts written, file not stored yet
    generated.refresh_from_db()
    assert generated.percent == 99 and not generated.downloadable()

    file_services.store(generated.pk, io.BytesIO(b"x"), filename="r.txt", ttl=TTL)
    generated.refresh_from_db()
    assert generated.percent == 100 and generated.downloadable()
    page = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page  # finished: polling stops
    assert f'data-auto-download="{reverse("files:download", args=[generated.pk])}"' in page
    # A late progress report (a slow chunk) never takes a stored file back.
    file_services.report(generated.pk, 1, 4)
    generated.refresh_from_db()
    assert generated.percent == 100


def test_failure_shows_on_the_partial_and_stops_polling(client):
    owner = f.user()
    client.force_login(owner)
    generated = file_services.create("tests.report", RULE, ttl=TTL, owner=owner)
    file_services.fail(generated.pk, "disk full")
    generated.refresh_from_db()
    assert generated.status == GeneratedFile.Status.FAILED and generated.error == "disk full"
    page = client.get(reverse("files:status", args=[generated.pk])).content.decode()
    assert "生成失败" in page and "hx-trigger" not in page


def test_download_permission_anonymous_other_user_guessed_id(client):
    owner, other = f.user(), f.user()
    generated = _ready(owner=owner)
    url = reverse("files:download", args=[generated.pk])
    status_url = reverse("files:status", args=[generated.pk])
    r = client.get(url)
    assert r.status_code == 302 and "login" in r["Location"]  # anonymous → sign in
    assert client.get(status_url).status_code == 302
    client.force_login(other)
    assert client.get(url).status_code == 404  # not yours: as if it did not exist
    assert client.get(status_url).status_code == 404
    guessed = reverse("files:download", args=[uuid.uuid4()])
    assert client.get(guessed).status_code == 404
    client.force_login(owner)
    assert client.get(guessed).status_code == 404
    assert client.get(url).status_code == 200


def test_a_file_whose_rule_is_unknown_goes_to_nobody(client):
    owner = f.user()
    generated = _ready(owner=owner, rule="nobody.registered.this")
    client.force_login(owner)
    assert client.get(reverse("files:download", args=[generated.pk])).status_code == 404


def test_storing_again_replaces_the_file(settings):
    generated = _ready(body=b"first")
    first = Path(settings.MEDIA_ROOT) / generated.file.name
    again = file_services.store(generated.pk, io.BytesIO(b"second"), filename="report.txt", ttl=TTL)
    assert GeneratedFile.objects.count() == 1
    assert _stored_files(settings) == [Path(settings.MEDIA_ROOT) / again.file.name]
    assert (Path(settings.MEDIA_ROOT) / again.file.name).read_bytes() == b"second"
    assert again.file.name == generated.file.name and first.exists()
