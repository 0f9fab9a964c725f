"""PIN throttling that cannot be turned against a judge: wrong PINs from
one address lock only that address; a code is locked everywhere only after
far more failures; a new PIN or "unlock" by the chief judge lifts any lock,
and the board lists the locked codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tablets import services
from tablets.models import PinFailure

from .conftest import PIN

pytestmark = pytest.mark.django_db


def login(code: str, pin: str, ip: str):
    return Client().post("/tablet/login/", {"code": code, "pin": pin}, REMOTE_ADDR=ip)


def chief_client(world) -> Client:
    client = Client()
    client.force_login(world.chief.user)
    return client


def test_twenty_wrong_pins_from_one_address_do_not_stop_the_judge_elsewhere(world):
    for _ in range(20):
        assert login("JB02", "000000", "10.0.0.66").status_code in (200, 429)
    assert login("JB02", PIN, "10.0.0.66").status_code == 429  # that address is locked
    assert login("JB02", PIN, "10.0.0.7").status_code == 302  # the judge's tablet is not
    # A locked address adds no failures: it cannot push the code towards a code-wide lock.
    assert PinFailure.objects.filter(judge_code="JB02").count() == services.PIN_FAILURE_LIMIT


def test_a_new_pin_from_the_chief_lifts_the_lock(world):
    for _ in range(services.PIN_FAILURE_LIMIT):
        login("JB02", "000000", "10.0.0.7")
    assert login("JB02", PIN, "10.0.0.7").status_code == 429
    board = chief_client(world).get(f"/tablet/board/{world.skill.pk}/").content.decode()
    start = board.index('id="pin-locks"')
    locks = board[start : board.index("</div>", start)]
    assert "JB02" in locks and "10.0.0.7" in locks
    assert f"judges/{world.jb.pk}/unlock/" in locks
    response = chief_client(world).post(f"/tablet/board/{world.skill.pk}/judges/{world.jb.pk}/pin/")
    pin = re.search(r'id="pin">(\d{6})<', response.content.decode()).group(1)
    assert login("JB02", pin, "10.0.0.7").status_code == 302
    board = chief_client(world).get(f"/tablet/board/{world.skill.pk}/").content.decode()
    assert 'id="pin-locks"' not in board


def test_unlock_lifts_the_lock_and_keeps_the_pin(world):
    for _ in range(services.PIN_FAILURE_LIMIT):
        login("JB02", "000000", "10.0.0.7")
    assert login("JB02", PIN, "10.0.0.7").status_code == 429
    chief_client(world).post(f"/tablet/board/{world.skill.pk}/judges/{world.jb.pk}/unlock/")
    assert login("JB02", PIN, "10.0.0.7").status_code == 302


def test_only_the_chief_of_the_skill_may_unlock(world):
    for _ in range(services.PIN_FAILURE_LIMIT):
        login("JB02", "000000", "10.0.0.7")
    other = Client()
    other.force_login(world.ja.user)  # a judge of the skill, not its chief
    url = f"/tablet/board/{world.skill.pk}/judges/{world.jb.pk}/unlock/"
    assert other.post(url).status_code == 403
    assert other.get(url).status_code in (403, 405)
    assert services.pin_locked("JB02", "10.0.0.7")


def test_a_code_wide_lock_needs_many_failures_across_addresses(world):
    assert services.PIN_CODE_FAILURE_LIMIT >= 100
    now = timezone.now()
    per_address = services.PIN_FAILURE_LIMIT - 1  # stay under each address's lock
    failures = 0
    address = 0
    while failures < services.PIN_CODE_FAILURE_LIMIT - 1:
        address += 1
        for _ in range(min(per_address, services.PIN_CODE_FAILURE_LIMIT - 1 - failures)):
            ip = f"10.3.{address // 250}.{address % 250}"
            assert services.check_pin("JB02", "000000", ip, now=now) is None
            failures += 1
    # One short of the limit: the judge still signs in from a fresh address.
    assert services.check_pin("JB02", PIN, "10.4.0.1", now=now) == world.jb
    services.check_pin("JB02", "000000", "10.4.0.2", now=now)
    with pytest.raises(services.PinThrottled):
        services.check_pin("JB02", PIN, "10.4.0.3", now=now)
    [lock] = services.pin_locks([world.ja, world.jb, world.jc], now=now)
    assert lock.judge == world.jb and lock.everywhere
    assert lock.until == now + services.PIN_CODE_WINDOW
    # An hour later the code is free again; a new PIN frees it at once.
    later = now + services.PIN_CODE_WINDOW + dt.timedelta(seconds=1)
    assert services.check_pin("JB02", PIN, "10.4.0.3", now=later) == world.jb
    services.generate_pin(world.jb, world.organiser)
    assert not services.pin_locked("JB02", "10.4.0.3", now=now)


def test_locks_of_other_codes_are_not_listed(world):
    for _ in range(services.PIN_FAILURE_LIMIT):
        services.check_pin("NOBODY", "000000", "10.0.0.7")
    for _ in range(services.PIN_FAILURE_LIMIT - 1):
        services.check_pin("JA01", "000000", "10.0.0.7")
    assert services.pin_locks([world.ja, world.jb, world.jc]) == []
