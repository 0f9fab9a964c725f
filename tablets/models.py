"""Judges' tablets: how a tablet gets in and what the chief judge asks of it.

A tablet is authenticated by its ``TabletSession`` (a random token in a
cookie, stored here only as its SHA-256), not by a Django user: most judges
have no user account. Secrets are never stored in clear: PINs as an HMAC under
a key kept outside the database (``tablets.pin_hashing``, docs/tablet-pins.md);
session and link tokens are 256-bit random values, so a plain SHA-256 is
enough and lets the token be looked up by its hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scoring.models import Aspect
from teams.models import Entry, Judge


class JudgeCredential(models.Model):
    """A judge's tablet PIN (hashed). The plain PIN is shown once, to whoever
    (re)generates it: the chief judge of one of the judge's skills or an organiser."""

    judge = models.OneToOneField(
        Judge, on_delete=models.CASCADE, related_name="tablet_credential", verbose_name=_("judge")
    )
    pin_hash = models.CharField(_("PIN hash"), max_length=200)
    set_at = models.DateTimeField(_("set at"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        verbose_name = _("judge PIN")
        verbose_name_plural = _("judge PINs")

    def __str__(self) -> str:
        return str(self.judge.code)


class JudgeLink(models.Model):
    """A private sign-in link, printed as a QR code for one judge. Revoking it
    sets ``revoked_at``; sessions opened through it are revoked too."""

    judge = models.ForeignKey(
        Judge, on_delete=models.CASCADE, related_name="tablet_links", verbose_name=_("judge")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        ordering = ["judge", "-created_at"]

    def __str__(self) -> str:
        return f"{self.judge.code} {self.created_at:%Y-%m-%d %H:%M}"


class TabletSession(models.Model):
    """One signed-in tablet. Checked on every request, so revoking it (a lost
    tablet) takes effect at the tablet's next request."""

    class Via(models.TextChoices):
        PIN = "pin", _("Code and PIN")
        LINK = "link", _("QR code")

    judge = models.ForeignKey(
        Judge, on_delete=models.CASCADE, related_name="tablet_sessions", verbose_name=_("judge")
    )
    key_hash = models.CharField(max_length=64, unique=True)
    via = models.CharField(_("signed in with"), max_length=8, choices=Via.choices)
    link = models.ForeignKey(
        JudgeLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    device = models.CharField(_("device"), max_length=200, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed in at"))
    last_seen_at = models.DateTimeField(_("last seen"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("tablet session")
        verbose_name_plural = _("tablet sessions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["judge", "revoked_at"], name="tablet_session_judge")]

    def __str__(self) -> str:
        return f"{self.judge.code} {self.device or self.user_agent[:40]}"


class PinFailure(models.Model):
    """A failed PIN sign-in, for throttling (see ``tablets.services.pin_locked``).
    Kept in the database, not the cache, so every gunicorn worker sees it."""

    judge_code = models.CharField(max_length=20)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["judge_code", "created_at"], name="pin_failure_code")]

    def __str__(self) -> str:
        return f"{self.judge_code} {self.ip_address} {self.created_at}"


class RemarkRequest(models.Model):
    """The chief judge asks one judge to mark one aspect of one entry again.

    One row per judge (a request to several judges makes several rows), so
    each is resolved on its own: when that judge next writes that mark
    through the tablet (even with the same value — they looked again)."""

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="+", verbose_name=_("entry")
    )
    aspect = models.ForeignKey(
        Aspect, on_delete=models.CASCADE, related_name="+", verbose_name=_("aspect")
    )
    judge = models.ForeignKey(
        Judge, on_delete=models.CASCADE, related_name="remark_requests", verbose_name=_("judge")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("requested at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-mark request")
        verbose_name_plural = _("re-mark requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "aspect", "judge"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_remark_per_mark",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry} {self.aspect.code} {self.judge.code}"
