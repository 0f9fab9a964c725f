"""Writing, finishing, failing and purging generated files (docs/exports.md).

A maker creates the row when somebody asks (``create``), a worker reports
progress (``start``, ``report``) and stores the result (``store``) or says it
failed (``fail``); ``purge_expired`` deletes expired files and their rows.
Everything goes through ``default_storage`` (the file system, or S3 when the
deployment configures it).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from .models import GeneratedFile

log = logging.getLogger(__name__)

FileId = uuid.UUID | str


def create(
    kind: str,
    permission: str,
    *,
    ttl: dt.timedelta,
    owner=None,
    filename: str = "",
    content_type: str = "application/octet-stream",
) -> GeneratedFile:
    """The row of a file that is yet to be written; it expires after ``ttl``
    even if nobody ever writes it."""
    return GeneratedFile.objects.create(
        kind=kind,
        permission=permission,
        owner=owner if getattr(owner, "pk", None) else None,
        filename=filename,
        content_type=content_type,
        expires_at=timezone.now() + ttl,
    )


def start(file_id: FileId) -> None:
    """A worker begins (or begins again, on a redelivery): back to 0 %."""
    GeneratedFile.objects.filter(pk=file_id).exclude(status=GeneratedFile.Status.DONE).update(
        status=GeneratedFile.Status.RUNNING, progress=0, done=0
    )


def report(file_id: FileId, done: int, total: int) -> None:
    """``done`` of ``total`` written; the percentage stays below 100 until
    the file is stored."""
    percent = min(99, 100 * done // total) if total else 0
    GeneratedFile.objects.filter(pk=file_id).exclude(status=GeneratedFile.Status.DONE).update(
        progress=percent, done=done, total=total
    )


def _remove_stored(generated: GeneratedFile) -> None:
    if generated.file:
        try:
            default_storage.delete(generated.file.name)
        except OSError:
            log.warning("could not delete %s", generated.file.name)


def store(
    file_id: FileId,
    content: IO[bytes] | Path,
    *,
    filename: str,
    ttl: dt.timedelta,
    content_type: str | None = None,
) -> GeneratedFile:
    """Store the written file in the row and mark it ready until now + ``ttl``.

    Idempotent: a second store (a retried task) replaces the first file, so
    a row never has more than one file in storage."""
    generated = GeneratedFile.objects.get(pk=file_id)
    _remove_stored(generated)
    name = generated.file.field.generate_filename(generated, filename)
    if default_storage.exists(name):
        default_storage.delete(name)
    if isinstance(content, Path):
        with content.open("rb") as fh:
            stored = default_storage.save(name, File(fh))
    else:
        stored = default_storage.save(name, File(content))
    now = timezone.now()
    generated.file.name = stored
    generated.filename = filename
    if content_type:
        generated.content_type = content_type
    generated.status = GeneratedFile.Status.DONE
    generated.progress = 100
    generated.done = max(generated.done, generated.total)
    generated.error = ""
    generated.finished_at = now
    generated.expires_at = now + ttl
    generated.save()
    return generated


def fail(file_id: FileId, error: str) -> None:
    """The maker gave up: the progress partial stops waiting and says so."""
    GeneratedFile.objects.filter(pk=file_id).exclude(status=GeneratedFile.Status.DONE).update(
        status=GeneratedFile.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def delete(generated: GeneratedFile) -> None:
    """Remove a file and its row now (a maker replacing what it made)."""
    _remove_stored(generated)
    generated.delete()


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the stored files and the rows of every expired file; returns
    how many. Rows of the makers that point to a file go with it or lose
    the link, as their foreign keys say."""
    now = now or timezone.now()
    expired = list(GeneratedFile.objects.filter(expires_at__lte=now))
    for generated in expired:
        _remove_stored(generated)
    GeneratedFile.objects.filter(pk__in=[g.pk for g in expired]).delete()
    return len(expired)
