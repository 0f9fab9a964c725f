"""Publication of a skill's results (docs/integrity.md).

Results of a skill leave the judges' room only when an organiser publishes
them, and only after the chief judge signed the marks off. Unpublishing needs
a reason; reopening the marks (a correction, an upheld appeal) unpublishes
automatically through :func:`on_reopened`, which ``scoring.services.reopen``
calls inside its transaction. Every change is a ``PublicationLog`` row.

Visibility — one answer for every page, export and task (:func:`results_visible_to`):

==========================  ===================================================
organiser                   always (they run the competition)
chief judge of the skill    always (they check the results before signing off)
judge of the skill          once signed off (their marks are locked by then)
delegation lead, public     only while published
==========================  ===================================================

Before publication a delegation lead sees only the *status* of their own
entries (:func:`entry_status_for_lead`): registered / marking / signed off —
never a score or a rank.

Locking order: the skill's ``SkillMarking`` row first, then its
``SkillPublication`` row — the same order as ``scoring.services.reopen`` →
``on_reopened``, so publish and reopen cannot deadlock, and a publish cannot
slip in between a reopen's check and its write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from teams import roles

from .models import Event, PublicationLog, Skill, SkillPublication

if TYPE_CHECKING:
    from scoring.models import EntryResult
    from teams.models import Entry


class PublicationRefused(Exception):
    """A publication change the rules refuse; ``message`` is for the person."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class LeadEntryStatus(models.TextChoices):
    """What a delegation lead is told about one of their entries."""

    REGISTERED = "registered", gettext_lazy("Registered")
    MARKING = "marking", pgettext_lazy("status", "Marking")
    SIGNED_OFF = "signed_off", gettext_lazy("Signed off")
    PUBLISHED = "published", gettext_lazy("Published")


# ---------------------------------------------------------------- state


def _signed_off_status() -> str:
    # Imported late: scoring.models imports competitions.models.
    from scoring.models import SkillMarking

    return SkillMarking.Status.SIGNED_OFF


def is_signed_off(skill: Skill) -> bool:
    from scoring.models import SkillMarking

    return SkillMarking.objects.filter(skill_id=skill.pk, status=_signed_off_status()).exists()


def is_published(skill: Skill) -> bool:
    """Published, still signed off, and published after the latest sign-off.

    The last two conditions are a safety net: should a reopening ever bypass
    :func:`on_reopened`, results under correction do not show, and signing
    them off again does not bring them back without the organiser.
    """
    return published_skills().filter(pk=skill.pk).exists()


def published_skills(event: Event | None = None) -> QuerySet[Skill]:
    """Skills whose results are public, for pages listing many skills."""
    skills = Skill.objects.filter(
        publication__published=True,
        marking__status=_signed_off_status(),
        publication__published_at__gte=F("marking__signed_off_at"),
    )
    if event is not None:
        skills = skills.filter(event=event)
    return skills


def published_at(skill: Skill) -> dt.datetime | None:
    """When the current publication happened (None when not published)."""
    if not is_published(skill):
        return None
    return SkillPublication.objects.filter(skill_id=skill.pk).values_list(
        "published_at", flat=True
    )[0]


def event_fully_published(event: Event) -> bool:
    """Every skill of the event that has entries is published: the event-wide
    pages (medal table, certificates) may then go public."""
    with_entries = Skill.objects.filter(event=event, entries__isnull=False).distinct()
    if not with_entries.exists():
        return False
    return not with_entries.exclude(pk__in=published_skills(event).values("pk")).exists()


# ---------------------------------------------------------------- visibility


def results_visible_to(user, skill: Skill) -> bool:
    """May ``user`` (possibly anonymous) see the scores and ranks of ``skill``?"""
    if user is not None and user.is_authenticated:
        if roles.is_organiser(user) or roles.is_chief_of(user, skill):
            return True
        judge = roles.judge_of(user)
        if (
            judge is not None
            and skill.assignments.filter(judge=judge).exists()
            and is_signed_off(skill)
        ):
            return True
    return is_published(skill)


def event_results_visible_to(user, event: Event) -> bool:
    """Event-wide results (medal table, certificates): organisers always,
    everyone else once every skill of the event is published."""
    if user is not None and user.is_authenticated and roles.is_organiser(user):
        return True
    return event_fully_published(event)


def entry_status_for_lead(entry: Entry) -> LeadEntryStatus:
    """registered → marking → signed off → published, for the entry's own lead.

    Says nothing about scores. "Marking" starts with the skill's first ledger
    record (a mark written), and comes back after a reopening.
    """
    return entry_statuses([entry])[entry.pk]


def entry_statuses(entries: Iterable[Entry]) -> dict[int, LeadEntryStatus]:
    """:func:`entry_status_for_lead` for many entries in three queries."""
    from scoring.models import SkillMarking

    entries = list(entries)
    skill_ids = {e.skill_id for e in entries}
    markings = {
        m.skill_id: m
        for m in SkillMarking.objects.filter(skill_id__in=skill_ids).only(
            "skill_id", "status", "ledger_length"
        )
    }
    published = set(published_skills().filter(pk__in=skill_ids).values_list("pk", flat=True))
    statuses: dict[int, LeadEntryStatus] = {}
    for entry in entries:
        marking = markings.get(entry.skill_id)
        if entry.skill_id in published:
            status = LeadEntryStatus.PUBLISHED
        elif marking is not None and marking.is_signed_off:
            status = LeadEntryStatus.SIGNED_OFF
        elif marking is not None and marking.ledger_length > 0:
            status = LeadEntryStatus.MARKING
        else:
            status = LeadEntryStatus.REGISTERED
        statuses[entry.pk] = status
    return statuses


def visible_result(user, entry: Entry) -> EntryResult | None:
    """The entry's stored result if ``user`` may see it, else None — for pages
    that show one line per entry (a lead's dashboard before publication gets
    None and shows :func:`entry_status_for_lead` instead)."""
    from scoring.models import EntryResult

    if not results_visible_to(user, entry.skill):
        return None
    return EntryResult.objects.filter(entry_id=entry.pk).first()


# ---------------------------------------------------------------- changes


def _require_organiser(user) -> None:
    if user is None or not roles.is_organiser(user):
        raise PermissionDenied(_("Only organisers may publish or unpublish results."))


def _locked(skill: Skill) -> SkillPublication:
    """The skill's publication row, locked until the end of the transaction."""
    SkillPublication.objects.get_or_create(skill_id=skill.pk)
    return SkillPublication.objects.select_for_update().get(skill_id=skill.pk)


def _lock_marking(skill: Skill):
    from scoring.models import SkillMarking

    return SkillMarking.objects.select_for_update().filter(skill_id=skill.pk).first()


def _effective(publication: SkillPublication, marking) -> bool:
    """The row-level twin of :func:`published_skills`' condition."""
    return (
        publication.published
        and marking is not None
        and marking.is_signed_off
        and publication.published_at is not None
        and marking.signed_off_at is not None
        and publication.published_at >= marking.signed_off_at
    )


def publish(skill: Skill, by_user, *, now: dt.datetime | None = None) -> SkillPublication:
    """Make the skill's results public. Organisers only, after sign-off."""
    _require_organiser(by_user)
    now = now or timezone.now()
    with transaction.atomic():
        marking = _lock_marking(skill)
        if marking is None or not marking.is_signed_off:
            raise PublicationRefused(
                _("%(skill)s cannot be published: its marks are not signed off.")
                % {"skill": skill},
                code="not_signed_off",
            )
        publication = _locked(skill)
        if _effective(publication, marking):
            raise PublicationRefused(
                _("%(skill)s is already published.") % {"skill": skill}, code="already_published"
            )
        publication.published = True
        publication.published_at = now
        publication.published_by = by_user
        publication.save()
        PublicationLog.objects.create(
            skill=skill, action=PublicationLog.Action.PUBLISHED, actor=by_user, at=now
        )
    return publication


def _withdraw(
    publication: SkillPublication,
    skill: Skill,
    by_user,
    reason: str,
    action: str,
    now: dt.datetime,
) -> None:
    publication.published = False
    publication.unpublished_at = now
    publication.save(update_fields=["published", "unpublished_at"])
    PublicationLog.objects.create(
        skill=skill,
        action=action,
        reason=reason,
        actor=by_user if getattr(by_user, "pk", None) else None,
        at=now,
    )


def unpublish(
    skill: Skill, by_user, reason: str, *, now: dt.datetime | None = None
) -> SkillPublication:
    """Withdraw published results. Organisers only; the reason is required."""
    _require_organiser(by_user)
    reason = (reason or "").strip()
    if not reason:
        raise PublicationRefused(
            _("A reason is required to unpublish results."), code="reason_required"
        )
    now = now or timezone.now()
    with transaction.atomic():
        marking = _lock_marking(skill)
        publication = _locked(skill)
        if not _effective(publication, marking):
            raise PublicationRefused(
                _("%(skill)s is not published.") % {"skill": skill}, code="not_published"
            )
        _withdraw(publication, skill, by_user, reason, PublicationLog.Action.UNPUBLISHED, now)
    return publication


def on_reopened(skill: Skill, by_user, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Hook for ``scoring.services.reopen``: results under correction are not
    public. Call it inside reopen's transaction (after the SkillMarking lock).

    Idempotent — returns True when it unpublished something, False when the
    skill was not published. No permission check: reopening was already
    allowed (chief judge or organiser) by the caller.
    """
    now = now or timezone.now()
    with transaction.atomic():
        publication = SkillPublication.objects.select_for_update().filter(skill_id=skill.pk).first()
        if publication is None or not publication.published:
            return False
        _withdraw(
            publication,
            skill,
            by_user,
            (reason or "").strip(),
            PublicationLog.Action.REOPENED,
            now,
        )
    return True
