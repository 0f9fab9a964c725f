"""Public pages: per-skill rankings, the medal table (SVG chart), the event
page and the ceremony scoreboard with its polled fragment."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from results import publishing

from .builders import U_SKILL_NAME, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def html(response) -> str:
    return response.content.decode()


def test_skill_page_404_before_publication_and_ranking_after(client, w):
    url = reverse("results:skill", args=[w.event.code, w.skill.code])
    assert client.get(url).status_code == 404
    w.publish()
    r = client.get(url)
    assert r.status_code == 200
    page = html(r)
    for text in ["101", "司马青云", "鹤岗市青山代表团", "91.25", "金牌", "技术能手", "61.05"]:
        assert text in page
    assert page.index("司马青云") < page.index("欧阳晓岚") < page.index("上官明月")
    for secret in w.secrets:
        assert secret not in page


def test_unpublished_skill_is_404_like_a_missing_one(client, w):
    w.publish()
    hidden = client.get(reverse("results:skill", args=[w.event.code, w.hidden.code]))
    missing = client.get(reverse("results:skill", args=[w.event.code, "NOPE"]))
    assert hidden.status_code == missing.status_code == 404
    assert U_SKILL_NAME not in html(hidden)


def test_medal_table_counts_published_skills_only(client, w):
    url = reverse("results:medals", args=[w.event.code])
    before = html(client.get(url))
    assert "鹤岗市青山代表团" not in before and "<rect" not in before
    w.publish()
    page = html(client.get(url))
    assert "<svg" in page and "<rect" in page
    assert "鹤岗市青山代表团" in page and "漠河市北极代表团" in page
    # C's gold is in the unpublished skill: neither counted nor named.
    for secret in w.secrets:
        assert secret not in page
    assert "仅统计已公布的赛项：1 / 2" in page


def test_event_page_lists_published_skills_only(client, w):
    url = reverse("results:event", args=[w.event.code])
    assert w.skill.name not in html(client.get(url))
    w.publish()
    page = html(client.get(url))
    assert reverse("results:skill", args=[w.event.code, w.skill.code]) in page
    assert U_SKILL_NAME not in page


def test_index_lists_events_with_published_results(client, w):
    assert w.event.name not in html(client.get(reverse("results:index")))
    w.publish()
    assert w.event.name in html(client.get(reverse("results:index")))


def test_scoreboard_and_live_fragment(client, w):
    url = reverse("results:scoreboard", args=[w.event.code])
    live = reverse("results:scoreboard_live", args=[w.event.code])
    page = html(client.get(url))
    assert 'hx-trigger="every 5s"' in page
    assert "htmx.min.js" in page and "<script>" not in page  # no inline script (CSP)
    assert "司马青云" not in page
    version = client.get(url).context["version"]
    # The version is opaque: a timestamp's digits ("…55.17…") once read like
    # an unpublished score in the page.
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    assert client.get(live, {"v": version}).status_code == 204  # nothing changed
    w.publish()
    r = client.get(live, {"v": version, "every": "2"})
    assert r.status_code == 200
    fragment = html(r)
    assert 'id="scoreboard"' in fragment and 'hx-trigger="every 2s"' in fragment
    assert "司马青云" in fragment and "91.25" in fragment
    assert "诸葛长风" not in fragment  # 4th place: the podium only
    for secret in w.secrets:
        assert secret not in fragment


def test_withdrawn_publication_disappears(client, w):
    w.publish()
    publishing.unpublish(w.skill, w.organiser, "复核")
    assert (
        client.get(reverse("results:skill", args=[w.event.code, w.skill.code])).status_code == 404
    )
    assert "司马青云" not in html(client.get(reverse("results:scoreboard", args=[w.event.code])))


def _publish_more(w, n: int) -> list[str]:
    """n more published skills, one gold each for delegation B."""
    from tests import factories as f

    from .builders import award, result, sign_off

    codes = []
    for i in range(n):
        skill = f.skill(event=w.event, code=f"X{i:02d}", name=f"加赛项目{i}")
        e = f.entry(skill, delegation=w.del_b, competitor_no=f"9{i:02d}")
        result(e, "70.00", 1, 700)
        award(e, "gold", 1)
        sign_off(skill)
        publishing.publish(skill, w.organiser)
        codes.append(skill.code)
    return codes


def test_scoreboard_header_counts_what_it_shows_and_pages_through_the_rest(client, w):
    w.publish()
    codes = [w.skill.code, *_publish_more(w, 6)]  # 7 published: more than one screen
    r = client.get(reverse("results:scoreboard", args=[w.event.code]))
    page = html(r)
    board = r.context["board"]
    shown = [s.skill.code for p in board.pages for s in p]
    assert sorted(shown) == sorted(codes)  # every published skill is on a page
    assert board.published_count == len(shown) == 7
    assert "已公布 7 / 8 个赛项" in page  # 8: the unpublished one has entries too
    assert page.count('class="sb-skill"') == 7
    assert page.count('class="sb-page"') == 2
    assert page.count(" hidden>") == 1  # the second page waits its turn
    assert "第 1 / 2 页" in page and "第 2 / 2 页" in page
    assert 'data-rotate="12"' in page
    # the latest publication comes first
    assert shown[0] == codes[-1]


def test_scoreboard_rotation_is_bounded(client, w):
    url = reverse("results:scoreboard", args=[w.event.code])
    assert 'data-rotate="4"' in html(client.get(url, {"rotate": "0"}))
    assert 'data-rotate="120"' in html(client.get(url, {"rotate": "99999"}))
    assert 'data-rotate="12"' in html(client.get(url, {"rotate": "-5"}))


def test_medal_chart_lists_delegations_by_place_with_gold_silver_bronze_lanes(client, w):
    w.publish()
    _publish_more(w, 2)  # B: 1 silver + 2 gold; A: 1 gold + 1 bronze
    page = html(client.get(reverse("results:medals", args=[w.event.code])))
    chart = page[page.index('class="medal-lanes"') :]
    chart = chart[: chart.index("</figure>")]
    assert chart.index("漠河市北极代表团") < chart.index("鹤岗市青山代表团")  # B leads on gold
    for row in chart.split('class="ml-row lanes-')[2:]:
        kinds = [k.split('"')[0] for k in row.split('data-kind="')[1:]]
        assert kinds == ["gold", "silver", "bronze"]
    b_row = chart[chart.index('data-delegation="WVK"') :]
    assert 'data-kind="gold" data-count="2"' in b_row.split("</li>")[0]
    assert '<rect x="0" y="0" width="100"' in b_row.split("</li>")[0]
