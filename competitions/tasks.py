"""Celery tasks of the competitions app: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

from . import imports


@shared_task(name="competitions.run_import_job", acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: int) -> str:
    """Import one uploaded event workbook (all or nothing; the report is kept
    on the job). Not retried: a failure is reported on the job's page."""
    return imports.run_job(job_id).status
