"""The delegation lead's dashboard: status before publication (no scores),
results, awards, titles and the medal-table place after."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f

from .builders import U_ATHLETES, U_SKILL_NAME, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def dashboard(client, w, user) -> str:
    client.force_login(user)
    r = client.get(reverse("results:lead_dashboard", args=[w.event.code]))
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    return r.content.decode()


def test_lead_home_redirects_to_latest_event(client, w):
    client.force_login(w.lead_a)
    r = client.get(reverse("results:lead_home"))
    assert r.status_code == 302
    assert r["Location"] == reverse("results:lead_dashboard", args=[w.event.code])


def test_lead_without_entries(client, w):
    client.force_login(f.lead())
    r = client.get(reverse("results:lead_home"))
    assert r.status_code == 200
    assert client.get(reverse("results:lead_dashboard", args=[w.event.code])).status_code == 404


def test_before_publication_status_only(client, w):
    page = dashboard(client, w, w.lead_a)
    assert "司马青云" in page and "上官明月" in page and U_ATHLETES[0] in page
    assert "已签核" in page
    for hidden in ["91.25", "80.75", "55.17", "金牌", "技术能手", "760"]:
        assert hidden not in page
    assert "欧阳晓岚" not in page  # delegation B's athlete
    assert reverse("results:lead_workbook", args=[w.event.code]) in page
    assert reverse("results:rankings_export", args=[w.event.code]) in page


def test_after_publication_results_awards_and_place(client, w):
    w.publish()
    page = dashboard(client, w, w.lead_a)
    for shown in ["91.25", "80.75", "金牌", "铜牌", "技术能手", "已公布", "第 1 名"]:
        assert shown in page
    # Own entry of the unpublished skill: status, never its score.
    assert U_SKILL_NAME in page and "55.17" not in page and "97.31" not in page
    assert reverse("appeals:file", args=[w.entries["a1"].pk]) in page
    assert reverse("appeals:file", args=[w.entries["ua"].pk]) not in page
    page_b = dashboard(client, w, w.lead_b)
    assert "88.50" in page_b and "第 2 名" in page_b and "司马青云" not in page_b


def test_certificates_once_the_whole_event_is_published(client, w):
    from results import publishing

    w.publish()
    page = dashboard(client, w, w.lead_a)
    assert "赛事全部赛项公布后显示证书" in page
    publishing.publish(w.hidden, w.organiser)
    page = dashboard(client, w, w.lead_a)
    assert "暂无证书" in page


def test_not_for_other_roles(client, w):
    url = reverse("results:lead_dashboard", args=[w.event.code])
    assert client.get(url).status_code == 302
    for user in (w.organiser, w.judge, w.chief):
        client.force_login(user)
        assert client.get(url).status_code == 403
