"""The chief judge's sign-off page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scoring import signoff
from scoring.marks import write_mark
from scoring.models import LedgerRecord, SkillMarking
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    s = scheme_skill(n_entries=2, n_judges=2)
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="1")
        for aspect in s.j_aspects:
            for judge in s.judges:
                score = (
                    "3"
                    if (entry, aspect, judge) == (s.entries[0], s.j_aspects[0], s.judges[1])
                    else "1"
                )
                write_mark(entry=entry, aspect=aspect, judge=judge, value=score)
    return s


def url(s):
    return reverse("scoring:sign_off", args=[s.skill.pk])


def test_anonymous_is_sent_to_login(client, s):
    response = client.get(url(s))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("who", ["judge", "other_chief", "lead"])
def test_others_are_forbidden(client, s, who):
    user = {
        "judge": lambda: s.judges[0].user,
        "other_chief": lambda: scheme_skill().chief.user,
        "lead": lambda: f.lead(),
    }[who]()
    client.force_login(user)
    assert client.get(url(s)).status_code == 403
    assert client.post(url(s), {"action": "sign_off"}).status_code == 403
    assert not SkillMarking.objects.get(skill=s.skill).is_signed_off


def test_chief_sees_discrepancy_side_by_side(client, s):
    client.force_login(s.chief.user)
    response = client.get(url(s))
    assert response.status_code == 200
    html = response.content.decode()
    assert "评分差异" in html
    assert f"{s.judges[0].code}: 1" in html and f"{s.judges[1].code}: 3" in html
    assert s.entries[0].competitor_no in html
    # Sign-off button disabled while a discrepancy is unacknowledged.
    assert "disabled" in html


def test_incomplete_entry_listed_by_what_is_missing(client, s):
    late = f.entry(s.skill)
    client.force_login(s.chief.user)
    html = client.get(url(s)).content.decode()
    assert late.competitor_no in html and "M1, M2" in html


def test_acknowledge_then_sign_off_then_reopen(client, s):
    client.force_login(s.chief.user)
    r = client.post(
        url(s),
        {
            "action": "acknowledge",
            "entry": s.entries[0].pk,
            "aspect": s.j_aspects[0].pk,
            "note": "ok",
        },
        follow=True,
    )
    assert "评分差异已确认" in r.content.decode()
    r = client.post(url(s), {"action": "sign_off"}, follow=True)
    assert "成绩已签核并锁定" in r.content.decode()
    assert signoff.names_revealed(s.skill)
    r = client.post(url(s), {"action": "reopen", "reason": ""}, follow=True)
    assert "重新开放评分必须填写原因" in r.content.decode()
    assert signoff.names_revealed(s.skill)
    r = client.post(url(s), {"action": "reopen", "reason": "复核"}, follow=True)
    assert not signoff.names_revealed(s.skill)
    assert LedgerRecord.objects.filter(skill=s.skill, action="reopen", reason="复核").exists()


def test_sign_off_refused_message(client, s):
    client.force_login(s.chief.user)
    r = client.post(url(s), {"action": "sign_off"}, follow=True)
    assert "暂不能签核" in r.content.decode()


def test_organiser_may_use_the_page(client, s):
    client.force_login(f.organiser())
    assert client.get(url(s)).status_code == 200


def test_sign_off_shows_the_ledger_chain_head(client, s):
    client.force_login(s.chief.user)
    signoff.acknowledge_discrepancy(s.entries[0], s.j_aspects[0], s.chief.user, "ok")
    r = client.post(url(s), {"action": "sign_off"}, follow=True)
    head = LedgerRecord.objects.get(skill=s.skill, action="sign_off").hash
    assert head == SkillMarking.objects.get(skill=s.skill).ledger_head
    page = r.content.decode()
    assert "成绩链头：" + head in page  # the message right after signing off
    assert "签核时的成绩链头" in page and f"--head {s.skill.pk}={head}" in page
