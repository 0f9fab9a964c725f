"""Delegations, quotas, athletes, entries and judges (docs/roles.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from competitions.models import Event, Skill

from . import identity, idnumbers


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Delegation(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DelegationLead(models.Model):
    """A user who leads one delegation (领队)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegation_lead",
        verbose_name=_("user"),
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.CASCADE, related_name="leads", verbose_name=_("delegation")
    )

    class Meta:
        verbose_name = _("delegation lead")
        verbose_name_plural = _("delegation leads")

    def __str__(self) -> str:
        return f"{self.user} → {self.delegation}"


class Quota(models.Model):
    """How many entries a delegation may register in one skill."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("skill")
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("delegation")
    )
    max_entries = models.PositiveSmallIntegerField(_("max entries"), default=1)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["skill", "delegation"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "delegation"], name="quota_once_per_skill")
        ]

    def __str__(self) -> str:
        return f"{self.skill} · {self.delegation}: {self.max_entries}"


class Athlete(models.Model):
    delegation = models.ForeignKey(
        Delegation, on_delete=models.PROTECT, related_name="athletes", verbose_name=_("delegation")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Stored normalised (upper-case X); unique when present.
    id_number = models.CharField(
        _("ID number"),
        max_length=18,
        null=True,
        blank=True,
        validators=[idnumbers.validate_id_number],
    )
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Audit trail: every change, who made it and why (docs/integrity.md).
    history = HistoricalRecords(verbose_name=_("historical athlete"))
    # Read by django-simple-history when it writes the history row of a save.
    _change_reason: str | None
    _history_user: object

    class Meta:
        verbose_name = _("athlete")
        verbose_name_plural = _("athletes")
        ordering = ["delegation", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(id_number__isnull=False),
                name="athlete_id_number_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    # Drop-downs name a person with their delegation (names recur).
    CHOICE_RELATED = ("delegation",)

    def choice_label(self) -> str:
        return f"{self.name} · {self.delegation.name}"

    def clean(self) -> None:
        if self.id_number:
            self.id_number = idnumbers.normalise(self.id_number)
            idnumbers.validate_id_number(self.id_number)
            idnumbers.validate_matches(self.id_number, self.birth_date, self.gender or None)
        elif self.id_number == "":
            self.id_number = None

    def save(self, *args, **kwargs) -> None:
        self.id_number = idnumbers.normalise(self.id_number) or None
        with transaction.atomic():
            stored = None
            if self.pk is not None:
                stored = (
                    Athlete.objects.filter(pk=self.pk)
                    .values(*identity.IDENTITY_FIELDS)
                    .first()
                )
            super().save(*args, **kwargs)
            # Whoever saved, a changed name or ID number is announced (the
            # awards app revokes and reissues certificates).
            if stored is not None:
                identity.announce_change(self, stored)

    @property
    def masked_id_number(self) -> str:
        return idnumbers.mask(self.id_number) if self.id_number else ""


class Entry(models.Model):
    """What is ranked: one athlete or one team in one skill (参赛单元)."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        ABSENT = "absent", _("Absent")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="entries", verbose_name=_("skill")
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.PROTECT, related_name="entries", verbose_name=_("delegation")
    )
    competitor_no = models.CharField(_("competitor number"), max_length=20)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    athletes: models.ManyToManyField[Athlete, EntryMember] = models.ManyToManyField(
        Athlete, through="EntryMember", related_name="entries", verbose_name=_("athletes")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(verbose_name=_("historical entry"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["skill", "competitor_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["skill", "competitor_no"], name="entry_competitor_no_unique_in_skill"
            )
        ]

    def __str__(self) -> str:
        return f"{self.skill.code} #{self.competitor_no}"

    @property
    def is_ranked(self) -> bool:
        return self.status == self.Status.REGISTERED

    def names(self) -> str:
        return "、".join(m.athlete.name for m in self.members.select_related("athlete"))


class EntryMember(models.Model):
    """An athlete in an entry. ``event`` is copied from the entry's skill so the
    database itself forbids entering one athlete twice in one event."""

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="members", verbose_name=_("entry")
    )
    athlete = models.ForeignKey(
        Athlete, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("athlete")
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+", editable=False)
    history = HistoricalRecords(verbose_name=_("historical entry member"))

    class Meta:
        verbose_name = _("entry member")
        verbose_name_plural = _("entry members")
        constraints = [
            models.UniqueConstraint(fields=["event", "athlete"], name="athlete_once_per_event")
        ]

    def __str__(self) -> str:
        return _("%(athlete)s in %(entry)s") % {"athlete": self.athlete, "entry": self.entry}

    def save(self, *args, **kwargs) -> None:
        self.event_id = self.entry.skill.event_id
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None) -> None:
        # Admin inlines validate before save(): fill the event first so the
        # unique (event, athlete) check runs with a clear message.
        if self.entry_id and not self.event_id:
            self.event_id = self.entry.skill.event_id
        super().validate_constraints(exclude=exclude)

    def clean(self) -> None:
        if (
            self.entry_id
            and self.athlete_id
            and self.athlete.delegation_id != self.entry.delegation_id
        ):
            raise ValidationError(
                {"athlete": _("The athlete belongs to another delegation than the entry.")}
            )


class Judge(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="judges",
        verbose_name=_("home delegation"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="judge",
        verbose_name=_("user"),
    )
    skills: models.ManyToManyField[Skill, JudgeAssignment] = models.ManyToManyField(
        Skill, through="JudgeAssignment", related_name="judges", verbose_name=_("skills")
    )

    class Meta:
        verbose_name = _("judge")
        verbose_name_plural = _("judges")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    CHOICE_RELATED = ("delegation",)

    def choice_label(self) -> str:
        return f"{self.code} {self.name} · {self.delegation.name}"


class JudgeAssignment(models.Model):
    class Role(models.TextChoices):
        JUDGE = "judge", _("Judge")
        CHIEF = "chief", _("Chief judge")

    judge = models.ForeignKey(
        Judge, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("judge")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("skill")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.JUDGE)

    class Meta:
        verbose_name = _("judge assignment")
        verbose_name_plural = _("judge assignments")
        ordering = ["skill", "role", "judge"]  # "chief" sorts before "judge"
        constraints = [
            models.UniqueConstraint(fields=["judge", "skill"], name="judge_once_per_skill"),
            models.UniqueConstraint(
                fields=["skill"], condition=Q(role="chief"), name="one_chief_judge_per_skill"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.judge} · {self.skill} ({self.get_role_display()})"
