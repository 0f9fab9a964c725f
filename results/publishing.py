"""Publishing and unpublishing a skill's results, and what a delegation lead
is told before publication (docs/integrity.md).

The organiser publishes a skill only after the chief judge signed its marks
off; unpublishing needs a reason. Reopening the marks (a correction, an
upheld appeal) unpublishes through ``competitions.publication.on_reopened``,
which stays below scoring because ``scoring.signoff.reopen`` calls it. The
state queries (is published, published skills, who may see results) are in
``competitions.publication``.

Before publication a delegation lead sees only the *status* of their own
entries (:func:`entry_status_for_lead`): registered / marking / signed off —
never a score or a rank.

Locking order: the skill's ``SkillMarking`` row first, then its
``SkillPublication`` row — the same order as ``scoring.signoff.reopen`` →
``on_reopened``, so publish and reopen cannot deadlock, and a publish cannot
slip in between a reopen's check and its write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from competitions.models import PublicationLog, Skill, SkillPublication
from competitions.publication import published_skills, results_visible_to, withdraw
from scoring.models import EntryResult, SkillMarking
from teams import roles
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


# ---------------------------------------------------------------- lead's view


def entry_status_for_lead(entry: Entry) -> LeadEntryStatus:
    """registered → marking → signed off → published, for the entry's own lead.

    Says nothing about scores. "Marking" starts with the skill's first ledger
    record (a mark written), and comes back after a reopening.
    """
    return entry_statuses([entry])[entry.pk]


def entry_statuses(entries: Iterable[Entry]) -> dict[int, LeadEntryStatus]:
    """:func:`entry_status_for_lead` for many entries in three queries."""
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
        withdraw(publication, skill, by_user, reason, PublicationLog.Action.UNPUBLISHED, now)
    return publication
