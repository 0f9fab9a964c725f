"""The chief judge's actions on a tablet: what blocks sign-off, by
competitor number and judge code; all shown discrepancies acknowledged in
one request with one note; a sign-off that asks first and, with re-mark
requests open, needs them confirmed too."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import pytest
from django.test import Client

from scoring import signoff
from scoring.models import DiscrepancyAcknowledgement, LedgerRecord
from scoring.status import marking_status
from tablets import services
from tablets.models import RemarkRequest

from .conftest import mark_json, tablet_client

pytestmark = pytest.mark.django_db

LOW = {("101", "J1", "JC03"), ("102", "J2", "JC03"), ("103", "J3", "JB02")}


def mark_all(world, skip: AbstractSet[tuple[str, str]] = frozenset()) -> None:
    """Every mark of every entry, 0 where LOW says (three discrepancies), except
    (competitor, judge code) pairs in ``skip``."""
    clients = {j.code: tablet_client(j)[0] for j in (world.ja, world.jb, world.jc, world.chief)}
    for no, entry in world.entries.items():
        for judge in (world.ja, world.jb, world.jc):
            if judge.delegation_id == entry.delegation_id or (no, judge.code) in skip:
                continue
            for code in ("J1", "J2", "J3"):
                value = "0" if (no, code, judge.code) in LOW else "3"
                key = f"{no}{code}{judge.code}"
                mark_json(clients[judge.code], entry, world.aspect(code), value, key)
        if (no, "M") not in skip:
            mark_json(clients["CJ09"], entry, world.aspect("M1"), "1", f"{no}M1")
            mark_json(clients["CJ09"], entry, world.aspect("M2"), "9", f"{no}M2")


def chief(world) -> Client:
    client = Client()
    client.force_login(world.chief.user)
    return client


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_the_board_lists_exactly_what_blocks_sign_off(world):
    mark_all(world, skip={("103", "JB02"), ("104", "M"), ("104", "JC03")})
    page = chief(world).get(f"/tablet/board/{world.skill.pk}/").content.decode()
    blockers = section(page, 'id="blockers"', "</section>")
    rows = {
        no: blockers[blockers.index(f">{no}</td>") :].split("</tr>")[0]
        for no in ("101", "102", "103", "104")
        if f">{no}</td>" in blockers
    }
    # 101 and 102 carry an unacknowledged discrepancy; 103 waits for JB02; 104
    # for its measurement marks and JC03.
    assert set(rows) == {"101", "102", "104", "103"}
    assert "JB02</b>: J1, J2, J3" in rows["103"] and "JC03" not in rows["103"]
    assert "M1, M2" in rows["104"] and "JC03</b>: J1, J2, J3" in rows["104"]
    assert "J1" in rows["101"] and "分差未确认" in rows["101"]
    judges = section(page, 'class="judge-blockers"', "</ul>")
    assert "JB02</b>: 3 项评分 · 选手 103" in judges
    assert "JC03</b>: 3 项评分 · 选手 104" in judges
    assert "JA01" not in judges
    # Sign-off is not offered; the confirmation page says why.
    assert 'id="sign-off"' not in page
    confirm = chief(world).get(f"/tablet/board/{world.skill.pk}/sign-off/").content.decode()
    assert "该项目暂不能签核" in confirm and "JB02" in confirm


def test_acknowledge_all_shown_in_one_request_with_one_note(world):
    mark_all(world)
    status = marking_status(world.skill)
    assert len(status.unacknowledged) == 3
    client = chief(world)
    page = client.get(f"/tablet/board/{world.skill.pk}/").content.decode()
    form = section(page, 'id="ack-all"', "</form>")
    pairs = [v for v in form.split('name="pair" value="')[1:]]
    assert len(pairs) == 3
    url = f"/tablet/board/{world.skill.pk}/acknowledge-all/"
    shown = [p.split('"')[0] for p in pairs]
    # No note: refused, nothing acknowledged.
    refused = client.post(url, {"pair": shown, "note": " "}, follow=True).content.decode()
    assert "请填写备注" in refused and not DiscrepancyAcknowledgement.objects.exists()
    before = LedgerRecord.objects.filter(action="acknowledge").count()
    # A pair that is no discrepancy is skipped; one that is not a pair is ignored.
    other = f"{world.entries['104'].pk}:{world.aspect('J1').pk}"
    note = "与裁判组核对，分数成立"
    done = client.post(url, {"pair": [*shown, other, "x:y"], "note": note}, follow=True)
    assert "已确认 3 项评分差异" in done.content.decode()
    assert "1 项已跳过" in done.content.decode()
    acks = DiscrepancyAcknowledgement.objects.all()
    assert acks.count() == 3 and {a.note for a in acks} == {note}
    assert LedgerRecord.objects.filter(action="acknowledge").count() == before + 3
    assert marking_status(world.skill).can_sign_off


def test_acknowledge_all_leaves_a_discrepancy_that_was_not_shown(world):
    mark_all(world)
    shown = [f"{d.entry_id}:{d.aspect_id}" for d in marking_status(world.skill).discrepancies][:2]
    chief(world).post(
        f"/tablet/board/{world.skill.pk}/acknowledge-all/", {"pair": shown, "note": "看过"}
    )
    assert len(marking_status(world.skill).unacknowledged) == 1


def test_sign_off_asks_first_and_open_remarks_need_their_own_confirmation(world):
    mark_all(world)
    for d in marking_status(world.skill).discrepancies:
        signoff.acknowledge_discrepancy(
            world.entries[d.competitor_no], world.aspect(d.aspect_code), world.chief.user
        )
    services.request_remark(
        world.entries["101"], world.aspect("J1"), [world.jc], world.chief.user, "再看一次"
    )
    client = chief(world)
    url = f"/tablet/board/{world.skill.pk}/sign-off/"
    page = client.get(f"/tablet/board/{world.skill.pk}/").content.decode()
    assert f'href="{url}"' in page  # a link to the question, not a form that signs off
    question = client.get(url).content.decode()
    assert "仍有 1 个重评请求未完成" in question and 'name="remarks_ok"' in question
    # Without the confirmation, or without confirming the open request: not signed off.
    client.post(url)
    assert not signoff.names_revealed(world.skill)
    refused = client.post(url, {"confirm": "yes"}).content.decode()
    assert not signoff.names_revealed(world.skill)
    assert "仍有重评请求未完成" in refused
    client.post(url, {"confirm": "yes", "remarks_ok": "yes"})
    assert signoff.names_revealed(world.skill)
    assert RemarkRequest.objects.filter(resolved_at__isnull=True).count() == 1


def test_sign_off_without_open_remarks_needs_only_the_confirmation(world):
    mark_all(world)
    for d in marking_status(world.skill).discrepancies:
        signoff.acknowledge_discrepancy(
            world.entries[d.competitor_no], world.aspect(d.aspect_code), world.chief.user
        )
    client = chief(world)
    url = f"/tablet/board/{world.skill.pk}/sign-off/"
    assert 'name="remarks_ok"' not in client.get(url).content.decode()
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302 and signoff.names_revealed(world.skill)
