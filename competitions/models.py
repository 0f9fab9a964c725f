"""Programmes, their phases, events and skills (docs/roles.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AwardPolicy(models.TextChoices):
    WORLDSKILLS = "worldskills", _("WorldSkills (medals + excellence)")
    NATIONAL = "national", _("National (medals + 优胜奖 + title)")
    RATIO = "ratio", _("Ratio (一/二/三等奖)")
    TITLES = "titles", _("Titles (技术能手 / 优胜者)")


class JudgementAggregation(models.TextChoices):
    MEAN = "mean", _("Mean of all scores")
    TRIMMED = "trimmed", _("Trimmed mean (drop highest and lowest when 5+ judges)")


class Programme(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    issuing_body = models.CharField(_("issuing body"), max_length=200, blank=True)
    default_award_policy = models.CharField(
        _("default award policy"),
        max_length=20,
        choices=AwardPolicy.choices,
        default=AwardPolicy.RATIO,
    )
    # Scale score constants (docs/scoring.md) are settings of the programme.
    scale_median = models.PositiveSmallIntegerField(_("scale score median"), default=700)
    scale_spread = models.PositiveSmallIntegerField(_("scale score spread"), default=30)
    appeal_window_hours = models.PositiveSmallIntegerField(_("appeal window (hours)"), default=2)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """A dated stage of a programme (阶段): 动员部署, 岗位练兵, 比武决赛, 总结表彰,
    or one the organiser names. The four standard kinds occur once per
    programme; custom stages carry their own name. See docs/rewards.md."""

    class Kind(models.TextChoices):
        MOBILISATION = "mobilisation", _("Mobilisation")
        TRAINING = "training", _("On-the-job training")
        COMPETITION = "competition", _("Contest and final")
        COMMENDATION = "commendation", _("Summary and commendation")
        CUSTOM = "custom", _("Custom stage")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="phases", verbose_name=_("programme")
    )
    kind = models.CharField(_("phase"), max_length=20, choices=Kind.choices)
    name = models.CharField(
        _("name"),
        max_length=100,
        blank=True,
        help_text=_("Required for a custom stage; replaces the standard name otherwise."),
    )
    description = models.TextField(
        _("what happens"), max_length=2000, blank=True, help_text=_("Shown on the public page.")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["programme", "starts_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "kind"],
                condition=~Q(kind="custom"),
                name="phase_once_per_programme",
            ),
            models.CheckConstraint(
                condition=~Q(kind="custom") | ~Q(name=""), name="phase_custom_has_name"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="phase_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.label}"

    @property
    def label(self) -> str:
        return self.name or str(self.get_kind_display())


class Event(models.Model):
    class Kind(models.TextChoices):
        TRAINING = "training", _("Training round")
        SELECTION = "selection", _("Selection round")
        FINAL = "final", _("Final")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REGISTRATION = "registration", _("Registration open")
        COMPETITION = "competition", _("Competition")
        CLOSED = "closed", _("Closed")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="events", verbose_name=_("programme")
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FINAL)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    registration_deadline = models.DateTimeField(
        _("registration deadline"),
        null=True,
        blank=True,
        help_text=_("Delegation leads may register entries until this moment."),
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="event_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def registration_open(self, now=None) -> bool:
        """Leads may register while the event takes registrations and the deadline is ahead."""
        now = now or timezone.now()
        if self.status not in (self.Status.DRAFT, self.Status.REGISTRATION):
            return False
        return self.registration_deadline is None or now <= self.registration_deadline


class Skill(models.Model):
    class Category(models.TextChoices):
        WORLDSKILLS_SELECTION = "worldskills_selection", _("WorldSkills selection")
        NATIONAL_FEATURED = "national_featured", _("National featured")
        PROVINCIAL = "provincial", _("Provincial")
        OTHER = "other", _("Other")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="skills", verbose_name=_("event")
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    team_size = models.PositiveSmallIntegerField(
        _("team size"), default=1, validators=[MinValueValidator(1)]
    )
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, default=Category.PROVINCIAL
    )
    award_policy = models.CharField(
        _("award policy"), max_length=20, choices=AwardPolicy.choices, default=AwardPolicy.RATIO
    )
    judgement_aggregation = models.CharField(
        _("judgement aggregation"),
        max_length=10,
        choices=JudgementAggregation.choices,
        default=JudgementAggregation.MEAN,
    )
    discrepancy_tolerance = models.PositiveSmallIntegerField(
        _("discrepancy tolerance"),
        default=1,
        help_text=_("Judgement scores differing by more than this are flagged."),
    )

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["event", "code"]
        constraints = [
            models.UniqueConstraint(fields=["event", "code"], name="skill_code_unique_in_event"),
            models.CheckConstraint(condition=Q(team_size__gte=1), name="skill_team_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    # Drop-downs name a skill with its event: one code and name may recur
    # across events (the admin and the portal's forms use this label).
    CHOICE_RELATED = ("event",)

    def choice_label(self) -> str:
        return f"{self.code} {self.name} · {self.event.name}"

    @property
    def is_team(self) -> bool:
        return self.team_size >= 2


# --------------------------------------------------------------------------
# Publication (docs/integrity.md: results are visible to delegations and the
# public only after the organiser publishes them) — rules in publication.py.
# --------------------------------------------------------------------------


class SkillPublication(models.Model):
    """Whether a skill's signed-off results are public. One row per skill,
    created the first time an organiser publishes it; the row is the lock that
    serialises publish / unpublish / the automatic unpublish on reopening."""

    skill = models.OneToOneField(
        Skill, on_delete=models.CASCADE, related_name="publication", verbose_name=_("skill")
    )
    published = models.BooleanField(_("published"), default=False)
    # The latest publication: the appeal window runs from here.
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    unpublished_at = models.DateTimeField(_("unpublished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("skill publication")
        verbose_name_plural = _("skill publications")

    def __str__(self) -> str:
        return f"{self.skill}: {'published' if self.published else 'not published'}"


class PublicationLog(models.Model):
    """Who published or withdrew a skill's results, when and why."""

    class Action(models.TextChoices):
        PUBLISHED = "published", _("Published")
        UNPUBLISHED = "unpublished", _("Unpublished")
        # Reopening marks (a correction, an upheld appeal) withdraws the results.
        REOPENED = "reopened", _("Unpublished: marking reopened")

    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="publication_log", verbose_name=_("skill")
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("publication log record")
        verbose_name_plural = _("publication log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["skill", "at"], name="publication_log_skill_at")]

    def __str__(self) -> str:
        return f"{self.skill} {self.action} {self.at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------
# Selection rounds: qualifiers advanced into the next event — advancement.py.
# --------------------------------------------------------------------------


class Advancement(models.Model):
    """One advancement of qualifiers from a signed-off skill into the same
    skill of the next event. Kept after an undo (``undone_at`` set) so the
    trace of what was done stays."""

    class Rule(models.TextChoices):
        TOP_N = "top_n", _("Top N by rank (ties with the Nth included)")
        MIN_SCORE = "min_score", _("Final score at or above")

    source_skill = models.ForeignKey(
        Skill,
        on_delete=models.PROTECT,
        related_name="advancements_out",
        verbose_name=_("from skill"),
    )
    target_skill = models.ForeignKey(
        Skill,
        on_delete=models.PROTECT,
        related_name="advancements_in",
        verbose_name=_("into skill"),
    )
    rule = models.CharField(_("rule"), max_length=10, choices=Rule.choices)
    top_n = models.PositiveIntegerField(_("top N"), null=True, blank=True)
    min_score = models.DecimalField(
        _("minimum final score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("advancement")
        verbose_name_plural = _("advancements")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(rule="top_n") & Q(top_n__gte=1) & Q(min_score__isnull=True))
                | (Q(rule="min_score") & Q(min_score__isnull=False) & Q(top_n__isnull=True)),
                name="advancement_rule_has_its_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_skill} → {self.target_skill.event}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class AdvancedEntry(models.Model):
    """One qualifier of an advancement: the entry it came from and the entry
    created for it. The created entry is deleted by an undo; the competitor
    number, delegation and names stay here for the record."""

    advancement = models.ForeignKey(
        Advancement, on_delete=models.CASCADE, related_name="entries", verbose_name=_("advancement")
    )
    source_entry = models.ForeignKey(
        "teams.Entry",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("qualifying entry"),
    )
    created_entry = models.ForeignKey(
        "teams.Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advanced_from",
        verbose_name=_("created entry"),
    )
    delegation = models.ForeignKey(
        "teams.Delegation", on_delete=models.PROTECT, related_name="+", verbose_name=_("delegation")
    )
    source_competitor_no = models.CharField(_("competitor number (from)"), max_length=20)
    source_rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    source_final_score = models.DecimalField(
        _("final score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    competitor_no = models.CharField(_("new competitor number"), max_length=20)
    names = models.CharField(_("names"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("advanced entry")
        verbose_name_plural = _("advanced entries")
        ordering = ["advancement", "source_rank", "source_competitor_no"]

    def __str__(self) -> str:
        return f"{self.source_competitor_no} → {self.competitor_no}"


class ImportJob(models.Model):
    """An event workbook uploaded in the browser, imported by a Celery worker
    (``interchange.jobs``): the page polls it for progress and shows its
    report (every problem with sheet, row and column) when it is finished."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused, nothing written")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    event_code = models.CharField(_("event code"), max_length=40)
    event_name = models.CharField(_("event name"), max_length=200, blank=True)
    dry_run = models.BooleanField(_("check only"), default=False)
    original_name = models.CharField(_("file"), max_length=200)
    file_size = models.PositiveBigIntegerField(_("size"), default=0)
    # Where the upload waits for the worker (default storage); emptied when done.
    stored_name = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # The finished import: counts, problems (both languages), warnings.
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("workbook import")
        verbose_name_plural = _("workbook imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_code} · {self.original_name} · {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
