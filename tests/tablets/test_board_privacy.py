"""Before sign-off the chief judge's board tells no delegation: a recused
cell looks like a cell outside a marking group, and judges appear by code.
Every board page and answer is fetched as the chief and searched for every
delegation code and name, athlete name and judge name."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from scoring.models import MarkingGroup, SkillMarking
from tablets import services

from .conftest import mark_json, tablet_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def grouped(world):
    """JC03 (delegation C) marks only 101–103 by its marking group: 103 is its
    own delegation (recused), 104 is outside its group."""
    group = MarkingGroup.objects.create(skill=world.skill, name="第一组")
    group.judges.add(world.jc)
    group.entries.add(*(world.entries[no] for no in ("101", "102", "103")))
    return world


def judge_names(world) -> list[str]:
    return [j.name for j in (world.ja, world.jb, world.jc, world.chief)]


def fetch_board(world) -> dict[str, str]:
    chief = Client()
    chief.force_login(world.chief.user)
    base = f"/tablet/board/{world.skill.pk}/"
    entry, aspect = world.entries["102"], world.aspect("J1")
    seen: dict[str, str] = {}

    def keep(label: str, response) -> None:
        assert response.status_code < 500, label
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        seen[label] = headers + "\n" + response.content.decode()

    # Some marks, a discrepancy, a re-mark request and a locked PIN code.
    ja, _ = tablet_client(world.ja)
    jc, _ = tablet_client(world.jc)
    mark_json(ja, entry, aspect, "0", "p1")
    mark_json(jc, entry, aspect, "3", "p2")
    for _i in range(services.PIN_FAILURE_LIMIT):
        services.check_pin(world.jb.code, "000000", "10.9.9.9")
    keep("index", chief.get("/tablet/board/"))
    keep("board", chief.get(base))
    keep("grid", chief.get(base + "grid/"))
    keep("qr intro", chief.get(base + "qr/"))
    keep("qr sheet", chief.post(base + "qr/"))
    keep("pin", chief.post(base + f"judges/{world.ja.pk}/pin/"))
    keep("sign-off page", chief.get(base + "sign-off/"))
    keep("sign-off refused", chief.post(base + "sign-off/", {"confirm": "yes"}, follow=True))
    keep(
        "remark",
        chief.post(
            base + "remark/",
            {"entry": entry.pk, "aspect": aspect.pk, "judge": [world.ja.pk, world.jc.pk]},
            follow=True,
        ),
    )
    keep(
        "acknowledge all",
        chief.post(
            base + "acknowledge-all/",
            {"pair": f"{entry.pk}:{aspect.pk}", "note": "看过"},
            follow=True,
        ),
    )
    keep(
        "acknowledge one",
        chief.post(base + "acknowledge/", {"entry": entry.pk, "aspect": aspect.pk}, follow=True),
    )
    keep("reopen refused", chief.post(base + "reopen/", {"reason": "试"}, follow=True))
    _session, _token = services.start_session(world.jc, via="pin", device="平板 2")
    keep("revoke session", chief.post(base + f"sessions/{_session.pk}/revoke/", follow=True))
    keep("unlock", chief.post(base + f"judges/{world.jb.pk}/unlock/", follow=True))
    keep("revoke qr", chief.post(base + f"judges/{world.jc.pk}/revoke-links/", follow=True))
    return seen


def test_the_board_names_no_delegation_athlete_or_judge_before_sign_off(grouped):
    world = grouped
    seen = fetch_board(world)
    secrets = [*world.secrets, *judge_names(world)]
    leaks = [(label, s) for label, text in seen.items() for s in secrets if s in text]
    assert leaks == []
    # The fetches did show what they were meant to.
    assert "JC03" in seen["board"] and "pin-locks" in seen["board"]
    assert "<svg" in seen["qr sheet"] and re.search(r'id="pin">\d{6}<', seen["pin"])
    assert "已确认 1 项评分差异" in seen["acknowledge all"]


def cell(grid: str, no: str, column: int) -> str:
    row = grid[grid.index(f">{no}</th>") :]
    row = row[: row.index("</tr>")]
    return re.findall(r"<td[^>]*>.*?</td>", row)[column]


def test_recused_and_outside_group_cells_look_the_same(grouped):
    world = grouped
    chief = Client()
    chief.force_login(world.chief.user)
    grid = chief.get(f"/tablet/board/{world.skill.pk}/grid/").content.decode()
    # Columns after measurement and re-mark: JA01, JB02, JC03.
    ja, jc = 2, 4
    recused_ja = cell(grid, "101", ja)  # JA01 is of 101's delegation
    recused_jc = cell(grid, "103", jc)  # JC03 is of 103's delegation
    outside = cell(grid, "104", jc)  # 104 is outside JC03's group
    assert recused_ja == recused_jc == outside
    assert "不需评分" in outside
    # A cell the judge is expected to score shows the count.
    assert re.search(r">0/3<", cell(grid, "102", jc))
    board = chief.get(f"/tablet/board/{world.skill.pk}/").content.decode()
    assert "回避" not in board.replace("回避与评分分组显示相同", "")


def test_names_appear_on_the_board_after_sign_off(world):
    SkillMarking.objects.create(skill=world.skill, status=SkillMarking.Status.SIGNED_OFF)
    chief = Client()
    chief.force_login(world.chief.user)
    board = chief.get(f"/tablet/board/{world.skill.pk}/").content.decode()
    assert world.jb.name in board
