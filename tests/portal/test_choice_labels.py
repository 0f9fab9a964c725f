"""Drop-downs tell apart what has the same name: a skill with its event, a
person with their delegation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from teams.models import JudgeAssignment
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins():
    final = f.event(name="2026 决赛")
    trial = f.event(name="2026 选拔赛")
    s_final = f.skill(event=final, code="S02", name="移动机器人")
    s_trial = f.skill(event=trial, code="S02", name="移动机器人")
    nj = f.delegation(code="NJ", name="南京市")
    sz = f.delegation(code="SZ", name="苏州市")
    f.athlete(delegation=nj, name="张强")
    f.athlete(delegation=sz, name="张强")
    f.judge(s_final, delegation=nj, name="张强", code="DJ01", with_user=False)
    f.judge(s_trial, delegation=sz, name="张强", code="DJ02", with_user=False)
    client = Client()
    client.force_login(f.organiser())
    return client, s_final, s_trial


def test_admin_form_names_the_chosen_skill_with_event_and_judge_with_delegation(twins):
    client, s_final, s_trial = twins
    for skill, event, judge in (
        (s_final, "2026 决赛", "DJ01 张强 · 南京市"),
        (s_trial, "2026 选拔赛", "DJ02 张强 · 苏州市"),
    ):
        assignment = JudgeAssignment.objects.get(skill=skill)
        html = client.get(
            reverse("admin:teams_judgeassignment_change", args=[assignment.pk])
        ).content.decode()
        assert f"S02 移动机器人 · {event}" in html
        assert judge in html


def test_autocomplete_names_skill_with_event_and_person_with_delegation(twins):
    client, *_ = twins
    skills = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "teams", "model_name": "quota", "field_name": "skill", "term": "S02"},
    ).json()
    assert {r["text"] for r in skills["results"]} == {
        "S02 移动机器人 · 2026 决赛",
        "S02 移动机器人 · 2026 选拔赛",
    }
    people = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "teams", "model_name": "entrymember", "field_name": "athlete", "term": "张"},
    ).json()
    assert {r["text"] for r in people["results"]} == {"张强 · 南京市", "张强 · 苏州市"}


def test_admin_sidebar_filter_names_skill_with_event(twins):
    client, *_ = twins
    html = client.get(reverse("admin:teams_judgeassignment_changelist")).content.decode()
    assert "S02 移动机器人 · 2026 决赛" in html and "S02 移动机器人 · 2026 选拔赛" in html
