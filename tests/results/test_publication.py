"""Publication services: publish after sign-off by organisers, unpublish with
a reason, automatic unpublish on reopening, visibility by role, and what a
delegation lead is told before publication."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from competitions import publication
from competitions.models import PublicationLog, SkillPublication
from results import publishing
from results.publishing import LeadEntryStatus, PublicationRefused
from scoring import signoff
from scoring.models import SkillMarking
from tests import factories as f
from tests.appeals.builders import published_world, sign_off, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---------------------------------------------------------------- publish


def test_publish_after_sign_off_is_logged():
    w = world()
    at = timezone.now()
    publishing.publish(w.skill, w.organiser, now=at)
    assert publication.is_published(w.skill)
    assert publication.published_at(w.skill) == at
    row = SkillPublication.objects.get(skill=w.skill)
    assert row.published_by == w.organiser
    log = PublicationLog.objects.get(skill=w.skill)
    assert (log.action, log.actor, log.at) == (PublicationLog.Action.PUBLISHED, w.organiser, at)


def test_publish_refused_before_sign_off():
    w = world(signed_off=False)
    with pytest.raises(PublicationRefused) as exc:
        publishing.publish(w.skill, w.organiser)
    assert exc.value.code == "not_signed_off"
    SkillMarking.objects.create(skill=w.skill)  # marking open
    with pytest.raises(PublicationRefused):
        publishing.publish(w.skill, w.organiser)
    assert not publication.is_published(w.skill)
    assert not PublicationLog.objects.exists()


@pytest.mark.parametrize("who", ["chief", "judge", "lead_a", "no_role"])
def test_only_organisers_publish(who):
    w = world()
    with pytest.raises(PermissionDenied):
        publishing.publish(w.skill, getattr(w, who))
    assert not publication.is_published(w.skill)


def test_publish_twice_is_refused():
    w = published_world()
    with pytest.raises(PublicationRefused) as exc:
        publishing.publish(w.skill, w.organiser)
    assert exc.value.code == "already_published"
    assert PublicationLog.objects.count() == 1


# ---------------------------------------------------------------- unpublish


def test_unpublish_needs_a_reason_and_is_logged():
    w = published_world()
    for blank in ("", "   "):
        with pytest.raises(PublicationRefused) as exc:
            publishing.unpublish(w.skill, w.organiser, blank)
        assert exc.value.code == "reason_required"
    assert publication.is_published(w.skill)

    publishing.unpublish(w.skill, w.organiser, "  名单有误  ")
    assert not publication.is_published(w.skill)
    assert publication.published_at(w.skill) is None
    log = PublicationLog.objects.filter(skill=w.skill).first()
    assert (log.action, log.reason, log.actor) == (
        PublicationLog.Action.UNPUBLISHED,
        "名单有误",
        w.organiser,
    )


def test_unpublish_refused_when_not_published_and_for_non_organisers():
    w = world()
    with pytest.raises(PublicationRefused):
        publishing.unpublish(w.skill, w.organiser, "why")
    publishing.publish(w.skill, w.organiser)
    with pytest.raises(PermissionDenied):
        publishing.unpublish(w.skill, w.chief, "why")
    assert publication.is_published(w.skill)


def test_republishing_restarts_the_publication_time():
    w = world(signed_off=False)
    first = timezone.now() - dt.timedelta(hours=5)
    sign_off(w.skill, at=first - dt.timedelta(hours=1))
    publishing.publish(w.skill, w.organiser, now=first)
    publishing.unpublish(w.skill, w.organiser, "check")
    second = timezone.now()
    publishing.publish(w.skill, w.organiser, now=second)
    assert publication.published_at(w.skill) == second
    assert list(
        PublicationLog.objects.filter(skill=w.skill)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    ) == ["published", "unpublished", "published"]


# ---------------------------------------------------------------- reopening


def test_on_reopened_unpublishes_and_logs_the_reason():
    w = published_world()
    assert publication.on_reopened(w.skill, w.chief, "裁判长复核") is True
    assert not SkillPublication.objects.get(skill=w.skill).published
    log = PublicationLog.objects.filter(skill=w.skill).first()
    assert (log.action, log.reason, log.actor) == (
        PublicationLog.Action.REOPENED,
        "裁判长复核",
        w.chief,
    )


def test_on_reopened_then_signed_off_again_needs_a_new_publication():
    w = published_world()
    signoff.reopen(w.skill, w.chief, "correction")
    publication.on_reopened(w.skill, w.chief, "correction")
    sign_off(w.skill)
    assert not publication.is_published(w.skill)
    publishing.publish(w.skill, w.organiser)
    assert publication.is_published(w.skill)


def test_on_reopened_is_a_no_op_when_not_published():
    w = world()
    assert publication.on_reopened(w.skill, w.chief, "x") is False
    assert not PublicationLog.objects.exists()


def test_real_reopen_unpublishes_and_sign_off_does_not_republish():
    """signoff.reopen calls on_reopened: the publication is withdrawn and
    logged; signing off again leaves republishing to the organiser."""
    w = published_world()
    signoff.reopen(w.skill, w.chief, "correction")
    assert not publication.is_published(w.skill)
    assert not publication.results_visible_to(w.lead_a, w.skill)
    assert not SkillPublication.objects.get(skill=w.skill).published
    assert PublicationLog.objects.filter(
        skill=w.skill, action=PublicationLog.Action.REOPENED, reason="correction"
    ).exists()
    sign_off(w.skill)
    assert not publication.is_published(w.skill)
    publishing.publish(w.skill, w.organiser)
    assert publication.is_published(w.skill)


# ---------------------------------------------------------------- visibility


VISIBLE = {
    # role:        open marking, signed off, published
    "organiser": (True, True, True),
    "chief": (True, True, True),
    "judge": (False, True, True),
    "other_chief": (False, False, True),
    "lead_a": (False, False, True),
    "lead_b": (False, False, True),
    "no_role": (False, False, True),
    "anonymous": (False, False, True),
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_results_visible_to(role):
    w = world(signed_off=False)
    SkillMarking.objects.create(skill=w.skill)
    user = AnonymousUser() if role == "anonymous" else getattr(w, role)
    seen = [publication.results_visible_to(user, w.skill)]
    sign_off(w.skill)
    seen.append(publication.results_visible_to(user, w.skill))
    publishing.publish(w.skill, w.organiser)
    seen.append(publication.results_visible_to(user, w.skill))
    assert tuple(seen) == VISIBLE[role]


def test_visible_result_gives_scores_only_to_who_may_see_them():
    w = world()
    assert publishing.visible_result(w.lead_a, w.entry_a) is None
    assert publishing.visible_result(w.organiser, w.entry_a).rank == 1
    publishing.publish(w.skill, w.organiser)
    assert str(publishing.visible_result(w.lead_a, w.entry_a).final_score) == "88.50"
    assert publishing.visible_result(AnonymousUser(), w.entry_b).rank == 2


def test_event_results_need_every_skill_with_entries_published():
    w = world()
    f.entry(w.other_skill)
    assert not publication.event_results_visible_to(w.lead_a, w.event)
    assert publication.event_results_visible_to(w.organiser, w.event)
    publishing.publish(w.skill, w.organiser)
    assert not publication.event_fully_published(w.event)
    sign_off(w.other_skill)
    publishing.publish(w.other_skill, w.organiser)
    assert publication.event_fully_published(w.event)
    assert publication.event_results_visible_to(AnonymousUser(), w.event)
    assert set(publication.published_skills(w.event)) == {w.skill, w.other_skill}


# ---------------------------------------------------------------- lead status


def test_entry_status_for_lead_follows_the_skill():
    w = world(signed_off=False)
    assert publishing.entry_status_for_lead(w.entry_a) == LeadEntryStatus.REGISTERED
    marking = SkillMarking.objects.create(skill=w.skill)
    assert publishing.entry_status_for_lead(w.entry_a) == LeadEntryStatus.REGISTERED
    marking.ledger_length = 12  # marks are being written
    marking.save()
    assert publishing.entry_status_for_lead(w.entry_a) == LeadEntryStatus.MARKING
    sign_off(w.skill)
    assert publishing.entry_status_for_lead(w.entry_a) == LeadEntryStatus.SIGNED_OFF
    publishing.publish(w.skill, w.organiser)
    statuses = publishing.entry_statuses([w.entry_a, w.entry_b])
    assert statuses == {
        w.entry_a.pk: LeadEntryStatus.PUBLISHED,
        w.entry_b.pk: LeadEntryStatus.PUBLISHED,
    }
    signoff.reopen(w.skill, w.organiser, "appeal")
    assert publishing.entry_status_for_lead(w.entry_a) == LeadEntryStatus.MARKING


def test_the_state_queries_sign_off_value_is_scorings():
    # competitions.publication reads the sign-off through the ORM without
    # importing scoring; its constant must stay scoring's status value.
    assert publication.SIGNED_OFF == SkillMarking.Status.SIGNED_OFF
