"""Celery tasks of the awards app: ids in, the service modules do the work.

Every task is queued with ``transaction.on_commit`` by the ``request_*``
and ``start_batch`` functions at the end of this module (views and receivers
call them; no service module imports this one), is retried with
exponential backoff on failure, and acknowledges its message only when it
has finished (``acks_late`` + ``reject_on_worker_lost``): a worker killed
mid-chunk leaves the message to be delivered again, and the redelivered
chunk skips the certificates already stored.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from competitions.models import Event, Skill

from . import awarding, batches, zips

log = logging.getLogger(__name__)

RETRY: dict[str, Any] = {
    "autoretry_for": (Exception,),
    # A missing row or a refused computation will not get better by waiting.
    "dont_autoretry_for": (ObjectDoesNotExist, awarding.AwardsRefused),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(name="awards.compute_skill_awards", **RETRY)
def compute_skill_awards(skill_id: int) -> int:
    """Awards of one skill (the medal tables count them when read: awards.medals)."""
    skill = Skill.objects.select_related("event").get(pk=skill_id)
    try:
        awards = awarding.compute_awards(skill)
    except awarding.AwardsRefused as exc:
        # Reopened again before the worker got to it: the next sign-off queues us.
        log.info("awards for skill %s not computed: %s", skill_id, exc)
        return 0
    return len(awards)


class BatchTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries exhausted (or the batch vanished): the page must not spin forever.
        batch_id = args[0] if args else kwargs.get("batch_id")
        try:
            batches.fail_batch(batch_id, repr(exc))
        except Exception:
            log.exception("could not record failure of batch %s", batch_id)


@shared_task(name="awards.generate_certificates", base=BatchTask, **RETRY)
def generate_certificates(batch_id: int) -> int:
    """Issue the event's certificates, cut them into chunks and fan the chunks
    out; the chunk that completes the batch queues the packing."""
    from .models import CertificateBatch

    batch = CertificateBatch.objects.get(pk=batch_id)
    if batch.finished:
        return 0
    chunk_ids = batches.prepare_batch(batch)
    if not chunk_ids:
        # Nothing (left) to render: an empty event, or a redelivery after all
        # chunks finished but before packing started.
        CertificateBatch.objects.filter(
            pk=batch_id, status=CertificateBatch.Status.RENDERING
        ).update(status=CertificateBatch.Status.ZIPPING)
        finish_certificate_batch.delay(batch_id)
        return 0
    for chunk_id in chunk_ids:
        render_certificate_chunk.delay(chunk_id)
    return len(chunk_ids)


class ChunkTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries exhausted: record the failure so the batch still finishes.
        chunk_id = args[0] if args else kwargs.get("chunk_id")
        try:
            if batches.fail_chunk(chunk_id, repr(exc)):
                from .models import CertificateChunk

                batch_id = CertificateChunk.objects.get(pk=chunk_id).batch_id
                finish_certificate_batch.delay(batch_id)
        except Exception:  # never let bookkeeping hide the original failure
            log.exception("could not record failure of chunk %s", chunk_id)


@shared_task(name="awards.render_certificate_chunk", base=ChunkTask, **RETRY)
def render_certificate_chunk(chunk_id: int) -> bool:
    from .models import CertificateChunk

    if batches.render_chunk(chunk_id):
        batch_id = CertificateChunk.objects.get(pk=chunk_id).batch_id
        finish_certificate_batch.delay(batch_id)
        return True
    return False


@shared_task(name="awards.finish_certificate_batch", base=BatchTask, **RETRY)
def finish_certificate_batch(batch_id: int) -> int:
    return zips.finish_batch(batch_id).pk


# ------------------------------------------------------------------ queueing


def request_skill_awards(skill: Skill) -> None:
    """Awards of the skill, by a worker once the
    caller's transaction commits. Queued when scoring reports new final
    results (``receivers.queue_awards_of_changed_results``)."""
    skill_id = skill.pk
    transaction.on_commit(lambda: compute_skill_awards.delay(skill_id))


def request_event_recompute(event: Event) -> int:
    """On demand: recompute awards of every signed-off skill of the event."""
    skills = awarding.signed_off_skills(event)
    for skill in skills:
        request_skill_awards(skill)
    return len(skills)


def start_batch(event: Event, user=None, *, size: int | None = None):
    """Create a certificate batch; a worker issues, renders and packs it after
    commit."""
    batch = batches.create_batch(event, user, size=size)
    batch_id = batch.pk
    transaction.on_commit(lambda: generate_certificates.delay(batch_id))
    return batch
