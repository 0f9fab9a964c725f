"""`manage.py backup` and `manage.py restore`, for real.

PostgreSQL: a demo programme with files is built in a database of our own
(portal_ops_src), backed up with pg_dump, restored with pg_restore into another
(portal_ops_dst) with another media root; every table's row count and the
files' bytes must come back. SQLite: the same round trip through the sqlite3
backup API, plus a damaged archive, which must be refused before anything is
written. Everything runs in manage.py subprocesses with their own settings,
so the test database of pytest-django is never involved.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from .helpers import (
    base_env,
    database_url,
    drop_database,
    manage,
    ok,
    pg_server_major,
    pg_unavailable,
    recreate_database,
    table_counts,
    which,
)

# Our own databases; the pid keeps two test runs on one machine apart.
SRC, DST = f"portal_ops_src_{os.getpid()}", f"portal_ops_dst_{os.getpid()}"

# Adds one file referenced by the programme (a certificate-layout background)
# and one file nobody references, through the storage API.
ADD_FILES = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from awards.models import CertificateLayout
from competitions.models import Programme
p = Programme.objects.order_by("pk").first()
layout, _ = CertificateLayout.objects.get_or_create(programme=p)
layout.background.save("bg.png", ContentFile(bytes(range(256)) * 40), save=True)
default_storage.save("exports/unreferenced.txt", ContentFile("不属于任何节目".encode()))
print(p.code, layout.background.name)
"""

# Storages other than the default one (appeal attachments are kept outside
# MEDIA_ROOT): one file in each, to be found by a whole-storage backup.
ADD_EXTRA = """
from django.core.files.base import ContentFile
from operations.backup import storages_in_use
for key, storage in storages_in_use().items():
    if key != "default":
        storage.save("probe/extra.bin", ContentFile(key.encode() * 10))
        print(key)
"""

READ_EXTRA = """
import hashlib
from operations.backup import storages_in_use
for key, storage in sorted(storages_in_use().items()):
    if key != "default":
        with storage.open("probe/extra.bin") as fh:
            print(key, hashlib.sha256(fh.read()).hexdigest())
"""


def _archive(stdout: str) -> Path:
    return Path(stdout.splitlines()[0].strip())


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return json.load(member)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def pg_databases():
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    missing = [t for t in ("pg_dump", "pg_restore", "psql") if not which(t)]
    if missing:
        pytest.skip(f"PostgreSQL client tools missing: {', '.join(missing)} (postgresql-client)")
    pg_dump = which("pg_dump")
    assert pg_dump
    dump_version = ok(subprocess.run([pg_dump, "--version"], capture_output=True, text=True))
    client_major = int(dump_version.split()[-1].split(".")[0])
    if client_major < pg_server_major():
        pytest.skip(f"{dump_version.strip()} is older than the server ({pg_server_major()})")
    for name in (SRC, DST):
        recreate_database(name)
    yield
    for name in (SRC, DST):
        drop_database(name)


def test_postgresql_backup_restores_rows_and_files_into_another_database(pg_databases, tmp_path):
    # Separate trees: a storage kept beside MEDIA_ROOT must not be shared.
    src_media, dst_media, out = tmp_path / "src/media", tmp_path / "dst/media", tmp_path / "out"
    src = base_env(DATABASE_URL=database_url(SRC), DJANGO_MEDIA_ROOT=str(src_media))
    dst = base_env(DATABASE_URL=database_url(DST), DJANGO_MEDIA_ROOT=str(dst_media))

    ok(manage(src, "migrate", "--noinput", "-v0"))
    ok(manage(src, "seed_demo", "--preset", "provincial", "--entries", "120", "--skills", "6"))
    code, background = ok(manage(src, "shell", "-v", "0", "-c", ADD_FILES)).split()
    extra = ok(manage(src, "shell", "-v", "0", "-c", ADD_EXTRA)).split()

    # Whole storage.
    archive = _archive(ok(manage(src, "backup", "--output", str(out))))
    assert archive.name.startswith("portal-backup-") and archive.suffix == ".tar"
    manifest = _manifest(archive)
    names = {f["name"] for f in manifest["files"]["items"]}
    assert names == {background, "exports/unreferenced.txt"} | (
        {"probe/extra.bin"} if extra else set()
    )
    assert {f["storage"] for f in manifest["files"]["items"]} == {"default", *extra}
    assert manifest["database"]["vendor"] == "postgresql"
    assert manifest["database"]["file"] == "database.dump"
    assert manifest["database"]["pg_dump"].startswith("pg_dump (PostgreSQL)")
    assert manifest["versions"]["django"].startswith("5.2")
    assert manifest["database"]["rows"]["teams.Entry"] > 0

    # One programme: only the files its rows reference.
    scoped = _archive(ok(manage(src, "backup", "--output", str(out), "--programme", code)))
    scoped_manifest = _manifest(scoped)
    assert scoped_manifest["programme"] == code
    assert [(f["storage"], f["name"]) for f in scoped_manifest["files"]["items"]] == [
        ("default", background)
    ]

    # Restore into the other database and media root.
    result = ok(manage(dst, "restore", str(archive)))
    assert "row counts match" in result
    src_counts, dst_counts = table_counts(SRC), table_counts(DST)
    assert dst_counts == src_counts
    assert src_counts["teams_entry"] > 0
    assert (dst_media / background).read_bytes() == (src_media / background).read_bytes()
    assert _sha(dst_media / "exports/unreferenced.txt") == _sha(
        src_media / "exports/unreferenced.txt"
    )
    read = ok(manage(src, "shell", "-v", "0", "-c", READ_EXTRA))
    assert ok(manage(dst, "shell", "-v", "0", "-c", READ_EXTRA)) == read
    assert len(read.splitlines()) == len(extra)

    # A second restore meets a non-empty database: refused without --force.
    again = manage(dst, "restore", str(archive))
    assert again.returncode != 0
    assert "not empty" in again.stderr and "--force" in again.stderr

    # --force replaces the database (a row added since the backup disappears)
    # and leaves identical files alone.
    ok(
        manage(
            dst,
            "shell",
            "-v",
            "0",
            "-c",
            "from teams.models import Delegation as D; D.objects.create(code='ZZ', name='后加')",
        )
    )
    assert table_counts(DST)["teams_delegation"] == src_counts["teams_delegation"] + 1
    forced = ok(manage(dst, "restore", "--force", str(archive)))
    assert f"0 written, {len(names)} already present" in forced
    assert table_counts(DST) == src_counts


def _sqlite_env(tmp_path: Path, name: str) -> dict[str, str]:
    return base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / (name + '.sqlite3')}",
        DJANGO_MEDIA_ROOT=str(tmp_path / f"media-{name}"),
    )


def _damage(archive: Path, target: Path) -> None:
    """Copy an archive, changing one byte of its first stored file."""
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("files/"):
                data = bytes([data[0] ^ 1]) + data[1:]
            dst.addfile(member, io.BytesIO(data))


def test_sqlite_round_trip_and_a_damaged_archive_is_refused(tmp_path):
    src, dst, bad = (_sqlite_env(tmp_path, n) for n in ("src", "dst", "bad"))
    ok(manage(src, "migrate", "--noinput", "-v0"))
    ok(manage(src, "seed_demo", "--preset", "provincial", "--entries", "40", "--skills", "3"))
    _code, background = ok(manage(src, "shell", "-v", "0", "-c", ADD_FILES)).split()

    archive = _archive(ok(manage(src, "backup", "--output", str(tmp_path / "out"))))
    manifest = _manifest(archive)
    assert manifest["database"]["file"] == "database.sqlite3"
    assert manifest["files"]["count"] == 2

    ok(manage(dst, "restore", str(archive)))
    restored = tmp_path / "media-dst" / background
    assert restored.read_bytes() == (tmp_path / "media-src" / background).read_bytes()
    check = "from teams.models import Entry; print(Entry.objects.count())"
    assert ok(manage(dst, "shell", "-v", "0", "-c", check)) == ok(
        manage(src, "shell", "-v", "0", "-c", check)
    )

    damaged = tmp_path / "damaged.tar"
    _damage(archive, damaged)
    refused = manage(bad, "restore", str(damaged))
    assert refused.returncode != 0
    assert "checksum mismatch" in refused.stderr
    # Nothing was written: no database tables, no files.
    assert not (tmp_path / "media-bad").exists()
    assert (
        "0"
        == ok(
            manage(
                bad,
                "shell",
                "-v",
                "0",
                "-c",
                (
                    "from django.db import connection as c; "
                    "print(len(c.introspection.table_names()))"
                ),
            )
        ).strip()
    )
