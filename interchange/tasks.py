"""Celery tasks of the interchange app: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

from . import jobs


# A national workbook takes minutes, longer than the broker's visibility
# timeout: acknowledged on receipt (never delivered twice) with limits of its
# own. A worker lost mid-import rolls the import's transaction back and the
# job is shown as failed or stuck; the organiser uploads again. The task keeps
# the name it had in the competitions app, so jobs queued under it still run.
@shared_task(
    name="competitions.run_import_job",
    acks_late=False,
    soft_time_limit=55 * 60,
    time_limit=60 * 60,
)
def run_import_job(job_id: int) -> str:
    """Import one uploaded event workbook (all or nothing; the report is kept
    on the job). Not retried: a failure is reported on the job's page."""
    return jobs.run_job(job_id).status
