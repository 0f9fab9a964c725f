"""Open re-mark requests hold up a sign-off wherever it happens: tablets
answer scoring's ``collect_sign_off_warnings``, so scoring's own sign-off page
(and its service) asks for the same explicit confirmation as the board."""

from __future__ import annotations

import pytest
from django.test import Client

from scoring import refusals, signoff, status
from scoring.models import LedgerRecord
from tablets import services
from tablets.models import RemarkRequest

from .test_board_actions import mark_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(world):
    """Every mark in, every discrepancy acknowledged: only a re-mark is open."""
    mark_all(world)
    for d in status.marking_status(world.skill).discrepancies:
        signoff.acknowledge_discrepancy(
            world.entries[d.competitor_no], world.aspect(d.aspect_code), world.chief.user
        )
    assert status.marking_status(world.skill).can_sign_off
    return world


def remark(world) -> None:
    services.request_remark(
        world.entries["101"], world.aspect("J1"), [world.jc], world.chief.user, "再看一次"
    )


def page_url(world) -> str:
    return f"/scoring/skills/{world.skill.pk}/sign-off/"


def chief(world) -> Client:
    client = Client()
    client.force_login(world.chief.user)
    return client


def test_scoring_page_shows_open_remarks_and_needs_the_tick(ready):
    remark(ready)
    client = chief(ready)
    page = client.get(page_url(ready)).content.decode()
    warnings = page[
        page.index('id="sign-off-warnings"') : page.index(
            "</div>", page.index('id="sign-off-warnings"')
        )
    ]
    assert "仍有 1 个重评请求未完成" in warnings
    assert "101 · J1 · " + ready.jc.code in warnings
    assert 'name="warnings_ok"' in warnings and "required" in warnings
    # The browser asks for the tick; a request without it is refused by the service.
    refused = client.post(page_url(ready), {"action": "sign_off"}, follow=True)
    assert not signoff.names_revealed(ready.skill)
    assert "请先确认" in refused.content.decode()
    assert not LedgerRecord.objects.filter(
        skill=ready.skill, action=LedgerRecord.Action.SIGN_OFF
    ).exists()
    client.post(page_url(ready), {"action": "sign_off", "warnings_ok": "yes"})
    assert signoff.names_revealed(ready.skill)
    # Signing off does not pretend the re-mark happened.
    assert RemarkRequest.objects.filter(resolved_at__isnull=True).count() == 1


def test_no_open_remark_no_question(ready):
    client = chief(ready)
    page = client.get(page_url(ready)).content.decode()
    assert 'id="sign-off-warnings"' not in page and 'name="warnings_ok"' not in page
    client.post(page_url(ready), {"action": "sign_off"})
    assert signoff.names_revealed(ready.skill)


def test_a_remark_raised_after_the_page_loaded_still_stops_the_sign_off(ready):
    client = chief(ready)
    assert 'name="warnings_ok"' not in client.get(page_url(ready)).content.decode()
    remark(ready)  # the board, meanwhile, in another tab
    client.post(page_url(ready), {"action": "sign_off"})
    assert not signoff.names_revealed(ready.skill)


def test_the_service_refuses_unconfirmed_and_says_why(ready):
    remark(ready)
    with pytest.raises(refusals.WarningsUnconfirmed) as refused:
        signoff.sign_off(ready.skill, ready.chief.user)
    assert refused.value.code == "warnings_unconfirmed"
    assert len(refused.value.warnings) == 1 and ready.jc.code in refused.value.warnings[0]
    assert not signoff.names_revealed(ready.skill)
    signoff.sign_off(ready.skill, ready.chief.user, warnings_confirmed=True)
    assert signoff.names_revealed(ready.skill)


def test_an_answered_remark_is_no_longer_a_warning(ready):
    remark(ready)
    assert signoff.sign_off_warnings(ready.skill)
    entry, aspect = ready.entries["101"], ready.aspect("J1")
    services.resolve_remarks(entry, aspect, ready.jc)
    assert signoff.sign_off_warnings(ready.skill) == []
    signoff.sign_off(ready.skill, ready.chief.user)
    assert signoff.names_revealed(ready.skill)


def test_board_and_page_ask_the_same_question(ready):
    """The board still needs its own tick; with it the service is satisfied."""
    remark(ready)
    client = chief(ready)
    board = f"/tablet/board/{ready.skill.pk}/sign-off/"
    client.post(board, {"confirm": "yes"})
    assert not signoff.names_revealed(ready.skill)
    client.post(board, {"confirm": "yes", "remarks_ok": "yes"})
    assert signoff.names_revealed(ready.skill)
