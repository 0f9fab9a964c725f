"""Plain builders for test data. Each returns a saved object; arguments
override the defaults. Codes are made unique with a counter."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth.models import Group, User

from competitions.models import Event, Programme, Skill
from teams import idnumbers
from teams.models import (
    Athlete,
    Delegation,
    DelegationLead,
    Entry,
    EntryMember,
    Judge,
    JudgeAssignment,
    Quota,
)
from teams.roles import ORGANISER_GROUP

_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def programme(**kw) -> Programme:
    i = n()
    kw.setdefault("code", f"prog{i}")
    kw.setdefault("name", f"2026年全省职业技能大赛{i}")
    kw.setdefault("year", 2026)
    return Programme.objects.create(**kw)


def event(**kw) -> Event:
    i = n()
    if "programme" not in kw:
        kw["programme"] = programme()
    kw.setdefault("code", f"ev{i}")
    kw.setdefault("name", f"决赛{i}")
    return Event.objects.create(**kw)


def skill(**kw) -> Skill:
    i = n()
    if "event" not in kw:
        kw["event"] = event()
    kw.setdefault("code", f"S{i:02d}")
    kw.setdefault("name", f"赛项{i}")
    return Skill.objects.create(**kw)


def delegation(**kw) -> Delegation:
    i = n()
    kw.setdefault("code", f"D{i:03d}")
    kw.setdefault("name", f"代表团{i}")
    return Delegation.objects.create(**kw)


def athlete(**kw) -> Athlete:
    i = n()
    if "delegation" not in kw:
        kw["delegation"] = delegation()
    kw.setdefault("name", f"选手{i}")
    kw.setdefault("gender", "M")
    return Athlete.objects.create(**kw)


def athlete_with_id(**kw) -> Athlete:
    born = kw.setdefault("birth_date", dt.date(1998, 5, 17))
    gender = kw.setdefault("gender", "F")
    kw.setdefault("id_number", idnumbers.make_id_number("320102", born, n(), gender))
    return athlete(**kw)


def entry(skill_obj: Skill | None = None, *, athletes=None, **kw) -> Entry:
    i = n()
    skill_obj = skill_obj or skill()
    if "delegation" not in kw:
        kw["delegation"] = athletes[0].delegation if athletes else delegation()
    kw.setdefault("competitor_no", f"{i:03d}")
    e = Entry.objects.create(skill=skill_obj, **kw)
    if athletes is None:
        athletes = [athlete(delegation=kw["delegation"]) for _ in range(skill_obj.team_size)]
    for a in athletes:
        EntryMember.objects.create(entry=e, athlete=a)
    return e


def user(username: str | None = None, **kw) -> User:
    username = username or f"user{n()}"
    u = User.objects.create_user(
        username=username, password=kw.pop("password", "pw-Secret-123"), **kw
    )
    return u


def organiser(**kw) -> User:
    u = user(**kw)
    g, _ = Group.objects.get_or_create(name=ORGANISER_GROUP)
    u.groups.add(g)
    return u


def lead(delegation_obj: Delegation | None = None, **kw) -> User:
    u = user(**kw)
    DelegationLead.objects.create(user=u, delegation=delegation_obj or delegation())
    return u


def judge(
    skill_obj: Skill | None = None, *, role: str = "judge", with_user: bool = True, **kw
) -> Judge:
    i = n()
    kw.setdefault("code", f"J{i:04d}")
    kw.setdefault("name", f"裁判{i}")
    if "delegation" not in kw:
        kw["delegation"] = delegation()
    if with_user and "user" not in kw:
        kw["user"] = user()
    j = Judge.objects.create(**kw)
    if skill_obj is not None:
        JudgeAssignment.objects.create(judge=j, skill=skill_obj, role=role)
    return j


def judge_user(skill_obj: Skill | None = None, **kw) -> User:
    """The account of a new judge (``judge`` with its user)."""
    account = judge(skill_obj, **kw).user
    assert account is not None
    return account


def quota(skill_obj: Skill, delegation_obj: Delegation, max_entries: int = 1) -> Quota:
    return Quota.objects.create(skill=skill_obj, delegation=delegation_obj, max_entries=max_entries)
