"""The judge's pages: skills, competitors with progress, one entry's aspects."""

from __future__ import annotations

import gzip
import re

import pytest

from scoring.models import MarkingGroup, SkillMarking
from tests import factories as f

pytestmark = pytest.mark.django_db


def html(response) -> str:
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode()


def numbers_on(page: str) -> list[str]:
    return re.findall(r'<span class="no">([^<]+)</span>', page)


def test_competitors_offered_leave_out_own_delegation(world, tablet):
    client, _ = tablet(world.ja)  # delegation A: 101 and 104 are recused
    page = html(client.get(f"/tablet/{world.skill.pk}/"))
    assert numbers_on(page) == ["102", "103"]
    client, _ = tablet(world.jb)
    assert numbers_on(html(client.get(f"/tablet/{world.skill.pk}/"))) == [
        "101",
        "103",
        "104",
    ]


def test_recused_entry_page_is_not_found(world, tablet):
    client, _ = tablet(world.ja)
    assert client.get(f"/tablet/{world.skill.pk}/101/").status_code == 404
    assert client.get(f"/tablet/{world.skill.pk}/999/").status_code == 404


def test_marking_groups_narrow_the_offer(world, tablet):
    group = MarkingGroup.objects.create(skill=world.skill, name="第一组")
    group.judges.add(world.jc)
    group.entries.add(world.entries["102"])
    group.aspects.add(world.aspect("J1"))
    client, _ = tablet(world.jc)
    assert numbers_on(html(client.get(f"/tablet/{world.skill.pk}/"))) == ["102"]
    page = html(client.get(f"/tablet/{world.skill.pk}/102/"))
    assert f'data-aspect="{world.aspect("J1").pk}"' in page
    assert f'data-aspect="{world.aspect("J2").pk}"' not in page
    assert client.get(f"/tablet/{world.skill.pk}/103/").status_code == 404


def test_skill_progress_counts_marks(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    post_mark(client, world.entries["101"], world.aspect("J1"), "2", "k1", ev=0)
    post_mark(client, world.entries["101"], world.aspect("M1"), "1", "k2", ev=0)
    page = html(client.get(f"/tablet/{world.skill.pk}/"))
    # 5 aspects × 3 entries; 2 marked on 101.
    assert re.search(r"<b>2</b> / 15", page)
    assert re.search(r'<span class="no">101</span>\s*<span class="prog">2 / 5</span>', page)


def test_entry_page_groups_aspects_and_shows_the_controls(world, tablet):
    client, _ = tablet(world.jb)
    response = client.get(f"/tablet/{world.skill.pk}/101/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    page = html(response)
    # Criterion → sub-criterion → aspects, in scheme order (after the index).
    sheet = page[page.index('<section class="crit"') :]
    order = [sheet.index(s) for s in ("尺寸测量", "墙体尺寸", "工艺评价", "外观", "整体效果")]
    assert order == sorted(order)
    j1 = page[page.index(f'data-aspect="{world.aspect("J1").pk}"') :]
    j1 = j1[: j1.index('<p class="msg"')]
    assert [m for m in re.findall(r'data-v="([^"]+)"', j1)] == ["0", "1", "2", "3"]
    for descriptor in ("明显低于标准", "达到行业标准", "高于标准", "卓越"):
        assert descriptor in j1
    m1 = page[page.index(f'data-aspect="{world.aspect("M1").pk}"') :]
    m1 = m1[: m1.index('<p class="msg"')]
    assert re.findall(r'data-v="([^"]+)"', m1) == ["0", "0.5", "1"]  # max 1 → buttons
    m2 = page[page.index(f'data-aspect="{world.aspect("M2").pk}"') :]
    m2 = m2[: m2.index('<p class="msg"')]
    assert 'type="number"' in m2 and 'max="9.5"' in m2 and 'step="0.01"' in m2
    assert "满分 9.5" in m2 and "步长 0.01" in m2
    assert "下一个未评" in page


def test_entry_page_shows_current_values_and_versions(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    entry = world.entries["104"]
    post_mark(client, entry, world.aspect("J3"), "1", "k1", ev=0)
    post_mark(client, entry, world.aspect("J3"), "3", "k2", ev=1)
    post_mark(client, entry, world.aspect("M2"), "6.5", "k3", ev=0)
    page = html(client.get(f"/tablet/{world.skill.pk}/104/"))
    assert f'data-aspect="{world.aspect("J3").pk}"' in page
    assert re.search(
        rf'data-aspect="{world.aspect("J3").pk}"[^>]*data-value="3" data-version="2"', page
    )
    assert re.search(
        rf'data-aspect="{world.aspect("M2").pk}"[^>]*data-value="6.5" data-version="1"', page
    )
    # Another judge sees the shared M mark but not jb's J score.
    other, _ = tablet(world.jc)
    page = html(other.get(f"/tablet/{world.skill.pk}/104/"))
    assert re.search(rf'data-aspect="{world.aspect("J3").pk}"[^>]*data-value=""', page)
    assert re.search(rf'data-aspect="{world.aspect("M2").pk}"[^>]*data-value="6.5"', page)


def test_chief_judge_is_offered_measurement_aspects_only(world, tablet):
    client, _ = tablet(world.chief)
    page = html(client.get(f"/tablet/{world.skill.pk}/101/"))
    assert f'data-aspect="{world.aspect("M1").pk}"' in page
    assert f'data-aspect="{world.aspect("J1").pk}"' not in page


def test_remark_request_marks_the_entry_and_the_aspect(world, tablet):
    from tablets import services

    services.request_remark(
        world.entries["103"], world.aspect("J2"), [world.jb], world.organiser, "灰缝复核"
    )
    client, _ = tablet(world.jb)
    listing = html(client.get(f"/tablet/{world.skill.pk}/"))
    assert "裁判长要求重评" in listing and "103 · J2" in listing
    page = html(client.get(f"/tablet/{world.skill.pk}/103/"))
    assert "aspect remark" in page and "灰缝复核" in page


def test_after_sign_off_names_are_shown_and_controls_disabled(world, tablet):
    SkillMarking.objects.create(skill=world.skill, status=SkillMarking.Status.SIGNED_OFF)
    client, _ = tablet(world.jb)
    listing = html(client.get(f"/tablet/{world.skill.pk}/"))
    assert "欧阳翠花" in listing
    page = html(client.get(f"/tablet/{world.skill.pk}/101/"))
    assert "欧阳翠花" in page and 'data-locked="1"' in page and "disabled" in page


def test_home_lists_several_skills(world, tablet):
    other = f.skill(event=world.skill.event, code="W08", name="瓷砖贴面")
    from teams.models import JudgeAssignment

    JudgeAssignment.objects.create(judge=world.jb, skill=other)
    client, _ = tablet(world.jb)
    page = html(client.get("/tablet/"))
    assert "W07" in page and "W08" in page and "我的赛项" in page


def test_unassigned_skill_is_not_found(world, tablet):
    other = f.skill()
    client, _ = tablet(world.jb)
    assert client.get(f"/tablet/{other.pk}/").status_code == 404


def test_english_is_switchable(world, tablet):
    client, _ = tablet(world.jb)
    client.cookies["django_language"] = "en"
    page = html(client.get(f"/tablet/{world.skill.pk}/101/"))
    assert "Next unmarked" in page and "Not marked" in page


def test_service_worker_is_served_under_the_tablet_scope(world):
    from django.test import Client

    response = Client().get("/tablet/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    text = response.content.decode()
    assert "/static/tablets/tablet.js" in text and "var SCOPE = '/tablet/'" in text


def test_page_weight_of_a_large_marking_page(world, tablet):
    """A 60-aspect entry page with long descriptors (random text, so it does
    not compress better than real text) stays under the 150 KB budget once
    gzipped, with room for the static files (see the browser test)."""
    import random
    from decimal import Decimal

    from scoring.models import Aspect, AspectKind, Criterion, JudgementDescriptor, SubCriterion

    skill = f.skill(code="BIG", name="大赛项")
    crit = Criterion.objects.create(skill=skill, code="A", name="模块")
    sub = SubCriterion.objects.create(criterion=crit, code="A1", name="子模块")
    rng = random.Random(4)

    def text(n: int) -> str:
        return "".join(chr(rng.randint(0x4E00, 0x7FFF)) for _ in range(n))

    for i in range(60):
        aspect = Aspect.objects.create(
            skill=skill,
            sub_criterion=sub,
            code=f"J{i}",
            kind=AspectKind.JUDGEMENT,
            description=text(40),
            max_mark=Decimal("1"),
            order=i,
        )
        JudgementDescriptor.objects.bulk_create(
            JudgementDescriptor(aspect=aspect, score=s, text=text(30)) for s in range(4)
        )
    f.entry(skill, competitor_no="001")
    judge = f.judge(skill)
    client, _ = tablet(judge)
    response = client.get(f"/tablet/{skill.pk}/001/", HTTP_ACCEPT_ENCODING="gzip")
    raw = len(gzip.decompress(response.content))
    wire = len(response.content)
    print(f"\nmarking page, 60 J aspects: {raw} bytes raw, {wire} bytes gzipped")
    assert wire < 100_000


def test_judge_page_weight_is_within_150_kb(world, tablet):
    """What a tablet downloads for a marking page: the HTML (gzipped by the
    view) and the two static files (gzipped by WhiteNoise in production,
    raw here). Both ways under the 150 KB budget."""
    from django.contrib.staticfiles import finders

    client, _ = tablet(world.jb)
    response = client.get(f"/tablet/{world.skill.pk}/101/", HTTP_ACCEPT_ENCODING="gzip")
    page = response.content
    assets = [
        open(finders.find(name), "rb").read()
        for name in ("tablets/tablet.js", "tablets/tablets.css")
    ]
    wire = len(page) + sum(len(gzip.compress(a)) for a in assets)
    raw = len(gzip.decompress(page)) + sum(len(a) for a in assets)
    print(f"\nmarking page + static: {wire} bytes gzipped, {raw} bytes raw")
    assert wire <= 150_000 and raw <= 150_000
