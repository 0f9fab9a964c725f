"""The readiness checklist on the organiser's event dashboard: each item turns
green only when its rule holds, and links to where it is fixed."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from results.readiness import event_readiness
from tablets import services as tablets
from teams.models import Quota
from tests import factories as f
from tests.tablets.conftest import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def items(skill) -> dict[str, object]:
    (row,) = [r for r in event_readiness(skill.event) if r.skill == skill]
    return {i.key: i for i in row.items}


def test_each_item_follows_its_rule_and_the_skill_turns_ready():
    w = build_world()
    skill = w.skill
    found = items(skill)
    assert found["scheme"].ok and found["chief"].ok
    # Entry 101 is of delegation 0: judges JB and JC only, after recusal.
    assert not found["judges"].ok and "2" in found["judges"].detail
    assert not found["quota"].ok  # no quotas at all
    assert not found["pins"].ok and "CJ09" in found["pins"].detail
    assert found["pins"].fix_url == reverse("tablets:board", args=[skill.pk])
    assert found["judges"].fix_url.endswith(f"?skill__id__exact={skill.pk}")

    jd = f.judge(skill, delegation=f.delegation(), code="JD04")
    for d, n in ((w.delegations[0], 2), (w.delegations[1], 1), (w.delegations[2], 1)):
        Quota.objects.create(skill=skill, delegation=d, max_entries=n)
    tablets.generate_pin(jd, w.organiser)
    tablets.generate_pin(w.chief, w.organiser)
    found = items(skill)
    assert all(i.ok for i in found.values()), {k: i.detail for k, i in found.items()}

    # Break them one by one.
    Quota.objects.filter(skill=skill, delegation=w.delegations[0]).update(max_entries=1)
    assert not items(skill)["quota"].ok
    assert "鹤岗市青山代表团" in items(skill)["quota"].detail
    w.chief.user.is_active = False
    w.chief.user.save()
    chief = items(skill)["chief"]
    assert not chief.ok and chief.fix_url.endswith(f"?role=chief&skill={skill.pk}")
    w.aspect("J3").delete()
    assert not items(skill)["scheme"].ok


def test_no_chief_no_entries_no_judges():
    skill = f.skill()
    found = items(skill)
    assert not any(i.ok for i in found.values())


def test_dashboard_shows_the_checklist_with_fix_links():
    w = build_world()
    client = Client()
    client.force_login(w.organiser)
    # The page loads the checklist after itself (htmx), from this address.
    page = client.get(reverse("results:organiser_event", args=[w.skill.event.code]))
    url = reverse("results:organiser_readiness", args=[w.skill.event.code])
    assert f'hx-get="{url}"' in page.content.decode()
    html = client.get(url).content.decode()
    row = re.search(r'<tr id="ready-W07" data-ready="(\w+)">(.*?)</tr>', html, re.S)
    assert row and row.group(1) == "no"
    assert reverse("tablets:board", args=[w.skill.pk]) in row.group(2)
    assert reverse("interchange:skill_scheme", args=[w.skill.pk]) in row.group(2)
    assert 'data-check="pins" data-ok="no"' in row.group(2)


def test_a_skill_without_a_scheme_is_not_reported_complete():
    event = f.event()
    skill = f.skill(event=event, code="S02", name="移动机器人")
    for _ in range(3):
        f.entry(skill)
    client = Client()
    client.force_login(f.organiser())
    html = client.get(reverse("results:organiser_event", args=[event.code])).content.decode()
    row = re.search(r'<tr id="skill-S02"[^>]*>(.*?)</tr>', html, re.S).group(1)
    assert "3/3" not in row
    assert "评分标准不完整" in row
    assert reverse("interchange:skill_scheme", args=[skill.pk]) in row


def test_batched_scheme_check_agrees_with_the_scoring_rules():
    from decimal import Decimal

    from results.readiness import scheme_states
    from scoring.models import Criterion, SubCriterion
    from scoring.schemes import scheme_summary

    w = build_world()
    skill = w.skill
    other = f.skill(event=skill.event)

    def agree() -> bool:
        ok = scheme_states([skill.pk, other.pk])
        assert ok[skill.pk].ok == scheme_summary(skill).ok
        assert ok[other.pk].ok == scheme_summary(other).ok
        return ok[skill.pk].ok

    assert agree()
    Criterion.objects.filter(skill=skill, code="A").update(max_mark=Decimal("11"))
    assert not agree()
    Criterion.objects.filter(skill=skill, code="A").update(max_mark=Decimal("10.5"))
    assert agree()
    crit = Criterion.objects.create(skill=other, code="X", name="x")
    sub = SubCriterion.objects.create(criterion=crit, code="X1", name="x1")
    j3 = w.aspect("J3")
    old_sub = j3.sub_criterion
    j3.sub_criterion = sub
    j3.save()
    assert not agree()
    j3.sub_criterion = old_sub
    j3.save()
    assert agree()
    j3.max_mark = Decimal("59.49")
    j3.save()
    assert not agree()
