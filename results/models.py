"""Generated result workbooks.

A big workbook (the full published rankings of a large event) is written by a
Celery worker. The ``ExportJob`` row says what was asked for (kind, event,
delegation, who); the file itself — its progress, storage, expiry and who may
download it — is a ``files.GeneratedFile`` (docs/exports.md). When the file
expires, ``files.services.purge_expired`` deletes it and, by cascade, the job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Event
from files.models import GeneratedFile
from teams.models import Delegation


def export_path(instance, filename: str) -> str:
    """Where workbooks were stored before files.GeneratedFile (migration 0001
    names this function)."""
    return f"results/exports/{instance.event_id}/{instance.pk or 'new'}-{filename}"


class ExportJob(models.Model):
    class Kind(models.TextChoices):
        RANKINGS = "rankings", _("Full published rankings")
        DELEGATION = "delegation", _("Delegation results")

    Status = GeneratedFile.Status

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
    generated = models.OneToOneField(
        GeneratedFile,
        on_delete=models.CASCADE,
        related_name="export_job",
        verbose_name=_("file"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.event_id} #{self.pk}"

    # The file's state, as the pages and the lead dashboard show it.
    @property
    def status(self) -> str:
        return self.generated.status

    def get_status_display(self) -> str:
        return str(self.generated.get_status_display())

    @property
    def percent(self) -> int:
        return self.generated.percent

    @property
    def finished(self) -> bool:
        return self.generated.finished

    def downloadable(self) -> bool:
        return self.generated.downloadable()


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
