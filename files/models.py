"""A file the portal wrote for somebody: a results workbook, a zip of
certificates (docs/exports.md, "Generated files").

One row is the request, its progress, the stored file and who may download
it. The row exists before the worker starts, and the worker writes into that
row, so a retried or redelivered task replaces the file instead of leaving a
second one. The id is a random UUID: a guessed id finds nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def stored_path(instance: GeneratedFile, filename: str) -> str:
    # Never under a public URL: the download view checks who asks.
    return f"generated/{instance.pk}/{filename}"


class GeneratedFile(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What it is, for people and the admin ("results.rankings", "awards.batch"…).
    kind = models.CharField(_("kind"), max_length=40)
    # The name of the rule that decides who may download it (files.permissions).
    permission = models.CharField(_("download rule"), max_length=60)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    # What the progress counts (sheets, certificates), for "3 of 10".
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    file = models.FileField(_("file"), upload_to=stored_path, blank=True, max_length=300)
    filename = models.CharField(_("download name"), max_length=200, blank=True)
    content_type = models.CharField(
        _("content type"), max_length=100, default="application/octet-stream"
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("generated file")
        verbose_name_plural = _("generated files")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="generated_file_expires")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.filename or self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else self.progress

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def downloadable(self, now: dt.datetime | None = None) -> bool:
        return self.status == self.Status.DONE and bool(self.file) and not self.expired(now)
