"""Certificate batches: issue, cut into chunks, render chunk by chunk, count
progress (docs/awards.md). ``awards.tasks`` runs these functions in a worker."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from competitions.models import Event
from files import services as file_services

from .issuing import issue_certificates
from .layouts import drawing_layout, layout_for
from .models import (
    Certificate,
    CertificateBatch,
    CertificateChunk,
)
from .rendering import certificates_for_render, render_certificate
from .visibility import BATCH_RULE

log = logging.getLogger(__name__)

ZIP = "application/zip"


def chunk_size() -> int:
    return int(getattr(settings, "AWARDS_CERTIFICATE_CHUNK", 100))


def batch_ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "AWARDS_BATCH_TTL_HOURS", 24 * 7)))


def create_batch(event: Event, user=None, *, size: int | None = None) -> CertificateBatch:
    """A new, empty batch and the generated file its zip of everything will
    be (its progress is the batch's); ``tasks.start_batch`` creates one and
    queues it."""
    archive = file_services.create(
        "awards.batch",
        BATCH_RULE,
        ttl=batch_ttl(),
        owner=user,
        filename=f"{event.code}-certificates.zip",
        content_type=ZIP,
    )
    return CertificateBatch.objects.create(
        event=event, created_by=user, chunk_size=max(1, size or chunk_size()), archive=archive
    )


def prepare_batch(batch: CertificateBatch) -> list[int]:
    """Issue the event's certificates and cut the live ones into chunks; on a
    redelivery the chunks already made are kept. Returns the open chunk ids."""
    with transaction.atomic():
        batch = CertificateBatch.objects.select_for_update().get(pk=batch.pk)
        if not batch.chunks.exists():
            issue_certificates(batch.event)
            ids = list(
                Certificate.objects.filter(event=batch.event, revoked=False)
                .order_by("delegation__code", "serial")
                .values_list("pk", flat=True)
            )
            size = batch.chunk_size
            CertificateChunk.objects.bulk_create(
                CertificateChunk(batch=batch, index=i // size, certificate_ids=ids[i : i + size])
                for i in range(0, len(ids), size)
            )
            batch.total = len(ids)
        if batch.status == CertificateBatch.Status.PENDING:
            batch.status = CertificateBatch.Status.RENDERING
            if batch.archive_id:
                file_services.start(batch.archive_id)
        batch.save(update_fields=["total", "status"])
    return list(batch.chunks.filter(completed=False).values_list("pk", flat=True))


def refresh_batch_counts(batch_id: int) -> None:
    totals = CertificateChunk.objects.filter(batch_id=batch_id).aggregate(
        done=Coalesce(Sum("done"), 0), errors=Coalesce(Sum("errors"), 0)
    )
    CertificateBatch.objects.filter(pk=batch_id).update(**totals)
    batch = CertificateBatch.objects.filter(pk=batch_id).values("archive_id", "total").first()
    if batch and batch["archive_id"]:
        # The zip's progress is the share of certificates handled.
        file_services.report(batch["archive_id"], totals["done"], batch["total"])


PROGRESS_EVERY = 10


def render_chunk(chunk_id: int) -> bool:
    """Render one chunk; returns True when this call completed the last chunk
    (the caller then packs the batch). Safe to run again: certificates whose
    stored PDF matches their fingerprint are skipped, and the counts are set,
    not added, so a redelivered chunk never counts twice."""
    chunk = CertificateChunk.objects.select_related("batch__event__programme").get(pk=chunk_id)
    if chunk.completed:
        return False
    CertificateChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    layout = layout_for(chunk.batch.event.programme)
    drawn = drawing_layout(layout)
    done = errors = rendered = 0
    problems: list[str] = []
    certs = {c.pk: c for c in certificates_for_render(chunk.certificate_ids)}
    for i, cert_id in enumerate(chunk.certificate_ids, start=1):
        cert = certs.get(cert_id)
        if cert is None:  # revoked meanwhile: nothing to draw, nothing owed
            done += 1
            continue
        try:
            rendered += render_certificate(cert, layout, drawn)
            done += 1
        except DatabaseError:
            raise  # the database is away: let the task retry the chunk
        except Exception as exc:  # one bad certificate must not sink the batch
            errors += 1
            problems.append(f"{cert.serial}: {exc}")
            log.exception("certificate %s failed", cert.serial)
        if i % PROGRESS_EVERY == 0:
            CertificateChunk.objects.filter(pk=chunk_id).update(done=done, errors=errors)
            refresh_batch_counts(chunk.batch_id)
    CertificateChunk.objects.filter(pk=chunk_id).update(done=done, errors=errors)
    if problems:
        CertificateBatch.objects.filter(pk=chunk.batch_id).update(
            error_log=Concat(F("error_log"), Value("\n".join(problems) + "\n"))
        )
    if rendered:
        CertificateBatch.objects.filter(pk=chunk.batch_id).update(rendered=F("rendered") + rendered)
    return complete_chunk(chunk_id)


def complete_chunk(chunk_id: int) -> bool:
    """Mark a chunk complete; True for the one call that finds every chunk of
    the batch complete. Runs in autocommit on purpose: each statement sees
    what the other chunks committed, so at least one of two chunks finishing
    together sees the batch complete, and the conditional status update lets
    exactly one of them go on to pack it."""
    chunk = CertificateChunk.objects.get(pk=chunk_id)
    CertificateChunk.objects.filter(pk=chunk_id, completed=False).update(completed=True)
    refresh_batch_counts(chunk.batch_id)
    if CertificateChunk.objects.filter(batch_id=chunk.batch_id, completed=False).exists():
        return False
    return bool(
        CertificateBatch.objects.filter(
            pk=chunk.batch_id, status=CertificateBatch.Status.RENDERING
        ).update(status=CertificateBatch.Status.ZIPPING)
    )


def fail_batch(batch_id: int, reason: str) -> None:
    """Retries of the batch's own task exhausted: say so on the progress page."""
    CertificateBatch.objects.filter(pk=batch_id).exclude(
        status=CertificateBatch.Status.DONE
    ).update(
        status=CertificateBatch.Status.FAILED,
        finished_at=timezone.now(),
        error_log=Concat(F("error_log"), Value(f"{reason}\n")),
    )
    archive_id = (
        CertificateBatch.objects.filter(pk=batch_id).values_list("archive_id", flat=True).first()
    )
    if archive_id:
        file_services.fail(archive_id, reason)


def fail_chunk(chunk_id: int, reason: str) -> bool:
    """A chunk that exhausted its retries: count what it did not draw as
    errors and let the batch finish with what it has."""
    chunk = CertificateChunk.objects.get(pk=chunk_id)
    missing = len(chunk.certificate_ids) - chunk.done
    CertificateChunk.objects.filter(pk=chunk_id).update(errors=max(missing, chunk.errors))
    CertificateBatch.objects.filter(pk=chunk.batch_id).update(
        error_log=Concat(F("error_log"), Value(f"chunk {chunk.index}: {reason}\n"))
    )
    return complete_chunk(chunk_id)


def batch_files_available(batch: CertificateBatch, now: dt.datetime | None = None) -> bool:
    """The batch's zips can be downloaded: packed and not expired."""
    return batch.archive is not None and batch.archive.downloadable(now)
