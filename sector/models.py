"""The rewards register of a programme (docs/rewards.md)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from awards import policies
from competitions.models import Programme

FINALIST = "finalist"


class Outcome(models.TextChoices):
    """What a person holds that may carry a reward, in the export's order."""

    FINALIST = FINALIST, _("Finalist (every member of every entry not withdrawn or absent)")
    GOLD = policies.GOLD, _("Gold medal")
    SILVER = policies.SILVER, _("Silver medal")
    BRONZE = policies.BRONZE, _("Bronze medal")
    EXCELLENCE = policies.EXCELLENCE, _("Medallion for Excellence")
    FIRST = policies.FIRST, _("First prize")
    SECOND = policies.SECOND, _("Second prize")
    THIRD = policies.THIRD, _("Third prize")
    TECHNICAL_EXPERT = policies.TECHNICAL_EXPERT, _("技术能手 (technical expert)")
    WINNER = policies.WINNER, _("优胜者 (winner)")


OUTCOME_ORDER = {value: i for i, value in enumerate(Outcome.values)}
AMOUNT_MAX = Decimal("99999999.99")


def _amount(verbose_name) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(AMOUNT_MAX)],
    )


class Reward(models.Model):
    """What one outcome is worth in a programme: a one-off bonus and
    continuing-education credits. An outcome without a row is worth nothing."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="rewards", verbose_name=_("programme")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    bonus_yuan = _amount(_("bonus (yuan)"))
    credits = _amount(_("continuing-education credits"))
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("e.g. priority for promotion")
    )

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["programme", "outcome"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "outcome"], name="reward_once_per_programme_outcome"
            ),
            models.CheckConstraint(
                condition=Q(bonus_yuan__gte=0) & Q(credits__gte=0),
                name="reward_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.outcome}: {self.bonus_yuan} / {self.credits}"
