"""Awards, certificates and their layouts (docs/awards.md). The medal table
is counted from the awards when read (``awards.medals``).

Rules live in ``awards.policies`` (pure) and the modules named by question
(``awarding``, ``issuing``, ``batches``…) that write;
this module holds the data and the invariants the database can enforce.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from competitions.models import Event, Programme, Skill
from files.models import GeneratedFile
from teams.models import Athlete, Delegation, Entry

from . import policies


class TitleKind(models.TextChoices):
    TECHNICAL_EXPERT = policies.TECHNICAL_EXPERT, _("技术能手 (technical expert)")
    WINNER = policies.WINNER, _("优胜者 (winner)")


class AwardKind(models.TextChoices):
    GOLD = policies.GOLD, _("Gold medal")
    SILVER = policies.SILVER, _("Silver medal")
    BRONZE = policies.BRONZE, _("Bronze medal")
    EXCELLENCE = policies.EXCELLENCE, _("Medallion for Excellence")
    FIRST = policies.FIRST, _("First prize")
    SECOND = policies.SECOND, _("Second prize")
    THIRD = policies.THIRD, _("Third prize")


def _percent(verbose_name, default: int) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )


class AwardSettings(models.Model):
    """The parameters of the award policies: one row per programme (the default,
    ``skill`` empty) and optionally one per skill that overrides it whole. The
    policy itself is ``Skill.award_policy``."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="award_settings",
        verbose_name=_("programme"),
    )
    skill = models.OneToOneField(
        Skill,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="award_settings",
        verbose_name=_("skill (override)"),
        help_text=_("Empty: the programme's default for all its skills."),
    )
    # Cumulative shares of the ranked entries: h(p × N) is the last rank of a prize.
    first_percent = _percent(_("first prize: best share (%)"), 10)
    second_percent = _percent(_("first + second prize: best share (%)"), 30)
    third_percent = _percent(_("all prizes: best share (%)"), 60)
    excellence_threshold = models.PositiveSmallIntegerField(
        _("excellence threshold (scale score)"), default=700
    )
    title_cutoff_individual = models.PositiveSmallIntegerField(
        _("title: best ranks, individual skills"), default=5
    )
    title_cutoff_pair = models.PositiveSmallIntegerField(
        _("title: best ranks, teams of 2"), default=3
    )
    title_cutoff_team = models.PositiveSmallIntegerField(
        _("title: best ranks, teams of 3 or more"), default=2
    )
    title_name = models.CharField(
        _("title name"), max_length=40, default=policies.DEFAULT_TITLE_NAME
    )
    # The titles policy (docs/rewards.md): 技术能手 up to h(expert × N), 优胜者 up to h(winner × N).
    expert_percent = _percent(_("技术能手: best share (%)"), 15)
    winner_percent = _percent(_("技术能手 + 优胜者: best share (%)"), 40)
    winner_title_name = models.CharField(
        _("second title name"), max_length=40, default=policies.DEFAULT_WINNER_TITLE_NAME
    )

    class Meta:
        verbose_name = _("award settings")
        verbose_name_plural = _("award settings")
        constraints = [
            models.UniqueConstraint(
                fields=["programme"],
                condition=Q(skill__isnull=True),
                name="award_settings_one_default_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(first_percent__lte=models.F("second_percent"))
                & Q(second_percent__lte=models.F("third_percent")),
                name="award_settings_ratios_ascending",
            ),
            models.CheckConstraint(
                condition=Q(expert_percent__lte=models.F("winner_percent")),
                name="award_settings_title_ratios_ascending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.skill or _('default')}"

    def as_policy_settings(self) -> policies.PolicySettings:
        return policies.PolicySettings(
            first_percent=Decimal(self.first_percent),
            second_percent=Decimal(self.second_percent),
            third_percent=Decimal(self.third_percent),
            excellence_threshold=self.excellence_threshold,
            title_cutoff_individual=self.title_cutoff_individual,
            title_cutoff_pair=self.title_cutoff_pair,
            title_cutoff_team=self.title_cutoff_team,
            expert_percent=Decimal(self.expert_percent),
            winner_percent=Decimal(self.winner_percent),
        )

    def title_text(self, title_kind: str) -> str:
        """The programme's wording of a title, as printed."""
        if title_kind == policies.WINNER:
            return self.winner_title_name
        return self.title_name


class Award(models.Model):
    """What one entry won in its skill. One row per entry (a team counts once);
    entries with neither an award nor the title have no row."""

    entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, related_name="award", verbose_name=_("entry")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="awards", verbose_name=_("skill")
    )
    kind = models.CharField(
        _("award"), max_length=12, choices=AwardKind.choices, null=True, blank=True
    )
    title = models.BooleanField(_("title (技术能手)"), default=False)
    # Which title when ``title``: technical_expert (national policy and the
    # titles policy's first) or winner (the titles policy's second).
    title_kind = models.CharField(
        _("title"), max_length=20, choices=TitleKind.choices, blank=True, default=""
    )
    policy = models.CharField(_("policy"), max_length=20)
    rank = models.PositiveIntegerField(_("rank"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["skill", "rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__isnull=False) | Q(title=True), name="award_has_award_or_title"
            )
        ]

    def __str__(self) -> str:
        title = f" + {pgettext('award', 'title')}" if self.title else ""
        return f"{self.entry}: {self.get_kind_display() or ''}{title}"

    @property
    def chinese_name(self) -> str:
        return policies.CHINESE_NAMES.get(self.kind or "", "")

    @property
    def title_code(self) -> str:
        """technical_expert / winner / "" (a ``title`` row without a kind: technical_expert)."""
        if not self.title:
            return ""
        return self.title_kind or policies.TECHNICAL_EXPERT


class PageSize(models.TextChoices):
    A4 = "A4", "A4"
    A3 = "A3", "A3"
    A5 = "A5", "A5"
    B5 = "B5", "B5"


class Orientation(models.TextChoices):
    LANDSCAPE = "landscape", _("Landscape")
    PORTRAIT = "portrait", _("Portrait")


def background_path(instance: CertificateLayout, filename: str) -> str:
    return f"awards/layouts/{instance.programme_id}/{filename}"


class CertificateLayout(models.Model):
    """Where each field of a certificate goes, for one programme.

    ``fields`` maps a field name (``awards.certificates.FIELDS``) to
    ``{"x": mm, "y": mm from the top, "size": pt (QR: side in mm),
    "align": "left"|"center"|"right", "text": "…{}…"}``; "{}" is replaced by
    the value. ``version`` goes up on every change so certificates rendered
    with an older layout are rendered again.
    """

    programme = models.OneToOneField(
        Programme,
        on_delete=models.CASCADE,
        related_name="certificate_layout",
        verbose_name=_("programme"),
    )
    page_size = models.CharField(
        _("page size"), max_length=4, choices=PageSize.choices, default=PageSize.A4
    )
    orientation = models.CharField(
        _("orientation"), max_length=10, choices=Orientation.choices, default=Orientation.LANDSCAPE
    )
    background = models.FileField(
        _("background (image or PDF)"), upload_to=background_path, blank=True
    )
    # What is actually drawn: the background normalised to a JPEG once, so a
    # batch copies bytes instead of re-encoding an image per certificate.
    background_render = models.FileField(upload_to=background_path, blank=True, editable=False)
    draw_border = models.BooleanField(
        _("draw a decorative border"),
        default=True,
        help_text=_("Useful without a background image."),
    )
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    certificate_date = models.DateField(
        _("date printed"),
        null=True,
        blank=True,
        help_text=_("Empty: the last day of the event."),
    )
    version = models.PositiveIntegerField(_("layout version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("certificate layout")
        verbose_name_plural = _("certificate layouts")

    def __str__(self) -> str:
        return f"{self.programme} · v{self.version}"


class SerialCounter(models.Model):
    """The last serial number handed out in a programme; only ever goes up, so
    a serial is never re-used even if its certificate is revoked or deleted."""

    programme = models.OneToOneField(Programme, on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.last_number}"


class CertificateBatch(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RENDERING = "rendering", _("Rendering")
        ZIPPING = "zipping", _("Packing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="certificate_batches", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    chunk_size = models.PositiveIntegerField(_("certificates per task"), default=100)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    rendered = models.PositiveIntegerField(_("rendered"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    error_log = models.TextField(_("errors"), blank=True)
    # The zip of every certificate: its progress mirrors the batch's, and it
    # carries the expiry and the download rule (files.GeneratedFile).
    archive = models.OneToOneField(
        GeneratedFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certificate_batch",
        verbose_name=_("zip"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate batch")
        verbose_name_plural = _("certificate batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class CertificateChunk(models.Model):
    """A slice of a batch rendered by one task. ``done``/``errors`` are set (not
    added to) by the chunk, so a redelivered chunk never counts twice."""

    batch = models.ForeignKey(CertificateBatch, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    certificate_ids = models.JSONField(default=list)
    done = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    completed = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="chunk_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.index}"


class BatchDelegationZip(models.Model):
    batch = models.ForeignKey(
        CertificateBatch, on_delete=models.CASCADE, related_name="delegation_zips"
    )
    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="+")
    # Purged with its file when that expires (files.services.purge_expired).
    generated = models.OneToOneField(
        GeneratedFile, on_delete=models.CASCADE, related_name="delegation_zip"
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "delegation"], name="batch_zip_once"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.delegation_id}"


def certificate_path(instance: Certificate, filename: str) -> str:
    return f"awards/certificates/{instance.programme_id}/{filename}"


class Certificate(models.Model):
    """One athlete's certificate for one award or the title of one entry."""

    class Category(models.TextChoices):
        AWARD = "award", _("Award")
        TITLE = "title", _("Title")

    serial = models.CharField(_("serial number"), max_length=60, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("event")
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("entry")
    )
    athlete = models.ForeignKey(
        Athlete, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("athlete")
    )
    delegation = models.ForeignKey(
        Delegation, on_delete=models.PROTECT, related_name="+", verbose_name=_("delegation")
    )
    category = models.CharField(_("category"), max_length=5, choices=Category.choices)
    # What the certificate states: an AwardKind, or "title".
    award_kind = models.CharField(_("award"), max_length=12)
    award_text = models.CharField(_("award as printed"), max_length=60)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    file = models.FileField(_("file"), upload_to=certificate_path, blank=True, max_length=200)
    fingerprint = models.CharField(_("content fingerprint"), max_length=64, blank=True)
    layout_version = models.PositiveIntegerField(_("layout version"), null=True, blank=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    render_count = models.PositiveIntegerField(_("times rendered"), default=0)
    revoked = models.BooleanField(_("revoked"), default=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["serial"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "athlete", "category"],
                condition=Q(revoked=False),
                name="one_live_certificate_per_athlete_award",
            )
        ]
        indexes = [models.Index(fields=["event", "delegation"], name="cert_event_delegation")]

    def __str__(self) -> str:
        return self.serial
