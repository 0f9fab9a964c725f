"""A small world for the awards tests: a programme, an event, delegations and
helpers that make entries with stored results and a signed-off skill, without
going through the scoring services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from competitions.models import Skill
from scoring.models import EntryResult, SkillMarking
from teams.models import Delegation, Entry
from tests import factories as f


@pytest.fixture(autouse=True)
def _awards_env(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = "https://portal.example.org"




def sign_off(skill: Skill) -> SkillMarking:
    # As scoring.services.sign_off leaves it: signed off, and when.
    marking, _ = SkillMarking.objects.update_or_create(
        skill=skill,
        defaults={"status": SkillMarking.Status.SIGNED_OFF, "signed_off_at": timezone.now()},
    )
    return marking


def ranked_entries(
    skill: Skill,
    ranks: list[int],
    delegations: list[Delegation],
    *,
    scale: list[int] | None = None,
    names: list[str] | None = None,
) -> list[Entry]:
    """One entry per rank, delegations used in turn; scores fall with rank."""
    entries = []
    for i, rank in enumerate(ranks):
        d = delegations[i % len(delegations)]
        athletes = None
        if names:
            athletes = [f.athlete(delegation=d, name=names[i])]
        e = f.entry(skill, delegation=d, athletes=athletes)
        EntryResult.objects.create(
            entry=e,
            skill=skill,
            final_score=Decimal(100 - rank),
            rank=rank,
            scale_score=(scale[i] if scale else 700),
            complete=True,
        )
        entries.append(e)
    return entries


@pytest.fixture
def world(db):
    programme = f.programme(
        code="js2026", name="2026年江苏省职业技能大赛", issuing_body="江苏省人力资源和社会保障厅"
    )
    event = f.event(
        programme=programme,
        code="final2026",
        name="2026年江苏省职业技能大赛决赛",
        starts_on=dt.date(2026, 5, 15),
        ends_on=dt.date(2026, 5, 17),
    )
    dels = [
        f.delegation(code="NJ", name="南京市代表团"),
        f.delegation(code="SZ", name="苏州市代表团"),
        f.delegation(code="WX", name="无锡市代表团"),
    ]
    return {"programme": programme, "event": event, "dels": dels}


def publish_all(event, organiser) -> None:
    """The organiser publishes every signed-off skill of the event (the real path)."""
    from results import publishing

    for skill in event.skills.filter(marking__status=SkillMarking.Status.SIGNED_OFF):
        publishing.publish(skill, organiser)
