"""A small world shared by the teams tests: two delegations with a lead each,
an event open for registration with an individual and a team skill, quotas,
and a chief judge and a judge on the individual skill."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from competitions.models import Event, Skill
from teams.models import Delegation, Judge
from tests import factories as f


@dataclass
class World:
    event: Event
    skill: Skill
    team_skill: Skill
    del_a: Delegation
    del_b: Delegation
    lead_a: object
    lead_b: object
    chief: Judge
    judge: Judge


@pytest.fixture
def world(db, settings) -> World:
    # Users are made per test; a fast hasher keeps that cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = f.event(
        name="2026年全省职业技能大赛决赛",
        status=Event.Status.REGISTRATION,
        registration_deadline=timezone.now() + dt.timedelta(days=7),
    )
    skill = f.skill(event=event, code="W01", name="砌筑")
    team_skill = f.skill(event=event, code="W02", name="移动机器人", team_size=2)
    del_a = f.delegation(code="SZ", name="苏州市代表团")
    del_b = f.delegation(code="NJ", name="南京市代表团")
    for s in (skill, team_skill):
        f.quota(s, del_a, 2)
        f.quota(s, del_b, 2)
    judge_home = f.delegation(code="WX", name="无锡市代表团")
    return World(
        event=event,
        skill=skill,
        team_skill=team_skill,
        del_a=del_a,
        del_b=del_b,
        lead_a=f.lead(del_a, username="lead_a"),
        lead_b=f.lead(del_b, username="lead_b"),
        chief=f.judge(skill, role="chief", delegation=judge_home, name="陈裁判长"),
        judge=f.judge(skill, delegation=del_b, name="李裁判"),
    )
