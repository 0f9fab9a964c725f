"""How a tablet PIN is stored and checked (docs/tablet-pins.md).

A PIN is stored as HMAC-SHA256 under ``settings.PORTAL_PIN_KEY``, a key kept
in the environment and never in the database. A 6-digit PIN has only 10^6
values: a slow hash (PBKDF2, 0.26 s of CPU per check) would cost an offline
attacker holding the database a few days of one core, and cost the venue
minutes of CPU when hundreds of judges sign in at once. The key is what
protects a stolen database; online guessing is bounded by the throttle in
``tablets.pin_throttle``.

PINs stored before this scheme (Django password hashes, PBKDF2) still sign
in: they are checked with Django's hasher once and re-hashed on success.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import check_password

PREFIX = "hmac_sha256$"


def pin_key() -> bytes:
    return str(settings.PORTAL_PIN_KEY).encode("utf-8")


def hash_pin(pin: str, key: bytes | None = None) -> str:
    """The stored form of ``pin``: ``hmac_sha256$`` and 64 hex digits."""
    digest = hmac.new(pin_key() if key is None else key, pin.encode("utf-8"), hashlib.sha256)
    return PREFIX + digest.hexdigest()


def is_current(stored: str) -> bool:
    """Whether ``stored`` is in this scheme (else it is an older password hash)."""
    return stored.startswith(PREFIX)


def pin_matches(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` is the PIN behind ``stored``, in constant time.

    With ``stored`` None (no such judge code) the HMAC is still computed, so
    the answer takes as long as for a real code. An older password hash is
    checked with Django's hasher (slow, once per judge: the caller re-hashes).
    """
    candidate = hash_pin(pin)
    if stored is None:
        hmac.compare_digest(candidate, PREFIX + "0" * 64)
        return False
    if is_current(stored):
        return hmac.compare_digest(candidate, stored)
    return check_password(pin, stored)
