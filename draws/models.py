"""Finals filled by nomination (推荐) and by computer draw (电脑随机抽取).

The rules are in ``draws.services`` and docs/draws.md. A draw is kept for
ever, with its pool, seed, algorithm and result, so anyone can re-check it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill
from teams.models import Delegation, Entry

ALGORITHM = "sha256(seed|competitor_no)-ascending"


class Nomination(models.Model):
    """A lead's nomination of one of their entries of an earlier round for the
    final's skill. The entry it created in the final is ``created_entry``."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="nominations", verbose_name=_("final skill")
    )
    source_entry = models.ForeignKey(
        Entry,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("nominated entry"),
    )
    created_entry = models.OneToOneField(
        Entry,
        on_delete=models.CASCADE,
        related_name="nomination",
        verbose_name=_("entry in the final"),
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.PROTECT, related_name="+", verbose_name=_("delegation")
    )
    source_competitor_no = models.CharField(_("competitor number (from)"), max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["skill", "delegation", "at"]

    def __str__(self) -> str:
        return f"{self.skill}: {self.source_competitor_no} → {self.created_entry.competitor_no}"


class PoolClosure(models.Model):
    """The organiser closed the pool of a final's skill and announced where
    the seed will come from. Nominations into the skill stop here; the draw
    must then find exactly this pool."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="pool_closures", verbose_name=_("final skill")
    )
    source_skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("source skill")
    )
    seed_source = models.TextField(_("where the seed comes from"), max_length=500)
    pool = models.JSONField(_("pool (competitor numbers)"), default=list)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("closed at"), default=timezone.now)

    class Meta:
        verbose_name = _("closed pool")
        verbose_name_plural = _("closed pools")
        ordering = ["skill", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.skill} ← {self.source_skill.event}"


class Draw(models.Model):
    """One draw for a final's skill. ``seq`` 1 is the first; a later one
    carries the reason it was made (never silently)."""

    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="draws", verbose_name=_("final skill")
    )
    source_skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("source skill")
    )
    closure = models.ForeignKey(
        PoolClosure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="draws",
        verbose_name=_("closed pool"),
    )
    seq = models.PositiveIntegerField(_("draw number"))
    count = models.PositiveIntegerField(_("number drawn"))
    seed = models.CharField(_("seed"), max_length=200)
    algorithm = models.CharField(_("algorithm"), max_length=60, default=ALGORITHM)
    # Source-event competitor numbers of the pool, in number order.
    pool = models.JSONField(_("pool (competitor numbers)"), default=list)
    # [{"competitor_no", "key", "final_no", "delegation"}] in key order.
    result = models.JSONField(_("result"), default=list)
    reason = models.TextField(_("reason for a further draw"), max_length=1000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("drawn at"), default=timezone.now)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["skill", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "seq"], name="draw_seq_unique_in_skill"),
            models.CheckConstraint(
                condition=Q(seq=1) | ~Q(reason=""), name="draw_again_needs_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} draw {self.seq}"
