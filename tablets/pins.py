"""A judge's tablet PIN: made, stored hashed and checked (docs/tablet-pins.md).

How a PIN is stored (a keyed hash) is ``tablets.pin_hashing``; throttling of
failed attempts is ``tablets.pin_throttle``."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from teams.models import Judge

from . import pin_hashing
from .models import JudgeCredential, PinFailure
from .pin_throttle import PinThrottled, pin_locked, unlock_pin

PIN_LENGTH = 6


def generate_pin(judge: Judge, by_user) -> str:
    """A new random PIN for the judge; returns it in clear (show it once).
    It lifts any lock on the judge's code: the chief judge has just handed
    the judge a PIN, so failures before it say nothing about it."""
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    with transaction.atomic():
        JudgeCredential.objects.update_or_create(
            judge=judge,
            defaults={
                "pin_hash": pin_hashing.hash_pin(pin),
                "set_at": timezone.now(),
                "set_by": by_user,
            },
        )
        unlock_pin(judge)
    return pin


def check_pin(code: str, pin: str, ip: str | None, now: dt.datetime | None = None) -> Judge | None:
    """The judge whose code and PIN match, else None (the failure is counted).
    Raises ``PinThrottled`` while locked, without checking the PIN at all."""
    now = now or timezone.now()
    code = (code or "").strip().upper()[:20]
    if pin_locked(code, ip, now):
        raise PinThrottled
    credential = (
        JudgeCredential.objects.select_related("judge").filter(judge__code__iexact=code).first()
    )
    pin = (pin or "").strip()
    # Unknown codes cost the same HMAC, so timing does not tell which exist.
    matched = pin_hashing.pin_matches(pin, credential.pin_hash if credential else None)
    if matched and credential is not None:
        if not pin_hashing.is_current(credential.pin_hash):  # an older PBKDF2 hash
            credential.pin_hash = pin_hashing.hash_pin(pin)
            credential.save(update_fields=["pin_hash"])
        PinFailure.objects.filter(judge_code=code, ip_address=ip).delete()
        return credential.judge
    PinFailure.objects.create(judge_code=code, ip_address=ip, created_at=now)
    return None
