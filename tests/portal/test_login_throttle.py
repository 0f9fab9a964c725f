"""Password logins are limited per username across addresses and per address
(django-axes with portal.login_throttle's handler)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f

URL = "/accounts/login/"


@pytest.fixture
def throttled(settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 30
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32"]
    return settings


def from_address(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def attempt(client, username: str, password: str, address: str):
    return client.post(URL, {"username": username, "password": password}, **from_address(address))


def test_the_login_url_is_the_one_tested():
    assert reverse("login") == URL


def test_five_failures_from_five_addresses_lock_the_username(client, throttled):
    f.user(username="organiser_zhang", password="Right-Password-1")
    for i in range(5):
        attempt(client, "organiser_zhang", "wrong", f"198.51.100.{i + 1}")
    # The right password, from an address never used before, is refused.
    locked = attempt(client, "organiser_zhang", "Right-Password-1", "203.0.113.9")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_four_failures_from_four_addresses_do_not_lock(client, throttled):
    f.user(username="lead_wu", password="Right-Password-1")
    for i in range(4):
        attempt(client, "lead_wu", "wrong", f"198.51.100.{i + 1}")
    assert attempt(client, "lead_wu", "Right-Password-1", "203.0.113.9").status_code == 302


def test_many_usernames_from_one_address_lock_the_address(client, throttled):
    f.user(username="lead_chen", password="Right-Password-1")
    attacker = "192.0.2.66"
    for i in range(30):  # one failure each: no username reaches its own limit
        attempt(client, f"guess{i}", "wrong", attacker)
    refused = attempt(client, "lead_chen", "Right-Password-1", attacker)
    assert refused.status_code == 429
    # The same account from another address is not affected.
    assert attempt(client, "lead_chen", "Right-Password-1", "192.0.2.67").status_code == 302


def test_the_address_limit_is_higher_than_the_username_limit(client, throttled):
    """A venue's shared address: 29 failures spread over many usernames do
    not lock out the next person who types the right password there."""
    f.user(username="lead_zhou", password="Right-Password-1")
    venue = "192.0.2.80"
    for i in range(29):
        attempt(client, f"typo{i % 10}", "wrong", venue)
    assert attempt(client, "lead_zhou", "Right-Password-1", venue).status_code == 302


def test_an_own_account_login_does_not_clear_the_address_or_the_victim(client, throttled):
    """An attacker who also holds an account cannot wipe the counts by
    signing in with it between guesses."""
    f.user(username="victim", password="Right-Password-1")
    f.user(username="insider", password="Insider-Password-1")
    address = "192.0.2.90"
    for _i in range(4):
        attempt(client, "victim", "wrong", address)
    assert attempt(client, "insider", "Insider-Password-1", address).status_code == 302
    client.logout()
    attempt(client, "victim", "wrong", "192.0.2.91")
    assert attempt(client, "victim", "Right-Password-1", "192.0.2.92").status_code == 429


def test_a_successful_login_clears_the_users_own_failures(client, throttled):
    f.user(username="lead_sun", password="Right-Password-1")
    for _ in range(4):
        attempt(client, "lead_sun", "wrong", "192.0.2.5")
    assert attempt(client, "lead_sun", "Right-Password-1", "192.0.2.5").status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "lead_sun", "wrong", "192.0.2.6")
    assert attempt(client, "lead_sun", "Right-Password-1", "192.0.2.6").status_code == 302
