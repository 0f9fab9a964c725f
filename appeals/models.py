"""Appeals (申诉): a delegation's written challenge of a published result.

The rules (window, who may do what, upholding reopens the marks) live in
``appeals.services``; these models hold the data and its trace. Nothing here
is ever deleted by the portal: an appeal, its attachments and its events are
the record of the arbitration.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill
from teams.models import Delegation, Entry

from .storage import attachment_storage


class Appeal(models.Model):
    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        ANSWERED = "answered", _("Answered")
        REJECTED = "rejected", _("Rejected")
        UPHELD = "upheld", _("Upheld")

    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("entry")
    )
    # Copied from the entry: the lists filter by skill (chief judge) and by
    # delegation (lead) without joins, and the record survives changes.
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("skill")
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("delegation")
    )
    text = models.TextField(_("appeal"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.FILED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    # The end of the window the appeal was filed in, kept for the record.
    deadline = models.DateTimeField(_("deadline"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at", "-pk"]
        indexes = [models.Index(fields=["skill", "status"], name="appeal_skill_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.entry}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.FILED, self.Status.ANSWERED)


def attachment_path(instance: AppealAttachment, filename: str) -> str:
    # A random name: the lead's file name (kept in original_name) never
    # reaches the file system.
    suffix = PurePath(filename).suffix.lower()
    return f"{instance.appeal_id}/{uuid.uuid4().hex}{suffix}"


class AppealAttachment(models.Model):
    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("appeal")
    )
    file = models.FileField(
        _("file"), upload_to=attachment_path, storage=attachment_storage, max_length=200
    )
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["appeal", "pk"]

    def __str__(self) -> str:
        return self.original_name


class AppealEvent(models.Model):
    """One step of an appeal: filed, answered, rejected, upheld — who, when, what."""

    class Action(models.TextChoices):
        FILED = "filed", _("Filed")
        ANSWERED = "answered", _("Answered")
        REJECTED = "rejected", _("Rejected")
        UPHELD = "upheld", _("Upheld")

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="events", verbose_name=_("appeal")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    text = models.TextField(_("text"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["appeal", "at", "pk"]

    def __str__(self) -> str:
        return f"#{self.appeal_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
