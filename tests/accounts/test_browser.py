"""A new organiser builds an event from nothing, in the browser alone.

Headless Chromium (Debian's) driven by Playwright, at the organiser's size
(1366×768). Starting with nothing but the organiser's own account, the test
imports delegations, a skill and judges through the event workbook page,
sets quotas in the configuration, creates accounts for a delegation lead and
the chief judge (each sets a password through their one-time link), reaches
the CIS marking-scheme upload by links from the dashboard's checklist, issues
PINs from the chief judge's board, sees the checklist turn green; a judge
marks on the tablet, the rest of the marks arrive in a workbook, the chief
judge signs off, the organiser publishes, and the lead downloads Excel.
Screenshots go to artifacts/accounts/.
"""

from __future__ import annotations

import io
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import Workbook, load_workbook

from competitions.models import Skill
from scoring.models import Aspect, AspectKind, Mark, SkillMarking
from tests import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "accounts"
CIS = (
    Path(settings.BASE_DIR).parent
    / "shared"
    / "examples"
    / ("worldskills-cis-marking-scheme-web-technologies.xlsx")
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "locale": "zh-CN"}
PASSWORD = "Qz8-mortar-and-bricks"
EVENT = "final-2026"
ENTRIES = [("101", "NJ", "张强"), ("102", "SZ", "李娜"), ("103", "WX", "王磊")]
JUDGES = [
    ("DJ01", "韩凯宁", "JD1", "chief"),
    ("DJ02", "周文", "JD1", "judge"),
    ("DJ03", "吴敏", "JD2", "judge"),
    ("DJ04", "郑华", "JD3", "judge"),
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Debian chromium is not installed at {CHROMIUM}"
    ),
    pytest.mark.skipif(not CIS.exists(), reason=f"the CIS example is not at {CIS}"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def shot(page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def workbook(sheets: dict[str, list[list]], path: Path) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def import_workbook(page, base: str, path: Path) -> None:
    page.goto(f"{base}/")
    page.get_by_role("link", name="赛事工作簿").first.click()
    page.fill("#id_event", EVENT)
    page.set_input_files("#id_file", str(path))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    errors = page.locator("section.report.errors")
    assert errors.count() == 0, errors.inner_text()


def select2(page, field: str, term: str) -> None:
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill("input.select2-search__field", term)
    page.locator(".select2-results__option", has_text=term).first.click()
    assert term in page.locator(f"#select2-id_{field}-container").inner_text()


def set_password(browser, link: str):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(link)
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")
    return context, page


def ready_cell(page, key: str):
    return page.locator(f'#ready-S17 td[data-check="{key}"]')


@pytest.mark.django_db(transaction=True)
def test_new_organiser_runs_an_event_alone_in_the_browser(live_server, browser, tmp_path):
    base = live_server.url
    f.organiser(username="zhangsan", password=PASSWORD)
    dialogs: list[str] = []

    org_ctx = browser.new_context(**DESKTOP)
    org_ctx.set_default_timeout(20000)
    page = org_ctx.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.goto(f"{base}/")
    page.locator("main a[href^='/accounts/login/'], main a[href^='/login/']").first.click()
    page.fill("#id_username", "zhangsan")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    # 1. Delegations, the skill and its judges from the event workbook.
    delegations = [["code", "name"], ["NJ", "南京市"], ["SZ", "苏州市"], ["WX", "无锡市"]]
    delegations += [["JD1", "省裁判一组"], ["JD2", "省裁判二组"], ["JD3", "省裁判三组"]]
    skills = [
        ["code", "name", "team_size", "award_policy", "judgement_aggregation"],
        ["S17", "网站技术", 1, "national", "mean"],
    ]
    judges = [["code", "name", "delegation_code", "skill_code", "role"]]
    judges += [[c, n, d, "S17", r] for c, n, d, r in JUDGES]
    import_workbook(
        page,
        base,
        workbook(
            {"delegations": delegations, "skills": skills, "judges": judges},
            tmp_path / "setup.xlsx",
        ),
    )
    skill = Skill.objects.get(event__code=EVENT, code="S17")

    # 2. Quotas in the configuration, then the entries.
    page.goto(f"{base}/admin/teams/quota/add/")
    for code in ("NJ", "SZ", "WX"):
        select2(page, "skill", "S17")
        select2(page, "delegation", code)
        page.fill("#id_max_entries", "1")
        page.locator("input[name=_addanother]").click()
        page.wait_for_load_state()
        assert page.locator(".messagelist .success").count() == 1, page.locator(
            ".errorlist, .errornote"
        ).all_inner_texts()
    entries = [["skill_code", "competitor_no", "delegation_code", "name", "gender", "birth_date"]]
    entries += [["S17", no, d, name, "", ""] for no, d, name in ENTRIES]
    import_workbook(page, base, workbook({"entries": entries}, tmp_path / "entries.xlsx"))

    # 3. The dashboard's checklist: nothing is ready yet.
    page.goto(f"{base}/")
    page.get_by_role("link", name="赛事总览").first.click()
    page.locator(f"a[href='/organiser/events/{EVENT}/']").first.click()
    assert page.locator("#ready-S17").get_attribute("data-ready") == "no"
    for key in ("scheme", "chief", "pins"):
        assert ready_cell(page, key).get_attribute("data-ok") == "no", key
    shot(page, "01-dashboard-not-ready-1366")

    # 4. Accounts: a lead for Nanjing, the chief judge through the checklist.
    page.get_by_role("link", name="账号管理").first.click()
    page.get_by_role("link", name="新建账号").click()
    page.fill("#id_username", "nj-lead")
    page.fill("#id_name", "陈领队")
    page.select_option("#id_role", "lead")
    page.select_option("#id_delegation", label="NJ 南京市")
    page.locator("main form button[type=submit]").click()
    lead_link = page.locator(".welcome-link").get_attribute("href")
    shot(page, "02-credentials-sheet-1366")
    page.goto(f"{base}/organiser/events/{EVENT}/")
    ready_cell(page, "chief").get_by_role("link").click()
    assert page.locator("#id_role").input_value() == "chief"
    assert "S17 网站技术" in page.locator("#id_skill option:checked").inner_text()
    assert "DJ01 韩凯宁" in page.locator("#id_judge option:checked").inner_text()
    page.fill("#id_username", "chief-s17")
    page.fill("#id_name", "韩凯宁")
    page.locator("main form button[type=submit]").click()
    chief_link = page.locator(".welcome-link").get_attribute("href")
    page.goto(f"{base}/accounts/")
    shot(page, "03-accounts-1366")

    lead_ctx, lead = set_password(browser, lead_link)
    chief_ctx, chief = set_password(browser, chief_link)

    # 5. The CIS marking scheme, reached by links from the checklist.
    page.goto(f"{base}/organiser/events/{EVENT}/")
    ready_cell(page, "scheme").get_by_role("link").click()
    page.wait_for_url(f"**/scoring/skills/{skill.pk}/scheme/")
    page.set_input_files("input[type=file]", str(CIS))
    page.locator("main form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    aspects = list(Aspect.objects.filter(skill=skill).order_by("order", "code"))
    assert len(aspects) > 100
    assert sum(a.max_mark for a in aspects) == Decimal("100")

    # 6. PINs from the chief judge's board, reached from the checklist.
    page.goto(f"{base}/organiser/events/{EVENT}/")
    ready_cell(page, "pins").get_by_role("link").click()
    board = page.url
    pins: dict[str, str] = {}
    for code, *_rest in JUDGES:
        row = page.locator("#judges tr", has_text=code)
        row.locator("form[action*='/pin/'] button").click()
        pins[code] = page.locator("#pin").inner_text().strip()
        page.goto(board)
    page.goto(f"{base}/organiser/events/{EVENT}/")
    assert page.locator("#ready-S17").get_attribute("data-ready") == "yes", page.locator(
        "#ready-S17"
    ).inner_text()
    shot(page, "04-dashboard-ready-1366")

    # 7. A judge marks on the tablet: entry 101, two aspects.
    m_aspect = next(a for a in aspects if a.kind == AspectKind.MEASUREMENT)
    j_aspect = next(a for a in aspects if a.kind == AspectKind.JUDGEMENT)
    tablet_ctx = browser.new_context(**TABLET)
    tablet = tablet_ctx.new_page()
    tablet.goto(f"{base}/tablet/login/")
    tablet.fill("#code", "DJ02")
    tablet.fill("#pin", pins["DJ02"])
    tablet.locator("#signin").tap()
    tablet.wait_for_url(f"{base}/tablet/{skill.pk}/")
    tablet.goto(f"{base}/tablet/{skill.pk}/101/")
    tablet.locator(f'.aspect[data-aspect="{j_aspect.pk}"] button[data-v="2"]').tap()
    m_box = tablet.locator(f'.aspect[data-aspect="{m_aspect.pk}"]')
    if m_box.locator("input").count():
        m_box.locator("input").fill(f"{m_aspect.max_mark:f}")
        m_box.locator("input").press("Enter")
    else:
        m_box.locator("button").last.tap()
    for a in (j_aspect, m_aspect):
        tablet.wait_for_function(
            'id => document.querySelector(`.aspect[data-aspect="${id}"]`).dataset.state'
            " === 'saved'",
            arg=a.pk,
        )
    tablet_ctx.close()
    assert Mark.objects.filter(entry__competitor_no="101", judge__code="DJ02").count() == 2

    # 8. The other marks from paper forms, in the event workbook's marks sheet.
    marks = [["skill_code", "competitor_no", "aspect_code", "judge_code", "score"]]
    for no, _d, _n in ENTRIES:
        for a in aspects:
            if a.kind == AspectKind.MEASUREMENT:
                if (no, a.pk) != ("101", m_aspect.pk):
                    marks.append(["S17", no, a.code, "DJ03", f"{a.max_mark:f}"])
                continue
            for judge in ("DJ02", "DJ03", "DJ04"):
                if (no, a.pk, judge) != ("101", j_aspect.pk, "DJ02"):
                    marks.append(["S17", no, a.code, judge, 2])
    import_workbook(page, base, workbook({"marks": marks}, tmp_path / "marks.xlsx"))

    # 9. The chief judge signs off, from their own home page by links.
    chief.locator("header nav a[href='/tablet/board/']").click()
    chief.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    chief.locator(f"a[href='/scoring/skills/{skill.pk}/sign-off/']").first.click()
    shot(chief, "05-chief-sign-off-1366")
    chief.locator("form:has(input[value=sign_off]) button[type=submit]").click()
    chief.wait_for_load_state()
    assert SkillMarking.objects.get(skill=skill).is_signed_off
    assert chief.locator(".signoff-status .tag.ok").count() == 1

    # 10. The organiser publishes.
    page.goto(f"{base}/")
    page.get_by_role("link", name="成绩发布").first.click()
    page.locator(f"a[href*='/publication/{EVENT}/']").first.click()
    page.locator(f"form:has(input[value='{skill.pk}']) button.primary").first.click()
    page.locator("form.confirm-box button.primary").click()  # publishing asks first
    page.wait_for_load_state()
    page.goto(f"{base}/organiser/events/{EVENT}/")
    assert page.locator("#skill-S17").get_attribute("data-stage") == "published"

    # 11. The lead downloads the delegation's results.
    lead.get_by_role("link", name="成绩与下载").first.click()
    with lead.expect_download() as download:
        lead.locator("#download-own").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = [[str(c) for c in row if c is not None] for ws in book.worksheets for row in ws.values]
    # Every entry has full M marks and 2 of 3 from every judge on every J
    # aspect: the M total + 2/3 of the J total, to two places.
    m_total = sum(a.max_mark for a in aspects if a.kind == AspectKind.MEASUREMENT)
    j_total = sum(a.max_mark for a in aspects if a.kind == AspectKind.JUDGEMENT)
    expected = (m_total + j_total * 2 / Decimal(3)).quantize(Decimal("0.01"))
    ours = [r for r in rows if "101" in r]
    assert ours, rows[:10]
    numbers = [Decimal(c) for c in ours[0] if re.fullmatch(r"\d+(\.\d+)?", c)]
    assert expected in numbers, (ours[0], expected)
    assert not any("102" in r for r in rows)  # another delegation's entry
    lead_ctx.close()
    chief_ctx.close()
    org_ctx.close()
