"""The judge's skill page: competitor numbers only, no names or delegations,
own delegation's entries left out, the panel for the chief judge only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scoring.models import SkillMarking
from tests import factories as f


@pytest.fixture
def entries(world):
    """Two entries the judge (home delegation B) may mark, one they may not."""
    a1 = f.athlete(delegation=world.del_a, name="欧阳娜娜")
    a2 = f.athlete(delegation=world.del_a, name="上官婉儿")
    b1 = f.athlete(delegation=world.del_b, name="司马光明")
    return {
        "a1": f.entry(world.skill, athletes=[a1], competitor_no="7301"),
        "a2": f.entry(world.skill, athletes=[a2], competitor_no="7302", status="absent"),
        "own": f.entry(world.skill, athletes=[b1], competitor_no="7399"),
    }


def page(client, judge, skill) -> str:
    client.force_login(judge.user)
    response = client.get(reverse("teams:judge_skill", args=[skill.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_judge_sees_competitor_numbers_but_no_names_or_delegations(client, world, entries):
    html = page(client, world.judge, world.skill)
    assert "7301" in html and "7302" in html
    for name in ("欧阳娜娜", "上官婉儿", "司马光明"):
        assert name not in html
    assert world.del_a.name not in html
    # The delegation code as a word (bare "SZ" could occur inside the CSRF token).
    assert ">SZ<" not in html and " SZ " not in html
    assert "缺考" in html  # the absent entry's status is not identifying


def test_own_delegations_entries_are_not_offered(client, world, entries):
    html = page(client, world.judge, world.skill)
    assert "7399" not in html
    assert "回避" in html


def test_plain_judge_sees_no_panel(client, world, entries):
    html = page(client, world.judge, world.skill)
    assert "裁判员" in html
    assert "裁判组" not in html
    assert world.chief.name not in html


def test_chief_judge_sees_all_entries_and_the_panel(client, world, entries):
    html = page(client, world.chief, world.skill)
    assert "裁判长" in html
    # The chief's home delegation has no entry here, so all three are listed.
    assert all(no in html for no in ("7301", "7302", "7399"))
    assert "裁判组" in html
    for j in (world.chief, world.judge):
        assert j.code in html and j.name in html
    for name in ("欧阳娜娜", "上官婉儿", "司马光明"):
        assert name not in html


def test_judge_not_assigned_to_the_skill_is_forbidden(client, world):
    other = f.skill(event=world.event, code="W05", name="电工")
    client.force_login(world.judge.user)
    response = client.get(reverse("teams:judge_skill", args=[other.pk]))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_unknown_skill_is_not_found(client, world):
    client.force_login(world.judge.user)
    assert client.get(reverse("teams:judge_skill", args=[999999])).status_code == 404


def test_names_appear_once_the_skill_is_signed_off(client, world, entries):
    SkillMarking.objects.create(skill=world.skill, status=SkillMarking.Status.SIGNED_OFF)
    html = page(client, world.judge, world.skill)
    assert "欧阳娜娜" in html and world.del_a.name in html
    # Recusal still applies after sign-off.
    assert "司马光明" not in html
