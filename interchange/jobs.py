"""Event workbooks imported in the browser, as Celery jobs with progress.

Every browser import goes this one way, small or as large as the national
final (4,059 entries, ~490,000 marks): the upload's zip is bounded in the
request (``portal.spreadsheets.check_zip``: the zip's directory, each
sheet's declared dimension and a count of its cells, nothing parsed; a
hostile file is refused at once), then the file waits in a
private storage, an ``ImportJob`` row records it and a worker runs
``interchange.event_workbook.importer.import_workbook`` — the same function the
``import_event`` command calls synchronously. The worker reports progress
through the cache (the import runs inside one transaction, where a row
update would stay invisible until the end) and stores the report in the job
row; the page polls ``job_state``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from competitions.models import ImportJob
from portal import spreadsheets
from portal.problems import CellProblem

from .event_workbook.importer import import_workbook
from .event_workbook.report import ImportReport

log = logging.getLogger(__name__)

PROGRESS_TTL = 6 * 60 * 60  # seconds a job's live progress stays in the cache


def _progress_key(job_id: int) -> str:
    return f"competitions:import-job:{job_id}:progress"


def upload_storage() -> Storage:
    """Where an upload waits for the worker: never under MEDIA_ROOT (which
    may be served publicly; a workbook holds ID numbers). The default
    storage when it is an object store (private, shared by every machine),
    else ``settings.PORTAL_IMPORTS_ROOT`` (default ``<MEDIA_ROOT>/../private/imports``)."""
    default = storages["default"]
    if not isinstance(default, FileSystemStorage):
        return default
    root = getattr(settings, "PORTAL_IMPORTS_ROOT", None) or (
        Path(settings.MEDIA_ROOT).parent / "private" / "imports"
    )
    return FileSystemStorage(location=str(root))


# --------------------------------------------------------------------------- reports


def _problem(p: CellProblem) -> dict[str, Any]:
    return {
        "sheet": p.sheet,
        "row": p.row,
        "column": p.column,
        "column_letter": p.column_letter,
        "cell": p.cell,
        "message_zh": p.message_zh,
        "message_en": p.message_en,
    }


def report_to_json(report: ImportReport) -> dict[str, Any]:
    return {
        "event_code": report.event_code,
        "dry_run": report.dry_run,
        "committed": report.committed,
        "event_created": report.event_created,
        "sheets": report.counts(),
        "errors": [_problem(p) for p in report.errors],
        "warnings": [_problem(p) for p in report.warnings],
    }


@dataclass
class StoredProblem:
    sheet: str | None
    row: int | None
    column: str | None
    column_letter: str | None
    cell: str
    message_zh: str
    message_en: str


@dataclass
class StoredStats:
    created: int
    updated: int
    unchanged: int


@dataclass
class StoredReport:
    """A finished job's report, read back with the attributes the page uses
    for an ``ImportReport``."""

    event_code: str
    dry_run: bool
    committed: bool
    event_created: bool
    sheets: dict[str, StoredStats] = field(default_factory=dict)
    errors: list[StoredProblem] = field(default_factory=list)
    warnings: list[StoredProblem] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredReport:
        return cls(
            event_code=data.get("event_code", ""),
            dry_run=bool(data.get("dry_run")),
            committed=bool(data.get("committed")),
            event_created=bool(data.get("event_created")),
            sheets={
                name: StoredStats(c["created"], c["updated"], c["unchanged"])
                for name, c in data.get("sheets", {}).items()
            },
            errors=[StoredProblem(**p) for p in data.get("errors", [])],
            warnings=[StoredProblem(**p) for p in data.get("warnings", [])],
        )


# --------------------------------------------------------------------------- jobs


def create_job(
    upload: UploadedFile,
    event_code: str,
    *,
    user,
    dry_run: bool = False,
    event_name: str = "",
) -> ImportJob:
    """Bound the upload (raises ``SpreadsheetRefused`` at once), store
    it and record the job; the caller queues ``tasks.run_import_job``."""
    spreadsheets.check_zip(upload, spreadsheets.Limits.from_settings())
    stored = upload_storage().save(f"{uuid.uuid4().hex}.xlsx", upload)
    return ImportJob.objects.create(
        created_by=user,
        event_code=event_code,
        event_name=event_name,
        dry_run=dry_run,
        original_name=(upload.name or "")[:200],
        file_size=upload.size or 0,
        stored_name=stored,
    )


def run_job(job_id: int) -> ImportJob:
    """The worker's side: import the stored file, keep the report, remove the file."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    # Claimed once: a second delivery of the same job finds it taken.
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return job

    def progress(stage: str, done: int, total: int) -> None:
        cache.set(
            _progress_key(job.pk),
            {"stage": stage, "done": done, "total": total},
            PROGRESS_TTL,
        )

    try:
        with upload_storage().open(job.stored_name, "rb") as source:
            report = import_workbook(
                source,
                job.event_code,
                dry_run=job.dry_run,
                event_name=job.event_name or None,
                actor=job.created_by,
                progress=progress,
            )
    except Exception:
        log.exception("import job %s failed", job.pk)
        _finish(job, ImportJob.Status.FAILED, {})
        raise
    status = ImportJob.Status.REFUSED if report.errors else ImportJob.Status.DONE
    _finish(job, status, report_to_json(report))
    return job


def _finish(job: ImportJob, status: str, report: dict[str, Any]) -> None:
    job.status = status
    job.report = report
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "report", "finished_at"])
    if job.stored_name:
        try:
            upload_storage().delete(job.stored_name)
        except OSError:
            log.warning("could not delete %s", job.stored_name)
    cache.delete(_progress_key(job.pk))


@dataclass
class JobState:
    job: ImportJob
    stage: str
    sheet: str
    percent: int
    report: StoredReport | None


def job_state(job: ImportJob) -> JobState:
    """What the progress page shows: the stage and a percentage while the
    job runs, the report once it is finished."""
    if job.finished:
        return JobState(job, "finished", "", 100, StoredReport.from_json(job.report))
    live = cache.get(_progress_key(job.pk)) or {}
    stage, _sep, sheet = str(live.get("stage", "")).partition(":")
    total = int(live.get("total") or 0)
    percent = int(100 * int(live.get("done") or 0) / total) if total else 0
    return JobState(job, stage or "queued", sheet, min(percent, 99), None)
