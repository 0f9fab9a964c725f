"""Real-browser tests (Debian's Chromium, headless, Playwright): a lead logs
in and downloads both workbooks; the public scoreboard shows a result
published while it is open, without a reload. Screenshots go to
artifacts/results/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from results import publishing
from tests import factories as f

from .builders import world

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "results"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "pw-Secret-123"  # tests.factories' default

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
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")  # not the language switch
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_lead_downloads_both_workbooks(live_server, browser, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = world()
    w.publish()
    base = live_server.url
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base, w.lead_a.username)
    page.goto(f"{base}/lead/")
    page.wait_for_selector("#download-own")
    assert "91.25" in page.content()
    shot(page, "lead_dashboard")

    with page.expect_download() as got:
        page.click("#download-own")
    download = got.value
    assert download.suggested_filename.endswith(".xlsx")
    path = ARTIFACTS / "lead_results.xlsx"
    download.save_as(str(path))
    wb = load_workbook(path)
    ws = wb["我方成绩"]
    assert ws["A3"].value == "W07" and ws["B3"].value == 1 and ws["F3"].value == 91.25
    assert ws["F3"].number_format == "0.00" and ws.freeze_panes == "A3"

    # The full rankings: a job, its page, then the download starts by itself.
    with page.expect_download(timeout=30000) as got:
        page.click("#export-all")
    full = got.value
    data = Path(full.path()).read_bytes()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["汇总", "奖牌榜", "W07 砌筑"]
    assert wb["W07 砌筑"]["E3"].value == "司马青云"
    (ARTIFACTS / "full_rankings.xlsx").write_bytes(data)
    page.wait_for_selector(".file-download")
    shot(page, "export_job_done")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_scoreboard_shows_a_result_published_while_open(live_server, browser):
    w = world()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/results/{w.event.code}/scoreboard/?every=1")
    page.wait_for_selector("#scoreboard")
    assert page.locator('.sb-skill[data-skill="W07"]').count() == 0
    page.evaluate("() => { window.__sameDocument = true; }")
    shot(page, "scoreboard_empty")

    publishing.publish(w.skill, w.organiser)
    page.wait_for_selector('.sb-skill[data-skill="W07"]', timeout=15000)
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    card = page.locator('.sb-skill[data-skill="W07"]')
    assert "司马青云" in card.inner_text() and "91.25" in card.inner_text()
    assert "诸葛长风" not in card.inner_text()  # 4th: not on the podium
    page.wait_for_selector(".medal-lanes rect")
    html = page.content()
    for secret in w.secrets:
        assert secret not in html
    page.wait_for_timeout(300)
    shot(page, "scoreboard_published")

    # A second skill arrives while the screen stays open.
    other = f.skill(event=w.event, code="A01", name="电工")
    from .builders import award, result, sign_off

    e = f.entry(other, delegation=w.del_b, competitor_no="301")
    result(e, "77.70", 1, 700)
    award(e, "gold", 1)
    sign_off(other)
    publishing.publish(other, w.organiser)
    page.wait_for_selector('.sb-skill[data-skill="A01"]', timeout=15000)
    assert page.evaluate("() => window.__sameDocument === true")
    assert errors == []
    context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.django_db(transaction=True)
def test_screenshots_of_pages(live_server, browser):
    """Each screenshot is taken of a page that shows what a visitor checks on
    it: the published ranking in order, the medal chart's labelled lanes,
    the organiser's skill table; and never the unpublished skill's data."""
    w = world()
    w.publish()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(f"{base}/results/{w.event.code}/skills/{w.skill.code}/")
    text = page.locator("main").inner_text()
    # The ranking, in place order, with the winner's total as published.
    where = [text.index(name) for name in w.public_after[:4]]
    assert where == sorted(where), "athletes out of place order"
    assert "91.25" in text and "88.50" in text
    assert not [s for s in w.secrets if s in page.content()]
    shot(page, "public_skill")

    page.goto(f"{base}/results/{w.event.code}/medals/")
    rows = page.locator(".medal-lanes .ml-row[data-delegation]")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.delegation)") == ["QXZ", "WVK"]
    first = rows.nth(0)
    assert "鹤岗市青山代表团" in first.locator(".ml-label").inner_text()
    counts = first.locator(".ml-lane[data-kind]").evaluate_all(
        "ls => Object.fromEntries(ls.map(l => [l.dataset.kind, l.innerText.trim()]))"
    )
    assert counts["gold"] == "1" and counts["bronze"] == "1"
    # Every lane is named in the head row, and each bar is drawn.
    head = page.locator(".medal-lanes .ml-head").inner_text()
    assert "金牌" in head or "Gold" in head
    assert first.locator(".ml-lane.gold rect").get_attribute("width") not in (None, "0")
    assert not [s for s in w.secrets if s in page.content()]
    shot(page, "public_medals")

    page.goto(f"{base}/results/{w.event.code}/")
    assert w.skill.name in page.locator("main").inner_text()
    assert not [s for s in w.secrets if s in page.content()]
    shot(page, "public_event")

    log_in(page, base, w.organiser.username)
    page.goto(f"{base}/organiser/events/{w.event.code}/")
    page.wait_for_selector(".org-table")
    # Both skills are signed off: the readiness list says so (not "no skills"),
    # and the progress table lists each with its state.
    readiness = page.locator(".readiness-table").inner_text()
    assert "没有赛项" not in readiness and "No skills" not in readiness
    for skill in (w.skill, w.hidden):
        assert page.locator(f"#skill-{skill.code}").get_attribute("data-stage")
    assert "✓" in page.locator(f"#skill-{w.skill.code}").inner_text()
    assert no_sideways_scroll(page)
    shot(page, "organiser_event")

    narrow = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = narrow.new_page()
    phone.goto(f"{base}/results/{w.event.code}/skills/{w.skill.code}/")
    assert w.public_after[0] in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone), "the phone page scrolls sideways"
    shot(phone, "public_skill_phone")
    narrow.close()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_scoreboard_fills_the_projector_and_pages_through_the_skills(live_server, browser):
    w = world()
    w.publish()
    from .builders import award, result, sign_off

    for i in range(6):  # 7 published skills: two screens of at most 6
        other = f.skill(event=w.event, code=f"B{i:02d}", name=f"加赛{i}")
        e = f.entry(other, delegation=w.del_b, competitor_no=f"7{i:02d}")
        result(e, "70.00", 1, 700)
        award(e, "gold", 1)
        sign_off(other)
        publishing.publish(other, w.organiser)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/results/{w.event.code}/scoreboard/?rotate=4")
    page.wait_for_selector("#scoreboard .sb-page")
    box = page.locator("#scoreboard").bounding_box()
    assert box["width"] >= 1850 and box["height"] >= 1040  # the whole projector
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.sb-skill li')).fontSize)"
    )
    assert size >= 28  # px at 1080 lines: legible from the back of a hall
    scroll = page.evaluate("() => document.documentElement.scrollHeight")
    assert scroll <= 1080  # nothing below the fold
    pages = page.locator(".sb-page")
    assert pages.count() == 2
    assert pages.nth(0).is_visible() and not pages.nth(1).is_visible()
    shot(page, "scoreboard_1920_page1")
    page.wait_for_selector('.sb-page[data-page="2"]:not([hidden])', timeout=10000)
    assert not pages.nth(0).is_visible()
    shot(page, "scoreboard_1920_page2")
    on_screen = set()
    for n in (1, 2):
        page.wait_for_selector(f'.sb-page[data-page="{n}"]:not([hidden])', timeout=10000)
        on_screen |= set(
            page.locator(f'.sb-page[data-page="{n}"] .sb-skill').evaluate_all(
                "cards => cards.map(c => c.dataset.skill)"
            )
        )
    assert len(on_screen) == 7  # every skill the header counts comes round
    assert errors == []
