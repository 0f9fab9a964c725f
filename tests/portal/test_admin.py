"""The organisers' console: Chinese labels, search and filters, and nobody else gets in."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "admin:competitions_programme_changelist",
    "admin:competitions_event_changelist",
    "admin:competitions_skill_changelist",
    "admin:teams_delegation_changelist",
    "admin:teams_quota_changelist",
    "admin:teams_athlete_changelist",
    "admin:teams_entry_changelist",
    "admin:teams_judge_changelist",
    "admin:teams_judgeassignment_changelist",
]


@pytest.fixture
def roster():
    skill = f.skill(name="砌筑")
    e = f.entry(skill)
    f.judge(skill, role="chief")
    f.quota(skill, e.delegation, 2)
    return skill


@pytest.mark.parametrize("name", CHANGELISTS)
def test_organiser_sees_every_changelist_in_chinese(client, roster, name):
    client.force_login(f.organiser())
    response = client.get(reverse(name), {"q": "砌"})
    assert response.status_code == 200
    assert "职业技能大赛管理平台" in response.content.decode()


def test_event_change_page_has_skills_inline_and_chinese_labels(client, roster):
    client.force_login(f.organiser())
    response = client.get(reverse("admin:competitions_event_change", args=[roster.event.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "报名截止时间" in html
    assert "砌筑" in html


def test_programme_add_page_has_phases_inline(client):
    client.force_login(f.organiser())
    html = client.get(reverse("admin:competitions_programme_add")).content.decode()
    assert "动员部署" in html and "表彰" in html


def test_organiser_sees_full_id_numbers_in_admin(client):
    athlete = f.athlete_with_id()
    client.force_login(f.organiser())
    html = client.get(reverse("admin:teams_athlete_changelist")).content.decode()
    assert athlete.id_number in html


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: f.lead(),
        lambda: f.judge(f.skill()).user,
        lambda: f.judge(f.skill(), role="chief").user,
        lambda: f.user(is_staff=True),  # staff flag alone is not the organiser role
    ],
)
def test_other_roles_are_kept_out_of_the_admin(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("admin:teams_athlete_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_organiser_adds_an_entry_with_members_through_the_admin(client):
    skill = f.skill(team_size=2)
    d = f.delegation()
    a1, a2 = f.athlete(delegation=d), f.athlete(delegation=d)
    f.quota(skill, d, 1)  # the admin obeys the quota like the lead's page
    client.force_login(f.organiser())
    response = client.post(
        reverse("admin:teams_entry_add"),
        {
            "skill": skill.pk,
            "delegation": d.pk,
            "competitor_no": "101",
            "status": "registered",
            "members-TOTAL_FORMS": "2",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-athlete": a1.pk,
            "members-1-athlete": a2.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert skill.entries.get().athletes.count() == 2
