"""Marking schemes, marks, the mark ledger, sign-off and stored results.

docs/scoring.md and §5. Marks are Decimals with two places; every write goes
through ``scoring.marks.write_mark`` which appends a ledger record in the
same transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill
from teams.models import Entry, Judge


class AspectKind(models.TextChoices):
    MEASUREMENT = "M", _("Measurement")
    JUDGEMENT = "J", _("Judgement")


JUDGEMENT_SCORES = (0, 1, 2, 3)


class WSOSSection(models.Model):
    """A WorldSkills Occupational Standards section and its weight in marks."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="wsos_sections", verbose_name=_("skill")
    )
    number = models.CharField(_("section"), max_length=10)
    title = models.CharField(_("title"), max_length=300, blank=True)
    weight = models.DecimalField(_("weight (marks)"), max_digits=7, decimal_places=2)

    class Meta:
        verbose_name = _("WSOS section")
        verbose_name_plural = _("WSOS sections")
        ordering = ["skill", "number"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "number"], name="wsos_section_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Criterion(models.Model):
    """模块 — A, B, C … with the marks it is worth."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("skill")
    )
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=300)
    # The mark the scheme says the criterion is worth; the aspects must add up to it.
    max_mark = models.DecimalField(
        _("marks"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["skill", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "code"], name="criterion_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SubCriterion(models.Model):
    """子模块 — A1, A2 …"""

    criterion = models.ForeignKey(
        Criterion,
        on_delete=models.CASCADE,
        related_name="sub_criteria",
        verbose_name=_("criterion"),
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=300)
    marking_day = models.CharField(_("day of marking"), max_length=20, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("sub-criterion")
        verbose_name_plural = _("sub-criteria")
        ordering = ["criterion", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "code"], name="sub_criterion_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Aspect(models.Model):
    """评分点 — a Measurement (M) or Judgement (J) aspect."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="aspects", verbose_name=_("skill")
    )
    sub_criterion = models.ForeignKey(
        SubCriterion,
        on_delete=models.CASCADE,
        related_name="aspects",
        verbose_name=_("sub-criterion"),
    )
    code = models.CharField(_("code"), max_length=30)
    kind = models.CharField(_("type"), max_length=1, choices=AspectKind.choices)
    description = models.TextField(_("description"))
    extra_description = models.TextField(_("extra description"), blank=True)
    requirement = models.TextField(_("requirement"), blank=True)
    wsos_section = models.CharField(_("WSOS section"), max_length=10, blank=True)
    max_mark = models.DecimalField(
        _("max mark"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("aspect")
        verbose_name_plural = _("aspects")
        ordering = ["skill", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "code"], name="aspect_code_unique_in_skill"),
            models.CheckConstraint(condition=Q(max_mark__gt=0), name="aspect_max_mark_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind}, {self.max_mark})"

    @property
    def is_judgement(self) -> bool:
        return self.kind == AspectKind.JUDGEMENT


class JudgementDescriptor(models.Model):
    """What a judgement score 0–3 means for one aspect (shown under the buttons)."""

    aspect = models.ForeignKey(
        Aspect, on_delete=models.CASCADE, related_name="descriptors", verbose_name=_("aspect")
    )
    score = models.PositiveSmallIntegerField(_("score"))
    text = models.TextField(_("descriptor"))

    class Meta:
        verbose_name = _("judgement descriptor")
        verbose_name_plural = _("judgement descriptors")
        ordering = ["aspect", "score"]
        constraints = [
            models.UniqueConstraint(fields=["aspect", "score"], name="descriptor_once_per_score"),
            models.CheckConstraint(condition=Q(score__lte=3), name="descriptor_score_0_3"),
        ]

    def __str__(self) -> str:
        return f"{self.score}: {self.text[:40]}"


class MarkingGroup(models.Model):
    """A chief judge narrows judges to some entries and/or aspects.

    A judge in no group of a skill may mark every entry and aspect of it
    (except their own delegation's entries). A judge in one or more groups may
    mark only the (entry, aspect) pairs some group of theirs covers; a group
    with no entries listed covers all entries, likewise for aspects.
    """

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="marking_groups", verbose_name=_("skill")
    )
    name = models.CharField(_("name"), max_length=100)
    judges = models.ManyToManyField(Judge, related_name="marking_groups", verbose_name=_("judges"))
    entries = models.ManyToManyField(
        Entry, blank=True, related_name="marking_groups", verbose_name=_("entries")
    )
    aspects = models.ManyToManyField(
        Aspect, blank=True, related_name="marking_groups", verbose_name=_("aspects")
    )

    class Meta:
        verbose_name = _("marking group")
        verbose_name_plural = _("marking groups")
        ordering = ["skill", "name"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "name"], name="marking_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SkillMarking(models.Model):
    """The marking state of one skill: open or signed off, and the head of its
    ledger chain. Every mark write locks this row (select_for_update), which
    serialises writes within a skill (the chain needs a single predecessor)
    while skills proceed in parallel, and makes the sign-off check race-free."""

    class Status(models.TextChoices):
        OPEN = "open", _("Marking open")
        SIGNED_OFF = "signed_off", _("Signed off")

    skill = models.OneToOneField(
        Skill, on_delete=models.CASCADE, related_name="marking", verbose_name=_("skill")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    ledger_head = models.CharField(_("ledger head hash"), max_length=64, default="0" * 64)
    ledger_length = models.PositiveIntegerField(_("ledger records"), default=0)
    results_computed_at = models.DateTimeField(_("results computed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("skill marking state")
        verbose_name_plural = _("skill marking states")

    def __str__(self) -> str:
        return f"{self.skill}: {self.get_status_display()}"

    @property
    def is_signed_off(self) -> bool:
        return self.status == self.Status.SIGNED_OFF


class Mark(models.Model):
    """The current value of one mark.

    M aspects: one mark per (entry, aspect), whoever entered it.
    J aspects: one mark per (entry, aspect, judge), an integer 0–3.
    ``kind`` and ``skill`` are copied from the aspect so the database can
    enforce both rules and aggregate a skill without joins.
    """

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("skill")
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="marks", verbose_name=_("entry")
    )
    aspect = models.ForeignKey(
        Aspect, on_delete=models.CASCADE, related_name="marks", verbose_name=_("aspect")
    )
    # Empty only for an M mark that came from outside the judges' tablets
    # (imported by an organiser; the ledger names who imported it).
    judge = models.ForeignKey(
        Judge,
        on_delete=models.PROTECT,
        related_name="marks",
        verbose_name=_("judge"),
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=1, choices=AspectKind.choices, editable=False)
    value = models.DecimalField(_("mark"), max_digits=6, decimal_places=2)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "aspect"],
                condition=Q(kind="M"),
                name="one_measurement_mark_per_entry_aspect",
            ),
            models.UniqueConstraint(
                fields=["entry", "aspect", "judge"],
                condition=Q(kind="J"),
                name="one_judgement_mark_per_judge",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="mark_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="M") | Q(judge__isnull=False),
                name="judgement_mark_has_judge",
            ),
            models.CheckConstraint(
                condition=Q(kind="M") | Q(value__in=[0, 1, 2, 3]),
                name="judgement_mark_0_to_3",
            ),
        ]
        indexes = [models.Index(fields=["skill", "entry"], name="mark_skill_entry")]

    def __str__(self) -> str:
        judge = self.judge.code if self.judge is not None else "—"
        return f"{self.entry} {self.aspect.code} {judge}: {self.value}"


class LedgerAppendOnly(Exception):
    """Raised on any attempt to change or delete a ledger record through the ORM."""


class LedgerQuerySet(models.QuerySet):
    # Bulk update()/delete() would skip save()/delete(): refuse them too.
    # (Deleting a Mark still nulls LedgerRecord.mark: Django's collector does
    # that with its own UpdateQuery, not through this queryset.)
    def update(self, **kwargs):
        raise LedgerAppendOnly("ledger records are append-only")

    def delete(self):
        raise LedgerAppendOnly("ledger records are append-only")


class LedgerRecord(models.Model):
    """Append-only trace of every mark write and marking state change.

    Records of one skill form a hash chain: ``hash`` = HMAC-SHA256 over the
    record's canonical content and ``prev_hash`` (the skill's previous head),
    so altering or deleting any stored record breaks verification.

    Append-only: ``save()`` of an existing row, ``delete()`` and the
    queryset's ``update()``/``delete()`` raise ``LedgerAppendOnly``; on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0003; whole
    chains of removed skills go through ``scoring.ledger.purge_skills``).
    The hash is keyed (HMAC, ``PORTAL_LEDGER_KEY``), so whoever bypasses
    all that is found by ``scoring.ledger.verify_ledger``. See docs/integrity.md.
    Records are written only by the mark services (``scoring.marks``,
    ``scoring.batch``, ``scoring.signoff``), chained by ``scoring.ledger.chain``.
    """

    objects = LedgerQuerySet.as_manager()

    class Action(models.TextChoices):
        WRITE = "write", _("Mark written")
        SIGN_OFF = "sign_off", _("Signed off")
        REOPEN = "reopen", _("Reopened")
        ACKNOWLEDGE = "acknowledge", _("Discrepancy acknowledged")

    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("skill")
    )
    seq = models.PositiveIntegerField(_("sequence in skill"))
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    mark = models.ForeignKey(
        Mark, on_delete=models.SET_NULL, null=True, blank=True, related_name="ledger"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    aspect = models.ForeignKey(
        Aspect, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    judge = models.ForeignKey(
        Judge, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    new_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    device = models.CharField(_("device"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # A tablet's retry carries the same key; a second write with it changes nothing.
    client_key = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("at"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("ledger record")
        verbose_name_plural = _("ledger records")
        ordering = ["skill", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "seq"], name="ledger_seq_unique_in_skill"),
            models.UniqueConstraint(
                fields=["client_key"],
                condition=Q(client_key__isnull=False),
                name="ledger_client_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise LedgerAppendOnly("ledger records are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerAppendOnly("ledger records are append-only")


class DiscrepancyAcknowledgement(models.Model):
    """The chief judge has seen a flagged judgement aspect of an entry.
    A later change to one of its marks removes the acknowledgement."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    aspect = models.ForeignKey(Aspect, on_delete=models.CASCADE, related_name="+")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("discrepancy acknowledgement")
        verbose_name_plural = _("discrepancy acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["entry", "aspect"], name="acknowledged_once")
        ]

    def __str__(self) -> str:
        return f"{self.entry} {self.aspect.code}"


class EntryResult(models.Model):
    """The computed result of an entry, stored per skill recomputation so
    pages, awards and exports read rows instead of re-aggregating marks."""

    entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, related_name="result", verbose_name=_("entry")
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="results")
    # Exact sum of aspect marks (before rounding) is kept for audits.
    raw_total = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    final_score = models.DecimalField(
        _("final score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    scale_score = models.PositiveSmallIntegerField(_("scale score"), null=True, blank=True)
    complete = models.BooleanField(_("complete"), default=False)
    missing_marks = models.PositiveIntegerField(_("missing marks"), default=0)
    discrepancies = models.PositiveIntegerField(_("discrepancies"), default=0)

    class Meta:
        verbose_name = _("entry result")
        verbose_name_plural = _("entry results")
        ordering = ["skill", "rank"]
        indexes = [models.Index(fields=["skill", "rank"], name="result_skill_rank")]

    def __str__(self) -> str:
        return f"{self.entry}: {self.final_score} (#{self.rank})"
