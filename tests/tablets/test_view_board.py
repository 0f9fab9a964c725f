"""The chief judge's board: access, live grid, re-mark, PINs, QR sheet,
tablet sessions, sign-off."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from scoring import services as scoring
from scoring.models import SkillMarking
from tablets import pin_hashing, services
from tablets.models import JudgeCredential, JudgeLink, RemarkRequest, TabletSession
from tests import factories as f

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def board_url(world, rest: str = "") -> str:
    return f"/tablet/board/{world.skill.pk}/{rest}"


def test_chief_and_organiser_may_open_the_board_others_not(world):
    assert as_user(world.chief.user).get(board_url(world)).status_code == 200
    assert as_user(world.organiser).get(board_url(world)).status_code == 200
    assert as_user(world.jb.user).get(board_url(world)).status_code == 403
    other_chief = f.judge(f.skill(), role="chief")
    assert as_user(other_chief.user).get(board_url(world)).status_code == 403
    anonymous = Client().get(board_url(world))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    # A tablet cookie is no way in.
    client, _ = __import__("tests.tablets.conftest", fromlist=["x"]).tablet_client(world.jb)
    assert client.get(board_url(world)).status_code == 302


def test_board_index_lists_managed_skills(world):
    page = as_user(world.chief.user).get("/tablet/board/").content.decode()
    assert "W07" in page


def test_grid_shows_progress_and_recusal(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    for code, value in (("J1", "2"), ("J2", "3"), ("J3", "1")):
        post_mark(client, world.entries["101"], world.aspect(code), value, f"k-{code}", ev=0)
    post_mark(client, world.entries["101"], world.aspect("M1"), "1", "k-m1", ev=0)
    grid = as_user(world.chief.user).get(board_url(world, "grid/")).content.decode()
    row = grid[grid.index(">101<") :]
    row = row[: row.index("</tr>")]
    # Columns: measurement, re-mark, then JA01 (recused for 101), JB02, JC03.
    cells = re.findall(r"<td class=\"num ([a-z]+)\"[^>]*>(.*?)</td>", row)
    assert [c for c, _text in cells] == ["part", "na", "done", "none"]
    assert [t for c, t in cells if c != "na"] == ["1/2", "3/3", "0/3"]
    assert "不需评分" in cells[1][1] and "回避" not in row
    assert "已评" in grid


def test_discrepancy_listed_side_by_side_and_remark_reaches_the_tablets(world, tablet, post_mark):
    entry, aspect = world.entries["101"], world.aspect("J1")
    jb, _ = tablet(world.jb)
    jc, _ = tablet(world.jc)
    post_mark(jb, entry, aspect, "0", "k-b", ev=0)
    post_mark(jc, entry, aspect, "3", "k-c", ev=0)
    chief = as_user(world.chief.user)
    page = chief.get(board_url(world)).content.decode()
    section = page[page.index('id="discrepancies"') : page.index('id="signoff"')]
    assert re.search(r"JB02</span> <b>0</b>.*JC03</span> <b>3</b>", section, re.S)
    response = chief.post(
        board_url(world, "remark/"),
        {
            "entry": entry.pk,
            "aspect": aspect.pk,
            "judge": [world.jb.pk, world.jc.pk],
            "reason": "请再看灰缝",
        },
    )
    assert response.status_code == 302
    assert RemarkRequest.objects.filter(resolved_at__isnull=True).count() == 2
    poll = jc.get(f"/tablet/api/poll/{world.skill.pk}").json()
    assert poll["remarks"][0]["no"] == "101" and poll["remarks"][0]["reason"] == "请再看灰缝"
    # jc re-marks: only jc's request is resolved.
    post_mark(jc, entry, aspect, "1", "k-c2", ev=1)
    open_ = RemarkRequest.objects.filter(resolved_at__isnull=True)
    assert [r.judge for r in open_] == [world.jb]


def test_acknowledge_then_sign_off_and_reopen(world, tablet, post_mark):
    jb, _ = tablet(world.jb)
    jc, _ = tablet(world.jc)
    ja, _ = tablet(world.ja)
    chief_tablet, _ = tablet(world.chief)
    for no in ("101", "102", "103", "104"):
        entry = world.entries[no]
        for client, judge in ((ja, world.ja), (jb, world.jb), (jc, world.jc)):
            if judge.delegation_id == entry.delegation_id:
                continue
            for code in ("J1", "J2", "J3"):
                value = "0" if (no, code, judge.code) == ("102", "J1", "JC03") else "3"
                post_mark(client, entry, world.aspect(code), value, f"{no}{code}{judge.code}")
        post_mark(chief_tablet, entry, world.aspect("M1"), "1", f"{no}M1")
        post_mark(chief_tablet, entry, world.aspect("M2"), "9", f"{no}M2")
    chief = as_user(world.chief.user)
    page = chief.get(board_url(world)).content.decode()
    assert "未确认分差：1" in page
    chief.post(
        board_url(world, "acknowledge/"),
        {"entry": world.entries["102"].pk, "aspect": world.aspect("J1").pk},
    )
    assert scoring.marking_status(world.skill).can_sign_off
    # Sign-off asks first: a POST without the confirmation only shows the question.
    asked = chief.post(board_url(world, "sign-off/"))
    assert asked.status_code == 200 and "确认签核" in asked.content.decode()
    assert not scoring.names_revealed(world.skill)
    chief.post(board_url(world, "sign-off/"), {"confirm": "yes"})
    assert scoring.names_revealed(world.skill)
    locked = post_mark(jb, world.entries["101"], world.aspect("J1"), "2", "after")
    assert locked.status_code == 409 and locked.json()["code"] == "locked"
    assert chief.post(board_url(world, "reopen/"), {"reason": ""}).status_code == 302
    assert scoring.names_revealed(world.skill)  # a reason is required
    chief.post(board_url(world, "reopen/"), {"reason": "申诉复核"})
    assert SkillMarking.objects.get(skill=world.skill).status == "open"


def test_sign_off_refused_while_incomplete(world):
    chief = as_user(world.chief.user)
    response = chief.post(board_url(world, "sign-off/"), {"confirm": "yes"}, follow=True)
    assert not scoring.names_revealed(world.skill)
    assert "暂不能签核" in response.content.decode()


def test_new_pin_is_shown_once_stored_hashed_and_works(world):
    chief = as_user(world.chief.user)
    response = chief.post(board_url(world, f"judges/{world.jc.pk}/pin/"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    pin = re.search(r'<p class="pin" id="pin">(\d{6})</p>', response.content.decode()).group(1)
    credential = JudgeCredential.objects.get(judge=world.jc)
    assert pin not in credential.pin_hash and pin_hashing.pin_matches(pin, credential.pin_hash)
    assert pin not in chief.get(board_url(world)).content.decode()
    tablet_login = Client().post("/tablet/login/", {"code": "JC03", "pin": pin})
    assert tablet_login.status_code == 302
    assert Client().post("/tablet/login/", {"code": "JC03", "pin": "246813"}).status_code == 200


def test_pin_of_a_judge_of_another_skill_is_refused(world):
    stranger = f.judge(f.skill())
    chief = as_user(world.chief.user)
    assert chief.post(board_url(world, f"judges/{stranger.pk}/pin/")).status_code == 404


def test_qr_sheet_makes_working_links(world):
    chief = as_user(world.chief.user)
    assert "生成登录单" in chief.get(board_url(world, "qr/")).content.decode()
    response = chief.post(board_url(world, "qr/"))
    page = response.content.decode()
    assert page.count("<svg") == 4  # ja, jb, jc and the chief
    assert "JC03" in page
    assert JudgeLink.objects.filter(revoked_at__isnull=True).count() == 4
    assert "no-store" in response["Cache-Control"]
    # The tokens are only in the QR images, not in the page text.
    assert "/tablet/link/" not in page


def test_revoke_a_tablet_session_from_the_board(world, tablet):
    client, session = tablet(world.jb)
    chief = as_user(world.chief.user)
    page = chief.get(board_url(world)).content.decode()
    assert f"sessions/{session.pk}/revoke/" in page
    chief.post(board_url(world, f"sessions/{session.pk}/revoke/"))
    session.refresh_from_db()
    assert session.revoked_at is not None and session.revoked_by == world.chief.user
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 302
    assert not services.live_sessions(world.skill)


def test_revoke_qr_from_the_board(world):
    [(_, token)] = services.create_links([world.jb], by_user=world.organiser)
    tab = Client()
    tab.get(f"/tablet/link/{token}/")
    as_user(world.chief.user).post(board_url(world, f"judges/{world.jb.pk}/revoke-links/"))
    assert Client().get(f"/tablet/link/{token}/").status_code == 404
    assert TabletSession.objects.get().revoked_at is not None
