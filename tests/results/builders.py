"""An event with one skill to publish (P) and one that stays unpublished (U),
and every role around them.

Names are distinctive so a leak is found by a plain substring search:
everything of U (its name, its athletes, delegation C that only competes in
U, the gold medal C won there) must never reach a public page or a lead's
workbook; everything of P appears only after P is published.

Scoring's sign-off needs complete marks; these tests are about what happens
after it, so the builder writes the signed-off state, the stored results and
the awards directly (``results_computed_at`` after the sign-off: stored rows
are current, nothing is recomputed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from awards.models import Award
from competitions.models import Event, Skill
from results import publishing
from scoring.models import EntryResult, SkillMarking
from teams.models import Delegation, Entry
from tests import factories as f

P_ATHLETES = ["司马青云", "欧阳晓岚", "上官明月", "诸葛长风"]
U_ATHLETES = ["隐藏慕容", "隐藏东方"]
U_SKILL_NAME = "绝密赛项"
HIDDEN_DELEGATION = ("HIDC", "隐秘代表团")


@dataclass
class World:
    event: Event
    skill: Skill  # P: signed off, published in the "after" state
    hidden: Skill  # U: signed off, never published
    del_a: Delegation
    del_b: Delegation
    del_c: Delegation
    entries: dict[str, Entry]
    organiser: User
    chief: User
    judge: User
    lead_a: User
    lead_b: User
    public_after: list[str] = field(default_factory=list)  # P's data
    secrets: list[str] = field(default_factory=list)  # U's data: never public

    def publish(self) -> None:
        publishing.publish(self.skill, self.organiser)


def sign_off(skill: Skill, at: dt.datetime | None = None) -> SkillMarking:
    at = at or timezone.now() - dt.timedelta(minutes=5)
    marking, _ = SkillMarking.objects.update_or_create(
        skill=skill,
        defaults={
            "status": SkillMarking.Status.SIGNED_OFF,
            "signed_off_at": at,
            "results_computed_at": at,
            "ledger_length": 10,
        },
    )
    return marking


def result(entry: Entry, score: str | None, rank: int | None, scale: int | None = None):
    return EntryResult.objects.create(
        entry=entry,
        skill=entry.skill,
        final_score=Decimal(score) if score else None,
        raw_total=Decimal(score) if score else None,
        rank=rank,
        scale_score=scale,
        complete=score is not None,
    )


def award(entry: Entry, kind: str | None, rank: int, title: bool = False) -> Award:
    return Award.objects.create(
        entry=entry,
        skill=entry.skill,
        kind=kind,
        title=title,
        policy=entry.skill.award_policy,
        rank=rank,
        computed_at=timezone.now(),
    )


def world() -> World:
    event = f.event(code="final26", name="2026年全省职业技能大赛决赛")
    skill = f.skill(event=event, code="W07", name="砌筑", award_policy="national")
    hidden = f.skill(event=event, code="W99", name=U_SKILL_NAME, award_policy="national")
    del_a = f.delegation(code="QXZ", name="鹤岗市青山代表团")
    del_b = f.delegation(code="WVK", name="漠河市北极代表团")
    del_c = f.delegation(code=HIDDEN_DELEGATION[0], name=HIDDEN_DELEGATION[1])
    del_j = f.delegation(code="JDG", name="裁判代表团")

    def entry(s, d, no, name):
        return f.entry(
            s, delegation=d, competitor_no=no, athletes=[f.athlete(delegation=d, name=name)]
        )

    entries = {
        "a1": entry(skill, del_a, "101", P_ATHLETES[0]),
        "b1": entry(skill, del_b, "102", P_ATHLETES[1]),
        "a2": entry(skill, del_a, "103", P_ATHLETES[2]),
        "b2": entry(skill, del_b, "104", P_ATHLETES[3]),
        "ua": entry(hidden, del_a, "201", U_ATHLETES[0]),
        "uc": entry(hidden, del_c, "202", U_ATHLETES[1]),
    }
    result(entries["a1"], "91.25", 1, 760)
    result(entries["b1"], "88.50", 2, 730)
    result(entries["a2"], "80.75", 3, 700)
    result(entries["b2"], "61.05", 4, 610)
    result(entries["uc"], "97.31", 1, 790)
    result(entries["ua"], "55.17", 2, 600)
    award(entries["a1"], "gold", 1, title=True)
    award(entries["b1"], "silver", 2, title=True)
    award(entries["a2"], "bronze", 3, title=True)
    award(entries["uc"], "gold", 1, title=True)
    sign_off(skill)
    sign_off(hidden)
    w = World(
        event=event,
        skill=skill,
        hidden=hidden,
        del_a=del_a,
        del_b=del_b,
        del_c=del_c,
        entries=entries,
        organiser=f.organiser(),
        chief=f.judge_user(skill, role="chief", delegation=del_j),
        judge=f.judge_user(skill, delegation=del_j),
        lead_a=f.lead(del_a),
        lead_b=f.lead(del_b),
    )
    w.public_after = [*P_ATHLETES, "91.25", "88.50"]
    w.secrets = [*U_ATHLETES, U_SKILL_NAME, *HIDDEN_DELEGATION, "97.31", "55.17"]
    return w
