"""Pages: who may see and download what (anonymous requests included)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from competitions.models import Phase
from draws import services as draws
from sector.models import Reward
from teams.models import Entry
from tests import factories as f
from tests.awards.conftest import sign_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    programme = f.programme(code="wjw", name="省卫生健康委岗位练兵技术比武")
    r1 = f.event(programme=programme, code="r1", kind="selection", starts_on=dt.date(2026, 3, 1))
    final = f.event(programme=programme, code="fin", kind="final", starts_on=dt.date(2030, 6, 1))
    src, fin = f.skill(event=r1, code="NUR"), f.skill(event=final, code="NUR")
    nj, sz = f.delegation(code="NJ"), f.delegation(code="SZ")
    entries = [
        f.entry(
            src,
            delegation=(nj, sz)[i % 2],
            competitor_no=str(2000 + i),
            athletes=[f.athlete(delegation=(nj, sz)[i % 2], name=f"选手{i}")],
        )
        for i in range(10)
    ]
    org = f.organiser()
    return {
        "programme": programme,
        "r1": r1,
        "final": final,
        "src": src,
        "fin": fin,
        "nj": nj,
        "sz": sz,
        "entries": entries,
        "org": org,
        "lead_nj": f.lead(nj),
        "lead_sz": f.lead(sz),
    }


def test_public_draw_page_anonymous_shows_pool_seed_keys_but_no_names(client, site):
    done = draws.draw(site["fin"], site["r1"], count=3, seed="排列三 2026-06-01: 5 8 1")
    html = client.get(reverse("draws:skill", args=["fin", "NUR"])).content.decode()
    assert "排列三 2026-06-01: 5 8 1" in html
    for no in done.pool:
        assert no in html
    for row in done.result:
        assert row["key"] in html
    # Final numbers stay with the organisers. Look for them as whole numbers in
    # what is left once the keys (hex) and the seed are taken out: a random
    # 4-digit number can otherwise turn up inside a key or a date.
    visible = re.sub(r"[0-9a-f]{64}", "", html).replace("排列三 2026-06-01: 5 8 1", "")
    for row in done.result:
        if row["final_no"] not in done.pool:  # a source number shown in the pool
            assert not re.search(rf"(?<![0-9]){row['final_no']}(?![0-9])", visible)
    assert "选手" not in html
    assert "hashlib.sha256" in html
    assert client.get(reverse("draws:event", args=["fin"])).status_code == 200


def test_browser_draw_and_refused_silent_redraw(client, site):
    client.force_login(site["org"])
    url = reverse("draws:manage", args=["fin", "NUR"])
    assert client.get(url).status_code == 200
    data = {"action": "draw", "source_event": site["r1"].pk, "count": 2, "seed": "42"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, {**data, "seed": "43"})
    assert again.status_code == 400
    assert Entry.objects.filter(skill=site["fin"]).count() == 2
    ok = client.post(url, {**data, "seed": "43", "reason": "抽中选手弃权"})
    assert ok.status_code == 302
    html = client.get(reverse("draws:skill", args=["fin", "NUR"])).content.decode()
    assert "抽中选手弃权" in html and 'id="draw-1"' in html and 'id="draw-2"' in html


def test_draw_management_is_organisers_only(client, site):
    url = reverse("draws:manage", args=["fin", "NUR"])
    assert client.get(url).status_code == 302  # to the login
    client.force_login(site["lead_nj"])
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url, {"action": "draw", "source_event": site["r1"].pk, "count": 1, "seed": "x"}
        ).status_code
        == 403
    )


def test_lead_nominates_from_the_page_within_quota(client, site):
    f.quota(site["fin"], site["nj"], max_entries=1)
    client.force_login(site["lead_nj"])
    page = client.get(reverse("draws:nominate_page", args=["fin"]))
    assert page.status_code == 200
    mine = [e for e in site["entries"] if e.delegation_id == site["nj"].pk]
    url = reverse("draws:nominate", args=["fin", "NUR"])
    client.post(url, {"entry": mine[0].pk})
    client.post(url, {"entry": mine[1].pk})  # over quota: refused with a message
    assert Entry.objects.filter(skill=site["fin"], delegation=site["nj"]).count() == 1
    theirs = next(e for e in site["entries"] if e.delegation_id == site["sz"].pk)
    assert client.post(url, {"entry": theirs.pk}).status_code == 403
    assert client.post(url, {"entry": "9" * 40}).status_code == 302


# ------------------------------------------------------------------ rewards


@pytest.fixture
def published(site):
    """The final ran: entries, a signed-off and published skill, rewards set."""
    from results import publishing
    from scoring.models import EntryResult

    for i, d in enumerate([site["nj"], site["sz"], site["sz"]]):
        e = f.entry(site["fin"], delegation=d, athletes=[f.athlete(delegation=d, name=f"决赛{i}")])
        EntryResult.objects.create(
            entry=e,
            skill=site["fin"],
            final_score=Decimal(90 - i),
            rank=i + 1,
            scale_score=700,
            complete=True,
        )
    Reward.objects.create(programme=site["programme"], outcome="finalist", credits=2)
    sign_off(site["fin"])
    return lambda: publishing.publish(site["fin"], site["org"])


def test_rewards_download_permissions_and_embargo(client, site, published):
    url = reverse("sector:lead_rewards_download", args=["fin"])
    org_url = reverse("sector:rewards_download", args=["fin"])
    assert client.get(url).status_code == 302  # anonymous → login
    assert client.get(org_url).status_code == 302
    client.force_login(site["lead_nj"])
    assert client.get(org_url).status_code == 403  # the organisers' full download
    assert client.get(url).status_code == 403  # not published yet
    published()
    response = client.get(url)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content))["rewards"].iter_rows(values_only=True))
    assert {r[0] for r in rows[1:]} == {"NJ"}  # own delegation only
    # A lead whose delegation has no entry in the event gets nothing.
    other = f.lead(f.delegation(code="XX"))
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.force_login(site["org"])
    response = client.get(org_url)
    rows = list(load_workbook(io.BytesIO(response.content))["rewards"].iter_rows(values_only=True))
    assert {r[0] for r in rows[1:]} == {"NJ", "SZ"}


def test_rewards_register_edited_in_the_browser(client, site):
    url = reverse("sector:rewards", args=["wjw"])
    client.force_login(site["lead_nj"])
    assert client.get(url).status_code == 403
    client.force_login(site["org"])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"winner__bonus": "-5"})
    assert bad.status_code == 400 and not Reward.objects.exists()
    client.post(
        url,
        {
            "winner__bonus": "1000",
            "winner__credits": "2",
            "technical_expert__bonus": "1000",
            "technical_expert__credits": "4",
            "finalist__credits": "2",
        },
    )
    got = {r.outcome: (r.bonus_yuan, r.credits) for r in Reward.objects.all()}
    assert got == {"winner": (1000, 2), "technical_expert": (1000, 4), "finalist": (0, 2)}


# ------------------------------------------------------------------ stages, funnel


def test_programme_page_public_with_stages_and_next(client, site, monkeypatch):
    today = dt.date.today()
    p = site["programme"]
    Phase.objects.create(
        programme=p,
        kind="mobilisation",
        starts_on=today - dt.timedelta(30),
        ends_on=today - dt.timedelta(10),
    )
    Phase.objects.create(
        programme=p,
        kind="training",
        starts_on=today - dt.timedelta(9),
        ends_on=today + dt.timedelta(5),
    )
    Phase.objects.create(
        programme=p,
        kind="custom",
        name="理论考试",
        description="机考，90分钟",
        starts_on=today + dt.timedelta(6),
        ends_on=today + dt.timedelta(6),
    )
    Phase.objects.create(
        programme=p,
        kind="commendation",
        starts_on=today + dt.timedelta(40),
        ends_on=today + dt.timedelta(41),
    )
    html = client.get(reverse("sector:programme", args=["wjw"])).content.decode()
    assert 'class="current"' in html and 'class="next"' in html
    assert "理论考试" in html and "机考，90分钟" in html
    client.force_login(site["org"])
    dash = client.get(reverse("results:organiser_event", args=["fin"])).content.decode()
    assert 'id="stage"' in dash
    assert reverse("sector:funnel", args=["wjw"]) in dash
    assert reverse("sector:theory", args=["fin"]) in dash


def test_funnel_svg_for_organisers_only(client, site):
    draws.draw(site["fin"], site["r1"], count=4, seed="s")
    url = reverse("sector:funnel", args=["wjw"])
    assert client.get(url).status_code == 302
    client.force_login(site["lead_nj"])
    assert client.get(url).status_code == 403
    client.force_login(site["org"])
    html = client.get(url).content.decode()
    assert "<svg" in html and "<script" not in html.split("<svg")[1].split("</svg>")[0]
    # Labelled bars: candidates 10, round 1 10, final 4.
    assert html.count('class="bar') == 3
    assert ">10<" in html and ">4<" in html


def test_athlete_path_shows_rounds_and_onward(client, site):
    done = draws.draw(site["fin"], site["r1"], count=1, seed="s")
    drawn_no = done.result[0]["competitor_no"]
    src = Entry.objects.get(skill=site["src"], competitor_no=drawn_no)
    athlete = src.members.get().athlete
    client.force_login(site["org"])
    html = client.get(reverse("sector:path", args=["wjw", athlete.pk])).content.decode()
    assert drawn_no in html and done.result[0]["final_no"] in html
    assert "✓" in html


def test_rewards_form_shows_plain_amounts(client, site):
    Reward.objects.create(
        programme=site["programme"], outcome="winner", bonus_yuan=1000, credits=Decimal("2.50")
    )
    client.force_login(site["org"])
    html = client.get(reverse("sector:rewards", args=["wjw"])).content.decode()
    assert 'value="1000"' in html and 'value="2.5"' in html and "E+" not in html
