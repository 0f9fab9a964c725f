"""One medal table (awards.medals): the awards app's pages and interchange
workbook and the results app's pages and workbooks read the same
computation. Before everything is published the organisers' view may also
count signed-off skills; once every skill is published they all agree."""

from __future__ import annotations

import pytest
from django.urls import reverse

from awards import medals
from awards.exporters import MedalTableExporter
from results import exporters, publishing, services

from .builders import world

pytestmark = pytest.mark.django_db


def _page_lines(html: str, codes: list[str]) -> list[int]:
    # Where each delegation code first appears: the order rows are shown in.
    return [html.index(code) for code in codes]


def test_awards_and_results_users_agree_once_everything_is_published(client):
    w = world()
    w.publish()  # W07 published, W99 (the hidden skill) still not
    published = services.published_medal_table(w.event)
    organisers = medals.event_medal_table(w.event, include_unpublished=True)
    # Only the organisers' view counts the unpublished skill's gold (del_c).
    assert w.del_c.code not in [m.delegation_code for m in published.lines]
    assert w.del_c.code in [m.delegation_code for m in organisers.lines]

    publishing.publish(w.hidden, w.organiser)
    published = services.published_medal_table(w.event)
    organisers = medals.event_medal_table(w.event, include_unpublished=True)
    assert published.complete and published.lines == organisers.lines
    assert [(m.delegation_code, m.gold, m.silver, m.bronze) for m in published.lines] == [
        (w.del_a.code, 1, 0, 1),
        (w.del_c.code, 1, 0, 0),
        (w.del_b.code, 0, 1, 0),
    ]

    # The workbooks: the interchange sheet (awards) and the people's (results).
    interchange = list(MedalTableExporter(w.event).rows())
    people = list(exporters.PublishedMedalTableSheet(w.event, published).rows())
    assert interchange == people and len(people) == 3

    # The pages: the awards app's (organisers; leads now too) and the results app's.
    codes = [m.delegation_code for m in published.lines]
    client.force_login(w.organiser)
    awards_page = client.get(reverse("awards:medal_table", args=[w.event.code]))
    results_page = client.get(reverse("results:medals", args=[w.event.code]))
    assert awards_page.status_code == results_page.status_code == 200
    a_html, r_html = awards_page.content.decode(), results_page.content.decode()
    a_at, r_at = _page_lines(a_html, codes), _page_lines(r_html, codes)
    assert a_at == sorted(a_at) and r_at == sorted(r_at)  # same order on both pages
    client.force_login(w.lead_b)
    lead_view = client.get(reverse("awards:medal_table", args=[w.event.code]))
    assert lead_view.status_code == 200
    assert _page_lines(lead_view.content.decode(), codes) == sorted(
        _page_lines(lead_view.content.decode(), codes)
    )
