"""The results workbooks: written here from ``exporters``' sheets, on a
request (a delegation's workbook) or by a worker (``tasks.build_export``
runs ``run_export`` into the job's ``files.GeneratedFile``). ``services``
holds the data and the export jobs' rules and imports neither this module
nor ``exporters``; ``tasks`` holds the function that queues a job. See
docs/exports.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.utils import timezone, translation

from competitions.models import Event
from files import services as file_services
from portal.exporters import Presentation, write_workbook
from teams.models import Delegation

from . import exporters
from .models import ExportJob
from .services import EXPORT_TTL, WORKBOOK_LANGUAGE, ProgressCallback


def write_delegation_workbook(event: Event, delegation: Delegation, target) -> None:
    """(a) The delegation's entries across the event's skills."""
    with translation.override(WORKBOOK_LANGUAGE):
        write_workbook(
            exporters.delegation_sheets(event, delegation),
            target,
            presentation=Presentation(),
        )


def write_rankings_workbook(event: Event, target, progress: ProgressCallback | None = None) -> int:
    """(b) The full published rankings: summary, medal table, a sheet per
    published skill. Returns the number of skill sheets."""
    with translation.override(WORKBOOK_LANGUAGE):
        sheets = exporters.rankings_sheets(event, progress=progress)
        write_workbook(sheets, target, presentation=Presentation())
    return len(sheets) - 2


def workbook_filename(event: Event, kind: str, delegation: Delegation | None = None) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    who = f"-{delegation.code}" if delegation else ""
    return f"{event.code}{who}-{kind}-{stamp}.xlsx"


def run_export(job_id: int) -> ExportJob:
    """Write a job's workbook into its generated file (the Celery task's body).

    Idempotent: a finished job is left alone, and a redelivered job writes
    its file again from the start into the same ``GeneratedFile`` row, which
    replaces the stored file (``files.services.store``)."""
    job = ExportJob.objects.select_related("event", "delegation", "generated").get(pk=job_id)
    if job.finished:
        return job
    file_id = job.generated_id
    file_services.start(file_id)

    def progress(done: int, total: int) -> None:
        file_services.report(file_id, done, total)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workbook.xlsx"
        if job.kind == ExportJob.Kind.DELEGATION and job.delegation is not None:
            write_delegation_workbook(job.event, job.delegation, path)
            name = workbook_filename(job.event, "results", job.delegation)
        else:
            write_rankings_workbook(job.event, path, progress=progress)
            name = workbook_filename(job.event, "rankings")
        file_services.store(file_id, path, filename=name, ttl=EXPORT_TTL)
    job.generated.refresh_from_db()
    return job


def fail_export(job_id: int, error: str) -> None:
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is not None:
        file_services.fail(job.generated_id, error)
