"""Celery tasks of the results app: ids in, ``services`` does the work.

Queued with ``transaction.on_commit`` by ``request_rankings_export`` below
(the views call it; ``services`` and ``workbooks`` never import this module),
retried with backoff, acknowledged only when finished: a worker lost
mid-workbook leaves the message to be delivered again, and ``run_export``
starts that job's file from the beginning.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from competitions.models import Event

from . import services, workbooks
from .models import ExportJob

log = logging.getLogger(__name__)


@shared_task(
    name="results.build_export",
    bind=True,
    max_retries=2,
    acks_late=True,
    reject_on_worker_lost=True,
)
def build_export(self, job_id: int) -> int:
    try:
        return workbooks.run_export(job_id).pk
    except ObjectDoesNotExist:
        raise  # the job was purged: nothing to do, nothing to retry
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
        # Retries exhausted: the polling page must stop waiting and say so.
        log.exception("export %s failed", job_id)
        workbooks.fail_export(job_id, repr(exc))
        raise


def request_rankings_export(event: Event, user) -> ExportJob:
    """Queue the full published rankings for ``user`` (after commit), or
    return the job that already writes or wrote them
    (``services.rankings_export_job``)."""
    job, created = services.rankings_export_job(event, user)
    if created:
        job_id = job.pk
        transaction.on_commit(lambda: build_export.delay(job_id))
    return job
