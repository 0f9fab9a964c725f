"""Publication state of a skill's results (docs/integrity.md).

Results of a skill leave the judges' room only when an organiser publishes
them, and only after the chief judge signed the marks off. This module holds
what the lower layers need to *read* that state — is a skill published,
which skills are, may this person see the results — plus :func:`on_reopened`,
which ``scoring.signoff.reopen`` calls inside its transaction so results
under correction are withdrawn. The organiser's actions (publish, unpublish)
and the delegation lead's entry statuses live in ``results.publishing``.
Every change is a ``PublicationLog`` row.

Visibility — one answer for every page, export and task (:func:`results_visible_to`):

==========================  ===================================================
organiser                   always (they run the competition)
chief judge of the skill    always (they check the results before signing off)
judge of the skill          once signed off (their marks are locked by then)
delegation lead, public     only while published
==========================  ===================================================

The sign-off is read through the skill's reverse relation ``marking`` (the
scoring app's ``SkillMarking``) in the query itself, so this module imports
nothing above ``competitions``. ``SIGNED_OFF`` is that model's status value;
a test keeps the two equal.

Locking order: the skill's ``SkillMarking`` row first, then its
``SkillPublication`` row — the same order as ``scoring.signoff.reopen`` →
``on_reopened``, so publish and reopen cannot deadlock, and a publish cannot
slip in between a reopen's check and its write.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from teams import roles

from .models import Event, PublicationLog, Skill, SkillPublication

# ``scoring.models.SkillMarking.Status.SIGNED_OFF`` (a test keeps them equal).
SIGNED_OFF = "signed_off"


# ---------------------------------------------------------------- state


def is_signed_off(skill: Skill) -> bool:
    return Skill.objects.filter(pk=skill.pk, marking__status=SIGNED_OFF).exists()


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
        marking__status=SIGNED_OFF,
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


# ---------------------------------------------------------------- changes


def withdraw(
    publication: SkillPublication,
    skill: Skill,
    by_user,
    reason: str,
    action: str,
    now: dt.datetime,
) -> None:
    """Mark ``publication`` withdrawn and log why (``action``); the caller holds
    the row's lock."""
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


def on_reopened(skill: Skill, by_user, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Hook for ``scoring.signoff.reopen``: results under correction are not
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
        withdraw(
            publication,
            skill,
            by_user,
            (reason or "").strip(),
            PublicationLog.Action.REOPENED,
            now,
        )
    return True
