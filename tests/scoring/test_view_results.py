"""The results and consistency pages: chief judge of the skill and organisers only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f
from tests.scoring.test_results import SIMPLE, build_scheme, fill, put

pytestmark = pytest.mark.django_db

PAGES = ["scoring:results", "scoring:consistency"]


@pytest.fixture
def scheme():
    s = build_scheme(SIMPLE, entries=["1", "2", "3"])
    fill(s, "1", "40", (3, 3, 3), (3, 3, 3))
    fill(s, "2", "35.5", (1, 3, 2), (2, 2, 2))
    put(s, "3", "M1", "12")
    return s


@pytest.mark.parametrize("page", PAGES)
def test_chief_and_organiser_see_the_page(client, scheme, page):
    url = reverse(page, args=[scheme.skill.pk])
    client.force_login(scheme.chief.user)
    assert client.get(url).status_code == 200
    client.force_login(f.organiser())
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_others_are_refused(client, scheme, page):
    url = reverse(page, args=[scheme.skill.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (
        scheme.judges[0].user,  # a judge of the skill, not its chief
        f.judge(f.skill(), role="chief").user,  # chief of another skill
        f.lead(scheme.entries["1"].delegation),
        f.user(),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_results_page_shows_ranks_missing_and_discrepancies(client, scheme):
    client.force_login(scheme.chief.user)
    html = client.get(reverse("scoring:results", args=[scheme.skill.pk])).content.decode()
    assert "100.00" in html and "75.50" in html  # 35.5 + 20 + 20
    assert "J1/" + scheme.judges[0].code in html  # entry 3's missing marks
    assert "12.000000" in html  # its partial exact total
    assert scheme.entries["1"].names() not in html  # not signed off: numbers only
    client.force_login(f.organiser())
    html = client.get(reverse("scoring:results", args=[scheme.skill.pk])).content.decode()
    assert scheme.entries["1"].names() in html


def test_consistency_page_lists_judges_with_chart(client, scheme):
    client.force_login(scheme.chief.user)
    html = client.get(reverse("scoring:consistency", args=[scheme.skill.pk])).content.decode()
    assert "<svg" in html
    for j in scheme.judges:
        assert j.code in html
    # J1 of entry 2 is scored 1, 3, 2 (mean 2): judge 1 −1, judge 2 +1 over 4 scores each
    assert "-0.25" in html and "+0.25" in html


def test_unknown_skill_is_404(client):
    client.force_login(f.organiser())
    assert client.get(reverse("scoring:results", args=[999999])).status_code == 404


def test_consistency_chart_bars_carry_their_judges_labels(client, scheme):
    client.force_login(scheme.chief.user)
    response = client.get(reverse("scoring:consistency", args=[scheme.skill.pk]))
    html = response.content.decode()
    chart = html[html.index('class="consistency-chart"') : html.index("</figure>")]
    rows = chart.split('<li class="cc-row')[1:]
    judges = [r["j"] for r in response.context["rows"]]
    assert len(rows) == len(judges) >= len(scheme.judges)
    for row, j in zip(rows, judges, strict=True):
        label = row[row.index('class="cc-label"') : row.index("<svg")]
        assert f"<b>{j.code}</b>" in label and j.name in label  # the bar's own row names it
        assert "<rect" in row[row.index("<svg") :]
    assert {j.code for j in scheme.judges} <= {j.code for j in judges}
    assert "左侧偏严" in chart  # the axis is explained
