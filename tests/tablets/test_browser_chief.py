"""Real-browser tests of the chief judge's board on a tablet (768 px
portrait, 1024 px landscape), the judge's re-mark banner, and a 220-aspect
CIS scheme on the judge's tablet. Screenshots go to artifacts/tablets/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from scoring import signoff, status
from scoring.models import DiscrepancyAcknowledgement, Mark
from tablets import services
from tablets.models import RemarkRequest

from .conftest import PIN
from .test_board_actions import mark_all
from .test_browser import ARTIFACTS, CHROMIUM, browser, tap_choice, wait_states  # noqa: F401
from .test_view_long_scheme import CIS_EXAMPLE, cis_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"Debian chromium is not installed at {CHROMIUM}"
    ),
]
PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1024, "height": 768}

# Visible things a finger acts on, smaller than 44 × 44 CSS px.
SMALL_ACTIONS = """(sel) => [...document.querySelectorAll(sel)]
  .filter(e => e.offsetParent !== null && e.type !== 'hidden')
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width < 44 || r.height < 44)
  .map(([e, r]) => [e.tagName, e.type || '', (e.innerText || e.name || '').trim().slice(0, 30),
                    Math.round(r.width) + 'x' + Math.round(r.height)].join(' '))"""
ACTIONS = "a[href], button, input, select, textarea"


def no_overflow(page, width: int) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def viewport_shot(page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def chief_context(browser, live_server, world, viewport):  # noqa: F811
    client = Client()
    client.force_login(world.chief.user)
    context = browser.new_context(viewport=viewport, has_touch=True, locale="zh-CN")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


@pytest.mark.django_db(transaction=True)
def test_the_board_fits_a_tablet_and_acknowledges_all_in_one_request(
    live_server,
    browser,  # noqa: F811
    world,
):
    base = live_server.url
    mark_all(world)  # three discrepancies, everything else complete
    services.request_remark(
        world.entries["101"], world.aspect("J1"), [world.jc], world.chief.user, "再看一次"
    )
    for _ in range(services.PIN_FAILURE_LIMIT):
        services.check_pin("JB02", "000000", "10.0.0.9")
    services.start_session(world.ja, via="pin", user_agent="pytest", device="平板 1")
    url = f"{base}/tablet/board/{world.skill.pk}/"
    for name, viewport in (("768x1024", PORTRAIT), ("1024x768", LANDSCAPE)):
        context = chief_context(browser, live_server, world, viewport)
        page = context.new_page()
        page.goto(url)
        assert no_overflow(page, viewport["width"]), name
        # Measurement and re-mark columns are on screen, not scrolled away.
        for header in page.locator("#grid thead th").all()[:3]:
            box = header.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], name
        # The whole grid is on screen: nothing scrolls inside it either.
        assert page.evaluate(
            "() => { const w = document.querySelector('.grid-wrap');"
            " return w.scrollWidth <= w.clientWidth; }"
        ), name
        assert page.evaluate(SMALL_ACTIONS, ACTIONS) == [], name
        assert page.locator("#pin-locks").inner_text().count("JB02") == 1
        viewport_shot(page, f"10-board-{name}", full=True)
        context.close()

    context = chief_context(browser, live_server, world, PORTRAIT)
    page = context.new_page()
    page.goto(url)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.locator("#ack-note").fill("与裁判组核对，分数成立")
    page.locator("#ack-all button").tap()
    page.wait_for_url(f"{url}#discrepancies")
    assert posts == [f"{url}acknowledge-all/"]
    assert DiscrepancyAcknowledgement.objects.count() == 3
    assert "已确认 3 项评分差异" in page.locator(".messages").inner_text()

    # Sign-off asks first, and the open re-mark request must be confirmed too.
    page.locator("#sign-off").tap()
    page.wait_for_url(f"{url}sign-off/")
    assert no_overflow(page, 768)
    assert page.evaluate(SMALL_ACTIONS, ACTIONS) == []
    assert "101" in page.locator("#open-remarks-warning").inner_text()
    viewport_shot(page, "11-sign-off-confirm-768x1024", full=True)
    page.locator("#sign-off-form button[type=submit]").tap()
    assert not signoff.names_revealed(world.skill)  # the browser asks for the tick first
    page.locator("input[name=remarks_ok]").check()
    page.locator("#sign-off-form button[type=submit]").tap()
    page.wait_for_url(url)
    assert signoff.names_revealed(world.skill)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_remark_banner_clears_itself_when_the_judge_re_marks(
    live_server,
    browser,  # noqa: F811
    world,
):
    base = live_server.url
    skill, a = world.skill, world.aspect
    entry = world.entries["101"]
    Mark.objects.all().delete()
    context = browser.new_context(viewport=PORTRAIT, has_touch=True, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/tablet/login/")
    page.fill("#code", "JC03")
    page.fill("#pin", PIN)
    page.locator("#signin").tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/")
    page.goto(f"{base}/tablet/{skill.pk}/101/")
    tap_choice(page, a("J1"), "3")
    wait_states(page, {a("J1"): "saved"})
    services.request_remark(entry, a("J1"), [world.jc], world.chief.user, "请再看灰缝")

    # A second tablet of the same judge shows the request on the competitors list.
    other = context.new_page()
    other.goto(f"{base}/tablet/{skill.pk}/")
    assert "101" in other.locator("#banner").inner_text()
    assert other.locator(f'a.entry[data-entry="{entry.pk}"] .flag').count() == 1

    page.reload()
    j1 = page.locator(f'.aspect[data-aspect="{a("J1").pk}"]')
    assert "remark" in j1.get_attribute("class") and "请再看灰缝" in j1.inner_text()
    page.wait_for_function("() => !document.getElementById('banner').hidden")
    viewport_shot(page, "12-remark-requested-768")
    tap_choice(page, a("J1"), "2")
    wait_states(page, {a("J1"): "saved"})
    page.wait_for_function("() => document.getElementById('banner').hidden", timeout=5000)
    assert "remark" not in j1.get_attribute("class") and j1.locator(".rmsg").count() == 0
    assert not RemarkRequest.objects.filter(resolved_at__isnull=True).exists()

    # The other tablet clears at its next poll (forced here instead of waiting 15 s).
    other.evaluate("() => window.dispatchEvent(new Event('online'))")
    other.wait_for_function("() => document.getElementById('banner').hidden", timeout=5000)
    assert other.locator("a.entry .flag").count() == 0
    context.close()


@pytest.mark.skipif(not CIS_EXAMPLE.exists(), reason="shared CIS example missing")
@pytest.mark.django_db(transaction=True)
def test_a_220_aspect_scheme_is_navigable_on_the_tablet(
    live_server,
    browser,  # noqa: F811
    settings,
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    skill, _judge, _entry = cis_world()
    base = live_server.url
    context = browser.new_context(viewport=PORTRAIT, has_touch=True, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/tablet/login/")
    page.fill("#code", "JW01")
    page.fill("#pin", PIN)
    page.locator("#signin").tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/")
    page.goto(f"{base}/tablet/{skill.pk}/201/")
    assert page.locator(".aspect").count() == 220
    assert page.locator("#total").inner_text() == "220"
    assert page.locator("#index a.ci").count() == 4
    assert page.locator("#index a.si").count() == 30
    assert no_overflow(page, 768)
    assert page.evaluate(SMALL_ACTIONS, "#index a, .tbar a, .tbar button") == []
    viewport_shot(page, "13-long-scheme-index-768")

    # Jump to criterion D: its heading lands below the sticky bar.
    page.locator("#index a.ci").nth(3).tap()
    page.wait_for_function("() => location.hash === '#crit-4'")
    page.wait_for_timeout(300)
    bar = page.locator(".tbar").bounding_box()
    heading = page.locator("#crit-4 h2").bounding_box()
    assert bar["y"] == 0 and heading["y"] >= bar["height"] - 1 and heading["y"] < 1024
    line = page.locator("#progress-line").bounding_box()
    assert 0 <= line["y"] and line["y"] + line["height"] <= bar["height"]

    # Mark the first aspect of D: the sticky line and D's counts follow.
    first = page.locator("#crit-4 .aspect").first
    d_total = page.locator("#crit-4 .aspect").count()
    if first.locator(".choices button").count():
        first.locator(".choices button").last.tap()
    else:
        field = first.locator("input")
        field.tap()
        field.fill(first.get_attribute("data-max"))
        field.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#crit-4 .aspect').dataset.state === 'saved'"
    )
    assert page.locator("#progress-line [data-done]").inner_text() == "1"
    assert page.locator('#crit-4 h2 [data-prog-for="crit-4"]').inner_text() == f"1/{d_total}"
    viewport_shot(page, "14-long-scheme-criterion-D-768")

    # "Next unmarked aspect" goes back to the first aspect still to mark.
    page.locator("#next-empty").tap()
    page.wait_for_timeout(300)
    target = page.locator("#crit-1 .aspect").first.bounding_box()
    assert bar["height"] - 1 <= target["y"] < 1024
    assert no_overflow(page, 768)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_scorings_sign_off_page_asks_about_open_remarks_on_a_tablet(
    live_server,
    browser,  # noqa: F811
    world,
):
    """The sign-off page of the scoring app (not the board) shows the open
    re-mark request and asks for the same tick before it signs off."""
    mark_all(world)
    for d in status.marking_status(world.skill).discrepancies:
        signoff.acknowledge_discrepancy(
            world.entries[d.competitor_no], world.aspect(d.aspect_code), world.chief.user
        )
    services.request_remark(
        world.entries["101"], world.aspect("J1"), [world.jc], world.chief.user, "再看一次"
    )
    url = f"{live_server.url}/scoring/skills/{world.skill.pk}/sign-off/"
    context = chief_context(browser, live_server, world, PORTRAIT)
    page = context.new_page()
    page.goto(url)
    assert no_overflow(page, 768)
    warning = page.locator("#sign-off-warnings")
    assert "101" in warning.inner_text() and world.jc.code in warning.inner_text()
    assert (
        page.evaluate(SMALL_ACTIONS, "#sign-off-warnings input, #sign-off-warnings ~ button") == []
    )
    viewport_shot(page, "12-scoring-sign-off-warnings-768x1024", full=True)
    submit = page.locator("#sign-off-warnings ~ button[type=submit]")
    submit.tap()
    assert not signoff.names_revealed(world.skill)  # the browser asks for the tick first
    page.locator("input[name=warnings_ok]").check()
    submit.tap()
    page.wait_for_load_state()
    page.locator("#ledger-head").wait_for()
    assert signoff.names_revealed(world.skill)
    context.close()
