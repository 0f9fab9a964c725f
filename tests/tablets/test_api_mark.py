"""The mark endpoint: JSON in, the mark service's verdict out."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from scoring import marks
from scoring.models import LedgerRecord, Mark
from tablets import services
from tablets.auth import COOKIE
from tablets.models import RemarkRequest

pytestmark = pytest.mark.django_db


def test_a_tap_is_saved_with_device_and_address(world, tablet, post_mark):
    client, _session = tablet(world.jc)  # a judge without a Django user
    response = post_mark(client, world.entries["101"], world.aspect("J1"), "2", "k-1", ev=0)
    assert response.status_code == 200
    assert response.json() == {"status": "saved", "value": "2", "version": 1, "replayed": False}
    mark = Mark.objects.get()
    assert (mark.judge, mark.value, mark.version) == (world.jc, Decimal("2.00"), 1)
    record = LedgerRecord.objects.get()
    assert record.client_key == "k-1" and record.source == "tablet"
    assert record.device == "pytest" and record.ip_address == "127.0.0.1"
    assert record.actor is None


def test_actor_is_the_judges_user_when_there_is_one(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    post_mark(client, world.entries["101"], world.aspect("M1"), "0.5", "k-2")
    assert LedgerRecord.objects.get().actor == world.jb.user


def test_same_client_key_twice_writes_once(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    entry, aspect = world.entries["101"], world.aspect("J2")
    first = post_mark(client, entry, aspect, "3", "k-same", ev=0)
    again = post_mark(client, entry, aspect, "3", "k-same", ev=0)
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["version"] == 1
    assert Mark.objects.count() == 1
    assert LedgerRecord.objects.filter(client_key="k-same").count() == 1
    assert LedgerRecord.objects.count() == 1


def test_resend_after_a_later_tap_replays_the_first_outcome(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    entry, aspect = world.entries["101"], world.aspect("J2")
    post_mark(client, entry, aspect, "1", "k-a", ev=0)
    post_mark(client, entry, aspect, "2", "k-b", ev=1)
    late = post_mark(client, entry, aspect, "1", "k-a", ev=0)  # the first tap, resent late
    assert late.json() == {"status": "saved", "value": "1", "version": 1, "replayed": True}
    assert Mark.objects.get().value == Decimal("2.00")
    assert LedgerRecord.objects.count() == 2


def test_stale_version_answers_the_current_value(world, tablet, post_mark):
    entry, aspect = world.entries["101"], world.aspect("M2")
    other, _ = tablet(world.jb)
    post_mark(other, entry, aspect, "7.25", "k-other", ev=0)
    client, _ = tablet(world.jc)
    response = post_mark(client, entry, aspect, "8", "k-mine", ev=0)
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "refused" and body["code"] == "stale"
    assert body["current_value"] == "7.25" and body["current_version"] == 1
    assert "7.25" in body["message"]
    assert Mark.objects.get().value == Decimal("7.25")


def test_recused_entry_is_refused(world, tablet, post_mark):
    client, _ = tablet(world.ja)  # delegation A; entry 101 is delegation A's
    response = post_mark(client, world.entries["101"], world.aspect("J1"), "2", "k-r")
    assert response.status_code == 403
    assert response.json()["code"] == "own_delegation"
    assert "回避" in response.json()["message"]
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()


def test_locked_after_sign_off(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    marks.marking_state(world.skill)
    from scoring.models import SkillMarking

    SkillMarking.objects.filter(skill=world.skill).update(status=SkillMarking.Status.SIGNED_OFF)
    response = post_mark(client, world.entries["101"], world.aspect("J1"), "2", "k-l", ev=0)
    assert response.status_code == 409 and response.json()["code"] == "locked"
    assert "锁定" in response.json()["message"]
    assert not Mark.objects.exists()


@pytest.mark.parametrize(
    ("value", "code"),
    [("4", "out_of_range"), ("9.75", "out_of_range"), ("abc", "not_a_number"), (2.5, None)],
)
def test_bad_values_are_refused(world, tablet, post_mark, value, code):
    client, _ = tablet(world.jb)
    aspect = world.aspect("J1") if value == "4" else world.aspect("M2")
    response = post_mark(client, world.entries["101"], aspect, value, f"k-{value}")
    assert response.status_code == 422
    if code:
        assert response.json()["code"] == code
    assert not Mark.objects.exists()


def test_malformed_requests(world, tablet):
    client, _ = tablet(world.jb)
    bad = client.post("/tablet/api/mark", data="{nope", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
    missing = client.post(
        "/tablet/api/mark", data=json.dumps({"entry": 1}), content_type="application/json"
    )
    assert missing.status_code == 400
    unknown = client.post(
        "/tablet/api/mark",
        data=json.dumps({"entry": 0, "aspect": 0, "value": "1", "client_key": "x"}),
        content_type="application/json",
    )
    assert unknown.status_code == 404


def test_csrf_is_required(world):
    client = Client(enforce_csrf_checks=True)
    _, token = services.start_session(world.jb, via="pin")
    client.cookies[COOKIE] = token
    payload = json.dumps(
        {
            "client_key": "k-csrf",
            "entry": world.entries["101"].pk,
            "aspect": world.aspect("J1").pk,
            "value": "1",
            "expected_version": 0,
        }
    )
    refused = client.post("/tablet/api/mark", data=payload, content_type="application/json")
    assert refused.status_code == 403 and not Mark.objects.exists()
    page = client.get(f"/tablet/{world.skill.pk}/")  # sets the csrftoken cookie
    assert page.status_code == 200
    csrf = client.cookies["csrftoken"].value
    ok = client.post(
        "/tablet/api/mark", data=payload, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert ok.status_code == 200 and Mark.objects.count() == 1


def test_signed_out_tablet_gets_401(world, post_mark):
    response = post_mark(Client(), world.entries["101"], world.aspect("J1"), "1", "k-anon")
    assert response.status_code == 401 and response.json()["status"] == "signed_out"


def test_get_is_not_allowed(world, tablet):
    client, _ = tablet(world.jb)
    assert client.get("/tablet/api/mark").status_code == 405


def test_writing_the_mark_again_resolves_the_remark_request(world, tablet, post_mark):
    client, _ = tablet(world.jb)
    entry, aspect = world.entries["101"], world.aspect("J1")
    post_mark(client, entry, aspect, "3", "k-1", ev=0)
    [request] = services.request_remark(entry, aspect, [world.jb], world.organiser, "请复核")
    poll = client.get(f"/tablet/api/poll/{world.skill.pk}?entry={entry.pk}").json()
    assert poll["remarks"] == [
        {
            "no": "101",
            "entry": entry.pk,
            "aspect": aspect.pk,
            "aspect_code": "J1",
            "reason": "请复核",
        }
    ]
    assert poll["marks"][str(aspect.pk)] == ["3", 1]
    # The same value again still counts: the judge looked again.
    post_mark(client, entry, aspect, "3", "k-2", ev=1)
    request.refresh_from_db()
    assert request.resolved_at is not None
    poll = client.get(f"/tablet/api/poll/{world.skill.pk}").json()
    assert poll["remarks"] == [] and poll["locked"] is False
    assert not RemarkRequest.objects.filter(resolved_at__isnull=True).exists()


def test_poll_of_an_unassigned_skill_is_404(world, tablet):
    from tests import factories as f

    client, _ = tablet(world.jb)
    other = f.skill()
    assert client.get(f"/tablet/api/poll/{other.pk}").status_code == 404
