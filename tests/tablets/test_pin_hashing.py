"""Tablet PINs are stored as an HMAC under a key outside the database
(docs/tablet-pins.md): sign-in works, PINs stored with the older PBKDF2 hash
still work (and are re-hashed), and a database dump without the key cannot
tell which PIN is stored."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from tablets import pin_hashing, services
from tablets.models import JudgeCredential, PinFailure

from .conftest import PIN

pytestmark = pytest.mark.django_db


def login(code: str, pin: str, ip: str = "10.0.0.7"):
    return Client().post("/tablet/login/", {"code": code, "pin": pin}, REMOTE_ADDR=ip)


def test_a_new_pin_signs_in_and_is_stored_keyed(world):
    pin = services.generate_pin(world.jb, world.organiser)
    stored = JudgeCredential.objects.get(judge=world.jb).pin_hash
    assert pin not in stored and pin_hashing.is_current(stored)
    assert login("JB02", pin).status_code == 302
    assert login("JB02", "x" + pin[1:]).status_code == 200  # wrong: the form again


def test_a_pin_stored_with_the_old_pbkdf2_hash_still_signs_in_and_is_rehashed(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    old = make_password(PIN)
    assert old.startswith("pbkdf2_sha256$")
    JudgeCredential.objects.filter(judge=world.jb).update(pin_hash=old)
    assert login("JB02", "135790").status_code == 200  # a wrong PIN is still wrong
    assert JudgeCredential.objects.get(judge=world.jb).pin_hash == old
    assert login("JB02", PIN).status_code == 302
    stored = JudgeCredential.objects.get(judge=world.jb).pin_hash
    assert stored != old and pin_hashing.is_current(stored)
    assert login("JB02", PIN, ip="10.0.0.8").status_code == 302  # and again, keyed now


def test_the_same_pin_is_stored_differently_under_another_key(world, settings):
    stored = JudgeCredential.objects.get(judge=world.jb).pin_hash
    guessed = b"another key, as a thief without ours would have to guess"
    assert pin_hashing.hash_pin(PIN, guessed) != stored
    # PINs tried under the wrong key (the right PIN among them) all miss.
    tried = [PIN, *(f"{n:06d}" for n in range(0, 1_000_000, 97))]
    assert not any(pin_hashing.hash_pin(pin, guessed) == stored for pin in tried)
    settings.PORTAL_PIN_KEY = guessed.decode()
    assert login("JB02", PIN).status_code == 200  # wrong key: the PIN no longer matches


def test_wrong_pins_are_still_throttled(world):
    for _ in range(services.PIN_FAILURE_LIMIT):
        assert login("JB02", "000000").status_code == 200
    assert login("JB02", PIN).status_code == 429  # locked: the right PIN is not even checked
    assert PinFailure.objects.filter(judge_code="JB02").count() == services.PIN_FAILURE_LIMIT
    assert login("JB02", PIN, ip="10.0.0.9").status_code == 302  # another address is not


def test_an_unknown_code_is_counted_as_a_failure_like_a_known_one(world):
    for code in ("NOBODY", "JB02"):
        assert services.check_pin(code, "000000", "10.0.0.7") is None
    assert sorted(PinFailure.objects.values_list("judge_code", flat=True)) == ["JB02", "NOBODY"]
