"""Generated result workbooks.

A big workbook (the full published rankings of a large event) is written by a
Celery worker into ``default_storage``; the ``ExportJob`` row is the request,
its progress and the file. Files expire: after ``expires_at`` the download
answers 410 and ``purge_exports`` removes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Event
from teams.models import Delegation


def export_path(instance: ExportJob, filename: str) -> str:
    # Never under a public URL: the download view checks who asks.
    return f"results/exports/{instance.event_id}/{instance.pk or 'new'}-{filename}"


class ExportJob(models.Model):
    class Kind(models.TextChoices):
        RANKINGS = "rankings", _("Full published rankings")
        DELEGATION = "delegation", _("Delegation results")

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("event")
    )
    # The lead's delegation for DELEGATION workbooks; empty for full rankings.
    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delegation"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Sheets written / sheets to write: the polling page shows the ratio.
    progress = models.PositiveIntegerField(_("progress"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, blank=True, max_length=200)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["expires_at"], name="export_job_expires")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.event_id} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return 100 * self.progress // self.total if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def downloadable(self, now=None) -> bool:
        return self.status == self.Status.DONE and bool(self.file) and not self.expired(now)


class MarkingProgress(models.Model):
    """A skill's marking figures as of its last stored results, for the
    organiser's dashboard (``results.dashboards``), written by
    ``results.refresh`` in the transaction that stores the results.

    ``computed_at`` is the ``SkillMarking.results_computed_at`` stamp of those
    results: the figures are current while the stamp is unchanged (a mark
    write or panel edit clears it). See docs/dashboards.md."""

    skill = models.OneToOneField(
        "competitions.Skill",
        on_delete=models.CASCADE,
        related_name="marking_progress",
        verbose_name=_("skill"),
    )
    computed_at = models.DateTimeField(_("results computed at"))
    marks_given = models.PositiveIntegerField(_("marks given"))
    marks_missing = models.PositiveIntegerField(_("marks missing"))
    complete = models.PositiveIntegerField(_("complete entries"))
    discrepancies = models.PositiveIntegerField(_("flagged judgement aspects"))

    class Meta:
        verbose_name = _("marking progress")
        verbose_name_plural = _("marking progress")

    def __str__(self) -> str:
        return f"{self.skill_id}: {self.marks_given}+{self.marks_missing}"
