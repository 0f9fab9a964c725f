"""Backups and restores of the database and the stored files.

An archive is a plain tar file (the database dump is already compressed and
certificates are PDFs, so gzip would only cost time)::

    manifest.json        what is inside: versions, row counts, files, checksums
    database.dump        PostgreSQL: pg_dump --format=custom
    database.sqlite3     SQLite: a consistent copy made by the sqlite3 backup API
    files/<name>         each stored file under its storage name

The database part is always the whole database: a programme's rows point at
shared rows (users, delegations, groups), so a partial relational dump could
not be restored on its own. ``programme`` narrows the *files* to the ones the
programme's rows reference (certificates, layout backgrounds, batch zips, any
FileField on a model that leads to the programme through foreign keys).
Without it every file in the storage is included. Files are read and written
through Django's storage API, so the same commands work on an S3 store.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import django
from django.apps import apps
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import connection, connections, models, transaction
from django.utils import timezone
from django.utils.functional import empty

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FILES_PREFIX = "files/"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


# --------------------------------------------------------------------------- helpers


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _HashingReader:
    """Reads through a file object, hashing and counting what passes
    (tarfile.addfile only ever calls read)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    return path


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not match:
        raise BackupError(f"cannot read a version from {version_text!r}")
    return int(match.group(1))


def _pg_env(alias: str = "default") -> tuple[dict[str, str], str]:
    """libpq environment and database name for a Django connection."""
    s = connections[alias].settings_dict
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return env, str(s["NAME"])


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def _server_version() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            return "unknown"
        return str(cursor.fetchone()[0])


def _git_commit() -> str | None:
    head = Path(settings.BASE_DIR) / ".git"
    if not head.exists() or not shutil.which("git"):
        return None
    result = subprocess.run(
        ["git", "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def counted_tables() -> dict[str, str]:
    """Model label -> table, for every table of the installed models
    (many-to-many tables included) that exists in the database."""
    tables = set(connection.introspection.table_names())
    found: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table not in tables:
            continue
        found[meta.label] = meta.db_table
    return dict(sorted(found.items()))


def count_rows(cursor: Any, tables: dict[str, str], quote: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label, table in tables.items():
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[label] = int(cursor.fetchone()[0])
    return counts


def row_counts() -> dict[str, int]:
    """Rows per model in the default database, now."""
    with connection.cursor() as cursor:
        return count_rows(cursor, counted_tables(), connection.ops.quote_name)


def database_is_empty() -> tuple[bool, str]:
    """Whether the default database has no tables at all (a fresh database)."""
    tables = connection.introspection.table_names()
    if not tables:
        return True, "no tables"
    return False, f"{len(tables)} tables"


# --------------------------------------------------------------------------- files


def _walk(storage: Storage, top: str = "") -> Iterator[str]:
    dirs, files = storage.listdir(top)
    for name in sorted(files):
        yield f"{top}/{name}" if top else name
    for d in sorted(dirs):
        yield from _walk(storage, f"{top}/{d}" if top else d)


def _programme_paths(model: type[models.Model], target: type[models.Model]) -> str | None:
    """The shortest forward foreign-key path from model to target, as an ORM
    lookup ("event__programme"), or None when there is none within 4 hops."""
    queue: deque[tuple[type[models.Model], str]] = deque([(model, "")])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        if path.count("__") >= 3:
            continue
        for f in current._meta.get_fields():
            if not (f.many_to_one or f.one_to_one) or not f.concrete:
                continue
            related = f.related_model
            if related is None or isinstance(related, str):
                continue
            lookup = f"{path}__{f.name}" if path else f.name
            if related is target:
                return lookup
            if related not in seen:
                seen.add(related)
                queue.append((related, lookup))
    return None


def _unwrap(storage: Storage) -> Storage:
    """The storage object behind Django's lazy default_storage."""
    if hasattr(storage, "_setup") and getattr(storage, "_wrapped", None) is not None:
        # LazyObject's private slot (not in the stubs).
        wrapped = storage._wrapped  # type: ignore[attr-defined]
        if wrapped is empty:
            storage._setup()
            wrapped = storage._wrapped  # type: ignore[attr-defined]
        return wrapped
    return storage


def file_fields() -> list[models.FileField]:
    return [
        f
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, models.FileField)
    ]


def storages_in_use() -> dict[str, Storage]:
    """Every storage a stored file can be in, by a key a restore can resolve:
    "default", or "app_label.Model.field" for a field with a storage of its
    own (appeal attachments live outside MEDIA_ROOT, for example). A field
    whose storage is the default one under another name maps to "default"."""
    found: dict[str, Storage] = {"default": default_storage}
    seen = {id(_unwrap(default_storage)): "default"}
    for f in file_fields():
        real = _unwrap(f.storage)
        if id(real) not in seen:
            key = f"{f.model._meta.label}.{f.name}"
            seen[id(real)] = key
            found[key] = f.storage
    return found


def storage_key(f: models.FileField, keys: dict[str, Storage]) -> str:
    real = _unwrap(f.storage)
    for key, storage in keys.items():
        if _unwrap(storage) is real:
            return key
    raise BackupError(f"no storage key for {f.model._meta.label}.{f.name}")


def resolve_storage(key: str) -> Storage:
    if key == "default":
        return default_storage
    label, _, name = key.rpartition(".")
    try:
        return apps.get_model(label)._meta.get_field(name).storage
    except (LookupError, ValueError) as exc:
        raise BackupError(f"the archive has files of {key}, unknown to this portal") from exc


@dataclass
class FileSelection:
    # (storage key, name) pairs.
    items: list[tuple[str, str]]
    # Models whose files were left out because they do not lead to a programme.
    unscoped_models: list[str] = field(default_factory=list)


def all_files() -> FileSelection:
    items: list[tuple[str, str]] = []
    for key, storage in storages_in_use().items():
        if _storage_has_root(storage):
            items.extend((key, name) for name in _walk(storage))
    return FileSelection(items)


def programme_files(code: str) -> FileSelection:
    programme_model = apps.get_model("competitions", "Programme")
    if not programme_model.objects.filter(code=code).exists():
        raise BackupError(f"no programme with code {code!r}")
    keys = storages_in_use()
    items: set[tuple[str, str]] = set()
    unscoped: set[str] = set()
    for f in file_fields():
        model = f.model
        if model is programme_model:
            lookup = "code"
        else:
            path = _programme_paths(model, programme_model)
            if path is None:
                unscoped.add(model._meta.label)
                continue
            lookup = f"{path}__code"
        key = storage_key(f, keys)
        rows = model._base_manager.filter(**{lookup: code})
        items.update((key, n) for n in rows.values_list(f.name, flat=True) if n)
    return FileSelection(sorted(items), sorted(unscoped))


# --------------------------------------------------------------------------- backup


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def _dump_database(workdir: Path) -> tuple[str, dict[str, Any]]:
    """Dump the database; the row counts are read from the very snapshot
    that is dumped, so a restore must reproduce them exactly."""
    vendor = connection.vendor
    tables = counted_tables()
    if vendor == "postgresql":
        pg_dump = _tool("pg_dump")
        client = _run([pg_dump, "--version"]).strip()
        server = _server_version()
        # pg_dump refuses a newer server; say it in words before it does.
        if _major(client.split()[-1]) < _major(server):
            raise BackupError(f"{client} is older than the server ({server}): upgrade it")
        env, name = _pg_env()
        out = workdir / PG_DUMP
        with transaction.atomic(), connection.cursor() as cursor:
            # Count and dump one snapshot: pg_dump joins ours, exported while
            # this transaction stays open.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = count_rows(cursor, tables, connection.ops.quote_name)
            _run(
                [
                    pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                    f"--snapshot={snapshot}", f"--file={out}", name,
                ],
                env,
            )  # fmt: skip
        info = {"vendor": vendor, "server_version": server, "pg_dump": client, "rows": counts}
        return PG_DUMP, info
    if vendor == "sqlite":
        out = workdir / SQLITE_COPY
        src = sqlite3.connect(str(connection.settings_dict["NAME"]))
        dst = sqlite3.connect(str(out))
        try:
            # The backup API copies a consistent snapshot even while others write.
            src.backup(dst)
            counts = count_rows(dst.cursor(), tables, connection.ops.quote_name)
        finally:
            dst.close()
            src.close()
        return SQLITE_COPY, {"vendor": vendor, "server_version": _server_version(), "rows": counts}
    raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")


def _member_name(key: str, name: str) -> str:
    return f"{FILES_PREFIX}{key}/{name}"


def create_backup(
    output_dir: Path,
    programme: str | None = None,
    now: datetime | None = None,
) -> BackupResult:
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime(now or timezone.now())
    suffix = f"-{programme}" if programme else ""
    final = output_dir / f"portal-backup-{stamp:%Y%m%d-%H%M%S}{suffix}.tar"

    selection = programme_files(programme) if programme else all_files()
    storages = storages_in_use()

    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".backup-") as tmp:
        workdir = Path(tmp)
        dump_name, db_info = _dump_database(workdir)
        db_info.update({"file": dump_name, "sha256": sha256_file(workdir / dump_name)})

        partial = workdir / "archive.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(workdir / dump_name, arcname=dump_name)
            files, missing = _add_files(tar, selection, storages, int(stamp.timestamp()))
            manifest: dict[str, Any] = {
                "format": FORMAT_VERSION,
                "created_at": stamp.isoformat(),
                "programme": programme,
                "database": db_info,
                "files": {
                    "storages": {
                        k: f"{type(_unwrap(v)).__module__}.{type(_unwrap(v)).__qualname__}"
                        for k, v in storages.items()
                    },
                    "scope": f"programme {programme}" if programme else "whole storage",
                    "count": len(files),
                    "bytes": sum(f["size"] for f in files),
                    "items": files,
                    "missing": missing,
                    "unscoped_models": selection.unscoped_models,
                },
                "versions": {
                    "portal_commit": _git_commit(),
                    "django": django.get_version(),
                    "python": platform.python_version(),
                },
            }
            blob = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(blob)
            info.mtime = int(stamp.timestamp())
            tar.addfile(info, io.BytesIO(blob))
        # Appear under the final name only when complete.
        os.replace(partial, final)
    return BackupResult(final, manifest)


def _add_files(
    tar: tarfile.TarFile, selection: FileSelection, storages: dict[str, Storage], mtime: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Copy the selected stored files into the archive, hashing as they go:
    the manifest's file entries, and the names the storage no longer has."""
    files: list[dict[str, Any]] = []
    missing: list[str] = []
    for key, name in selection.items:
        storage = storages[key]
        if not storage.exists(name):
            missing.append(f"{key}:{name}")
            continue
        size = storage.size(name)
        info = tarfile.TarInfo(_member_name(key, name))
        info.size = size
        info.mtime = mtime
        with storage.open(name, "rb") as fh:
            reader = _HashingReader(fh)
            tar.addfile(info, reader)
        if reader.size != size:
            raise BackupError(f"{name} changed while it was being copied")
        files.append(
            {"storage": key, "name": name, "size": size, "sha256": reader.digest.hexdigest()}
        )
    return files, missing


def _storage_has_root(storage: Storage) -> bool:
    # A local storage whose MEDIA_ROOT was never created holds no files; S3
    # and other stores have no such notion and list an empty prefix fine.
    location = getattr(storage, "location", None)
    if isinstance(location, str) and hasattr(storage, "path"):
        return Path(location).is_dir()
    return True


# --------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files_written: int
    files_unchanged: int
    rows: dict[str, int]


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST}")
        manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown archive format {manifest.get('format')!r}")
    return manifest


def _verify(tar: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Check every checksum before anything is written."""
    expected = {manifest["database"]["file"]: manifest["database"]["sha256"]}
    expected.update(
        {_member_name(f["storage"], f["name"]): f["sha256"] for f in manifest["files"]["items"]}
    )
    for name, want in expected.items():
        fh = _member(tar, name)
        digest = hashlib.sha256()
        for block in iter(functools.partial(fh.read, CHUNK), b""):
            digest.update(block)
        if digest.hexdigest() != want:
            raise BackupError(f"checksum mismatch for {name}: the archive is damaged")


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        fh = tar.extractfile(name)
    except KeyError:
        fh = None
    if fh is None:
        raise BackupError(f"the archive lacks {name}")
    return fh


def _restore_postgresql(dump: Path, force: bool) -> None:
    pg_restore = _tool("pg_restore")
    env, name = _pg_env()
    connection.close()  # our own session must not hold locks on what is dropped
    if force:
        # Replace, not merge: tables of newer migrations must not survive.
        psql = _tool("psql")
        _run(
            [
                psql, "-v", "ON_ERROR_STOP=1", "-q", "-d", name, "-c",
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;",
            ],
            env,
        )  # fmt: skip
    # One transaction: either the whole database comes back or nothing does.
    _run(
        [
            pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
            "--single-transaction", f"--dbname={name}", str(dump),
        ],
        env,
    )  # fmt: skip
    connection.close()


def _restore_sqlite(copy: Path) -> None:
    target = Path(str(connection.settings_dict["NAME"]))
    connection.close()
    src = sqlite3.connect(str(copy))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)  # replaces every page of the target
    finally:
        dst.close()
        src.close()


def restore_backup(archive: Path, force: bool = False) -> RestoreResult:
    manifest = read_manifest(archive)
    storages = {
        key: resolve_storage(key) for key in {f["storage"] for f in manifest["files"]["items"]}
    }
    db = manifest["database"]
    if db["vendor"] != connection.vendor:
        raise BackupError(
            f"the archive holds a {db['vendor']} database; this site uses {connection.vendor}"
        )
    empty, what = database_is_empty()
    if not empty and not force:
        raise BackupError(
            f"database {connection.settings_dict['NAME']!r} is not empty ({what}); "
            "restore into a new database, or pass --force to replace its contents"
        )

    with tarfile.open(archive, "r:") as tar:
        _verify(tar, manifest)
        # Files clash only where a stored file differs from the archived one.
        clashes: set[tuple[str, str]] = set()
        for item in manifest["files"]["items"]:
            key, name = item["storage"], item["name"]
            storage = storages[key]
            if storage.exists(name) and _storage_sha256(storage, name) != item["sha256"]:
                clashes.add((key, name))
        if clashes and not force:
            raise BackupError(
                f"{len(clashes)} stored files differ from the archive (e.g. {min(clashes)}); "
                "pass --force to replace them"
            )

        with tempfile.TemporaryDirectory(prefix="portal-restore-") as tmp:
            dump = Path(tmp) / db["file"]
            with dump.open("wb") as out:
                shutil.copyfileobj(_member(tar, db["file"]), out, CHUNK)
            if db["vendor"] == "postgresql":
                _restore_postgresql(dump, force)
            else:
                _restore_sqlite(dump)

        written = unchanged = 0
        for item in manifest["files"]["items"]:
            key, name = item["storage"], item["name"]
            storage = storages[key]
            if storage.exists(name):
                if (key, name) not in clashes:
                    unchanged += 1
                    continue
                storage.delete(name)
            saved = storage.save(name, File(_member(tar, _member_name(key, name)), name=name))
            if saved != name:
                raise BackupError(f"the storage saved {name} as {saved}")
            written += 1

    rows = row_counts()
    wrong = {k: (v, rows.get(k)) for k, v in db["rows"].items() if rows.get(k) != v}
    if wrong:
        raise BackupError(f"restored row counts differ from the archive (archived, now): {wrong}")
    return RestoreResult(manifest, written, unchanged, rows)


def _storage_sha256(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
