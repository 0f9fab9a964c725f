"""Real-browser tests: Debian's Chromium, headless, driven by Playwright at
tablet sizes with touch. Screenshots go to artifacts/tablets/.

The offline test is the point of the tablet: mark online, lose the network,
mark more, reload the page while offline, get the network back, and find
every tap stored exactly once in the database.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import request_started

from scoring import marks
from scoring.models import LedgerRecord, Mark

from .conftest import PIN

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "tablets"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PORTRAIT = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True}
LANDSCAPE = {"viewport": {"width": 1280, "height": 800}, "has_touch": True}

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky bar stays on top
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def wait_cached(page, paths: list[str]) -> None:
    """Wait until the service worker holds these pages (it prefetches them)."""
    ok = page.evaluate(
        """async (paths) => {
          await navigator.serviceWorker.ready;
          for (let i = 0; i < 150; i++) {
            const c = await caches.open('tablet-v1');
            let all = true;
            for (const p of paths) if (!(await c.match(p))) all = false;
            if (all) return true;
            await new Promise(r => setTimeout(r, 100));
          }
          return false;
        }""",
        paths,
    )
    assert ok, f"service worker did not cache {paths}"


def aspect(page, a):
    return page.locator(f'.aspect[data-aspect="{a.pk}"]')


def tap_choice(page, a, value: str) -> None:
    aspect(page, a).locator(f'button[data-v="{value}"]').tap()


def type_mark(page, a, value: str) -> None:
    field = aspect(page, a).locator("input")
    field.tap()
    field.fill(value)
    field.press("Enter")


def state(page, a) -> str:
    return aspect(page, a).get_attribute("data-state")


def wait_states(page, expected: dict) -> None:
    for a, st in expected.items():
        page.wait_for_function(
            '([id, st]) => document.querySelector(`.aspect[data-aspect="${id}"]`)'
            ".dataset.state === st",
            arg=[a.pk, st],
            timeout=15000,
        )


@pytest.mark.django_db(transaction=True)
def test_mark_online_offline_reload_and_resync_exactly_once(live_server, browser, world):
    base = live_server.url
    skill = world.skill
    a = world.aspect
    context = browser.new_context(**PORTRAIT, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    hits: list[str] = []

    def count(sender, environ, **kwargs):
        hits.append(environ.get("PATH_INFO", ""))

    request_started.connect(count)

    # Sign in with code + PIN.
    page.goto(f"{base}/tablet/login/")
    assert no_horizontal_scroll(page)
    page.fill("#code", "JB02")
    page.fill("#pin", PIN)
    page.fill("#device", "平板 3")
    shot(page, "01-login-768")
    page.locator("#signin").tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/")
    assert page.locator(".entry .no").all_inner_texts() == ["101", "103", "104"]
    assert no_horizontal_scroll(page)
    wait_cached(page, [f"/tablet/{skill.pk}/{no}/" for no in ("101", "103", "104")])
    shot(page, "02-entry-list-768")

    # Mark a whole entry by tapping.
    page.locator("#next").tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/101/")
    assert no_horizontal_scroll(page)
    tap_choice(page, a("M1"), "1")
    type_mark(page, a("M2"), "8.5")
    tap_choice(page, a("J1"), "2")
    tap_choice(page, a("J2"), "3")
    tap_choice(page, a("J3"), "1")
    wait_states(page, {x: "saved" for x in (a("M1"), a("M2"), a("J1"), a("J2"), a("J3"))})
    assert page.locator("#done").inner_text() == "5"
    assert page.locator("#sync").inner_text() == "全部已保存"
    shot(page, "03-marking-saved-768")

    # Next unmarked: 103. Lose the network and keep marking.
    page.locator("#next").first.tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/103/")
    wait_cached(page, [f"/tablet/{skill.pk}/103/"])
    context.set_offline(True)
    hits.clear()
    tap_choice(page, a("J1"), "3")
    tap_choice(page, a("J1"), "2")  # the judge changes their mind: two taps, two records
    tap_choice(page, a("J2"), "0")
    tap_choice(page, a("M1"), "0.5")
    type_mark(page, a("M2"), "7.25")
    wait_states(page, {x: "pending" for x in (a("J1"), a("J2"), a("M1"), a("M2"))})
    assert "离线" in page.locator("#sync").inner_text()
    shot(page, "04-offline-pending-768")
    assert not Mark.objects.filter(entry=world.entries["103"]).exists()

    # Reload while offline: the service worker serves the page, the queue
    # lays the pending marks over it.
    response = page.reload()
    assert response is None or response.from_service_worker
    wait_states(page, {x: "pending" for x in (a("J1"), a("J2"), a("M1"), a("M2"))})
    assert aspect(page, a("J1")).locator('button[aria-pressed="true"]').inner_text().startswith("2")
    assert aspect(page, a("M2")).locator("input").input_value() == "7.25"
    assert page.evaluate("() => window.tabletQueue().length") == 5
    shot(page, "05-offline-reloaded-768")

    # Nothing reached the server while offline, not even the service worker.
    assert hits == []

    # Back online: the queue drains through the idempotent endpoint.
    context.set_offline(False)
    wait_states(page, {x: "saved" for x in (a("J1"), a("J2"), a("M1"), a("M2"))})
    page.wait_for_function("() => window.tabletQueue().length === 0")
    assert page.locator("#sync").inner_text() == "全部已保存"

    # Resending a tap already stored changes nothing (a lost reply).
    first_key = LedgerRecord.objects.filter(judge=world.jb).order_by("seq").first().client_key
    status = page.evaluate(
        """async ([key, entry, asp]) => {
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const r = await fetch('/tablet/api/mark', {method: 'POST', headers:
            {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
            body: JSON.stringify({client_key: key, entry: entry, aspect: asp, value: '1',
                                  expected_version: 0})});
          return (await r.json()).replayed;
        }""",
        [first_key, world.entries["101"].pk, a("M1").pk],
    )
    assert status is True

    marks = {
        (m.entry.competitor_no, m.aspect.code): m.value
        for m in Mark.objects.filter(skill=skill).select_related("entry", "aspect")
    }
    assert marks == {
        ("101", "M1"): Decimal("1.00"),
        ("101", "M2"): Decimal("8.50"),
        ("101", "J1"): Decimal("2.00"),
        ("101", "J2"): Decimal("3.00"),
        ("101", "J3"): Decimal("1.00"),
        ("103", "J1"): Decimal("2.00"),
        ("103", "J2"): Decimal("0.00"),
        ("103", "M1"): Decimal("0.50"),
        ("103", "M2"): Decimal("7.25"),
    }
    assert all(m.judge_id == world.jb.pk for m in Mark.objects.all())
    records = LedgerRecord.objects.filter(skill=skill, action="write")
    assert records.count() == 10  # 5 + 5 taps, each exactly once
    assert records.values("client_key").distinct().count() == 10
    assert set(records.values_list("device", flat=True)) == {"平板 3"}
    assert errors == []
    request_started.disconnect(count)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_saved_pending_and_refused_states(live_server, browser, world):
    base = live_server.url
    skill, a = world.skill, world.aspect
    context = browser.new_context(**PORTRAIT, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/tablet/login/")
    page.fill("#code", "JC03")
    page.fill("#pin", PIN)
    page.locator("#signin").tap()
    page.wait_for_url(f"{base}/tablet/{skill.pk}/")
    page.goto(f"{base}/tablet/{skill.pk}/104/")
    wait_cached(page, [f"/tablet/{skill.pk}/104/"])
    tap_choice(page, a("J1"), "3")
    wait_states(page, {a("J1"): "saved"})
    # Meanwhile another judge enters the shared measurement mark.
    marks.write_mark(
        entry=world.entries["104"], aspect=a("M2"), judge=world.jb, value="5", source="tablet"
    )
    context.set_offline(True)
    type_mark(page, a("M2"), "6")
    tap_choice(page, a("J2"), "2")
    wait_states(page, {a("M2"): "pending", a("J2"): "pending"})
    context.set_offline(False)
    wait_states(page, {a("M2"): "refused", a("J2"): "saved"})
    message = aspect(page, a("M2")).locator(".msg").inner_text()
    assert "5" in message and "重新选择" in message
    assert aspect(page, a("M2")).locator("input").input_value() == "5"
    context.set_offline(True)
    tap_choice(page, a("J3"), "1")
    wait_states(page, {a("J3"): "pending"})
    shot(page, "06-marking-saved-pending-refused-768")
    assert no_horizontal_scroll(page)
    context.set_offline(False)
    wait_states(page, {a("J3"): "saved"})
    # The judge chooses again after seeing the server's value: accepted.
    type_mark(page, a("M2"), "6")
    wait_states(page, {a("M2"): "saved"})
    assert Mark.objects.get(entry=world.entries["104"], aspect=a("M2")).value == Decimal("6.00")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_landscape_and_the_chief_board_updates_itself(live_server, browser, world):
    from django.test import Client

    from tablets import services

    base = live_server.url
    skill, a = world.skill, world.aspect
    # A judge signs in by QR link on a landscape tablet.
    [(_, token)] = services.create_links([world.ja], by_user=world.organiser)
    context = browser.new_context(**LANDSCAPE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/tablet/link/{token}/")
    page.wait_for_url(f"{base}/tablet/{skill.pk}/")
    assert page.locator(".entry .no").all_inner_texts() == ["102", "103"]
    page.goto(f"{base}/tablet/{skill.pk}/102/")
    tap_choice(page, a("J1"), "3")
    wait_states(page, {a("J1"): "saved"})
    assert no_horizontal_scroll(page)
    shot(page, "07-marking-1280")

    # The chief judge's board, signed in as a portal user.
    client = Client()
    client.force_login(world.chief.user)
    board = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    board.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    chief = board.new_page()
    chief.goto(f"{base}/tablet/board/{skill.pk}/")
    cell = chief.locator("#grid tr", has_text="102").locator("td").nth(0)
    assert cell.inner_text() == "—" or "回避" in cell.inner_text() or "/" in cell.inner_text()
    before = chief.locator("#grid tr", has_text="102").inner_text()
    tap_choice(page, a("J2"), "2")
    wait_states(page, {a("J2"): "saved"})
    chief.wait_for_function(
        "(before) => { const r = [...document.querySelectorAll('#grid tr')]"
        ".find(r => r.textContent.includes('102')); return r && r.innerText !== before; }",
        arg=before,
        timeout=12000,
    )
    assert "2/3" in chief.locator("#grid tr", has_text="102").inner_text()
    shot(chief, "08-chief-board-1280")
    # The chief revokes the tablet: its next request is refused.
    chief.locator("#tablets button").first.click()
    chief.wait_for_url(f"{base}/tablet/board/{skill.pk}/#tablets")
    tap_choice(page, a("J3"), "2")
    page.wait_for_function("() => document.getElementById('sync').dataset.state === 'bad'")
    assert "重新登录" in page.locator("#banner").inner_text()
    assert page.evaluate("() => window.tabletQueue().length") == 1  # kept for later
    shot(page, "09-signed-out-1280")
    context.close()
    board.close()
