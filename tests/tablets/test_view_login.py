"""Getting in: code + PIN, throttling, QR links, session lifetime and revocation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tablets import services
from tablets.auth import COOKIE
from tablets.models import JudgeLink, PinFailure, TabletSession

from .conftest import PIN

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def login(client: Client, code: str, pin: str, ip: str = "10.0.0.7"):
    return client.post(
        "/tablet/login/",
        {"code": code, "pin": pin, "device": "平板 3"},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT="Mozilla/5.0 (iPad)",
    )


def test_login_page_renders_in_chinese(client):
    response = client.get("/tablet/login/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "裁判登录" in text and "裁判编号" in text


def test_pin_login_opens_a_tablet_session(world):
    client = Client()
    response = login(client, "ja01", PIN)  # codes are case-insensitive
    assert response.status_code == 302 and response["Location"] == "/tablet/"
    session = TabletSession.objects.get()
    assert session.judge == world.ja and session.via == "pin"
    assert session.device == "平板 3" and session.user_agent == "Mozilla/5.0 (iPad)"
    assert session.ip_address == "10.0.0.7"
    cookie = client.cookies[COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/tablet/"
    assert session.key_hash == services.token_hash(cookie.value)  # only the hash is stored
    # One skill: the home page goes straight to it.
    assert client.get("/tablet/")["Location"] == f"/tablet/{world.skill.pk}/"
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 200


def test_wrong_pin_is_refused_and_counted(world):
    client = Client()
    response = login(client, "JA01", "000000")
    assert response.status_code == 200
    assert "裁判编号或密码错误" in response.content.decode()
    assert COOKIE not in client.cookies
    assert PinFailure.objects.filter(judge_code="JA01").count() == 1


def test_five_failures_lock_the_code_and_address_for_15_minutes(world):
    client = Client()
    for _ in range(5):
        assert login(client, "JA01", "111111").status_code == 200
    locked = login(client, "JA01", PIN)  # even the right PIN is not checked now
    assert locked.status_code == 429
    assert "15" in locked.content.decode()
    assert not TabletSession.objects.exists()
    # Another address is not locked out by these failures.
    assert login(Client(), "JA01", PIN, ip="10.0.0.99").status_code == 302
    # Fifteen minutes after the last failure the pair may try again.
    later = timezone.now() + dt.timedelta(minutes=15, seconds=5)
    assert services.check_pin("JA01", PIN, "10.0.0.7", now=later) == world.ja


def test_success_clears_the_failures(world):
    client = Client()
    for _ in range(4):
        login(client, "JA01", "111111")
    assert login(client, "JA01", PIN).status_code == 302
    assert not PinFailure.objects.filter(judge_code="JA01", ip_address="10.0.0.7").exists()


def test_a_code_attacked_from_many_addresses_locks(world):
    now = timezone.now()
    for i in range(services.PIN_CODE_FAILURE_LIMIT):
        services.check_pin("JB02", "999999", f"10.1.0.{i}", now=now)
    with pytest.raises(services.PinThrottled):
        services.check_pin("JB02", PIN, "10.2.0.1", now=now)


def test_unknown_code_fails_like_a_wrong_pin(world):
    response = login(Client(), "NOBODY", PIN)
    assert "裁判编号或密码错误" in response.content.decode()


def test_qr_link_signs_in_and_revoking_it_signs_out(world):
    [(_judge, token)] = services.create_links([world.jc], by_user=world.organiser)
    client = Client()
    response = client.get(f"/tablet/link/{token}/")
    assert response.status_code == 302 and response["Location"] == "/tablet/"
    session = TabletSession.objects.get()
    assert session.judge == world.jc and session.via == "link"
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 200
    services.revoke_links(world.jc)
    # The tablet that used the link is out at once, and the link is dead.
    response = client.get(f"/tablet/{world.skill.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/tablet/login/")
    assert Client().get(f"/tablet/link/{token}/").status_code == 404


def test_a_new_sheet_replaces_old_links_but_keeps_tablets_signed_in(world):
    [(_, old)] = services.create_links([world.jb], by_user=world.organiser)
    client = Client()
    client.get(f"/tablet/link/{old}/")
    [(_, new)] = services.create_links([world.jb], by_user=world.organiser)
    assert Client().get(f"/tablet/link/{old}/").status_code == 404
    assert Client().get(f"/tablet/link/{new}/").status_code == 302
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 200
    assert JudgeLink.objects.filter(judge=world.jb, revoked_at__isnull=True).count() == 1


def test_unknown_link_is_refused(world):
    response = Client().get("/tablet/link/not-a-token/")
    assert response.status_code == 404
    assert not TabletSession.objects.exists()


def test_revoked_session_is_refused_at_the_next_request(world, tablet, post_mark):
    client, session = tablet(world.jb)
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 200
    services.end_session(session, by_user=world.organiser)
    page = client.get(f"/tablet/{world.skill.pk}/")
    assert page.status_code == 302 and "/tablet/login/" in page["Location"]
    api = post_mark(client, world.entries["102"], world.aspect("J1"), "2", "k-revoked")
    assert api.status_code == 401 and api.json()["status"] == "signed_out"


def test_session_lasts_until_the_end_of_the_competition_day(settings):
    settings.TABLET_SESSION_HOURS = 14
    morning = dt.datetime(2026, 5, 17, 7, 30, tzinfo=SHANGHAI)
    assert services.session_expiry(morning) == morning + dt.timedelta(hours=14)
    evening = dt.datetime(2026, 5, 17, 19, 0, tzinfo=SHANGHAI)
    assert services.session_expiry(evening) == dt.datetime(2026, 5, 18, 0, 0, tzinfo=SHANGHAI)
    settings.TABLET_SESSION_HOURS = 2
    assert services.session_expiry(morning) == morning + dt.timedelta(hours=2)


def test_expired_session_is_refused(world, tablet):
    client, session = tablet(world.jb)
    TabletSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 302


def test_logout_ends_the_session(world, tablet):
    client, session = tablet(world.jb)
    response = client.post("/tablet/logout/")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert client.get(f"/tablet/{world.skill.pk}/").status_code == 302


def test_next_only_goes_to_tablet_pages(world):
    client = Client()
    response = client.post(
        "/tablet/login/?next=https://evil.example/",
        {"code": "JB02", "pin": PIN},
    )
    assert response["Location"] == "/tablet/"
    response = Client().post(
        "/tablet/login/", {"code": "JB02", "pin": PIN, "next": f"/tablet/{world.skill.pk}/102/"}
    )
    assert response["Location"] == f"/tablet/{world.skill.pk}/102/"
