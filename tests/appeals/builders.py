"""A signed-off skill with two delegations' entries and every role around it.

Shared by the appeals and the competitions (publication, advancement) tests.
Scoring's sign-off needs complete marks; these tests are about what happens
after it, so the builder writes the signed-off state and the results rows
directly (as the brief allows)::

    w = world()
    w.skill, w.entry_a, w.entry_b, w.organiser, w.chief, w.judge, w.lead_a, w.lead_b
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from competitions.models import Event, Skill
from results import publishing
from scoring.models import EntryResult, SkillMarking
from teams.models import Delegation, Entry
from tests import factories as f


@dataclass
class World:
    event: Event
    skill: Skill
    other_skill: Skill
    del_a: Delegation
    del_b: Delegation
    entry_a: Entry
    entry_b: Entry
    organiser: User
    chief: User
    judge: User
    other_chief: User
    lead_a: User
    lead_b: User
    no_role: User


def sign_off(skill: Skill, at: dt.datetime | None = None) -> SkillMarking:
    marking, _ = SkillMarking.objects.update_or_create(
        skill=skill,
        defaults={
            "status": SkillMarking.Status.SIGNED_OFF,
            "signed_off_at": at or timezone.now(),
            "ledger_length": 0,
        },
    )
    return marking


def result(entry: Entry, score: str, rank: int | None) -> EntryResult:
    return EntryResult.objects.create(
        entry=entry, skill=entry.skill, final_score=Decimal(score), rank=rank, complete=True
    )


def world(*, signed_off: bool = True, window_hours: int = 2, **event_kw) -> World:
    programme = f.programme(appeal_window_hours=window_hours)
    event = f.event(programme=programme, **event_kw)
    skill = f.skill(event=event)
    other_skill = f.skill(event=event)
    del_a, del_b, del_c = f.delegation(), f.delegation(), f.delegation()
    entry_a = f.entry(skill, delegation=del_a)
    entry_b = f.entry(skill, delegation=del_b)
    result(entry_a, "88.50", 1)
    result(entry_b, "80.25", 2)
    w = World(
        event=event,
        skill=skill,
        other_skill=other_skill,
        del_a=del_a,
        del_b=del_b,
        entry_a=entry_a,
        entry_b=entry_b,
        organiser=f.organiser(),
        # Judges of a third delegation: nobody is recused.
        chief=f.judge_user(skill, role="chief", delegation=del_c),
        judge=f.judge_user(skill, delegation=del_c),
        other_chief=f.judge_user(other_skill, role="chief", delegation=del_c),
        lead_a=f.lead(del_a),
        lead_b=f.lead(del_b),
        no_role=f.user(),
    )
    if signed_off:
        sign_off(skill)
    return w


def published_world(at: dt.datetime | None = None, **kw) -> World:
    """Signed off an hour before ``at`` (default: now), published at ``at``."""
    at = at or timezone.now()
    w = world(signed_off=False, **kw)
    sign_off(w.skill, at=at - dt.timedelta(hours=1))
    publishing.publish(w.skill, w.organiser, now=at)
    return w
