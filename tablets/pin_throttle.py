"""Throttling of failed PIN sign-ins, and the locks the chief judge's board
lists (docs/tablet-pins.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from teams.models import Judge

from .models import PinFailure

# Throttling must not become a way to lock a judge out (see
# docs/tablet-pins.md). Five failures for one judge code from one address
# lock only that pair, for 15 minutes after the last of them. A judge code is
# locked from every address only after 100 failures within an hour: far more
# than a judge mistyping, enough to bound a guessing attack spread over many
# addresses. A new PIN or "unlock" on the chief judge's board lifts both.
PIN_FAILURE_LIMIT = 5
PIN_COOLOFF = dt.timedelta(minutes=15)
PIN_CODE_FAILURE_LIMIT = 100
PIN_CODE_WINDOW = dt.timedelta(hours=1)


class PinThrottled(Exception):
    """Too many failed PIN sign-ins for this judge code (and address)."""


def _pair_locked_until(times: list[dt.datetime]) -> dt.datetime | None:
    """When a pair's lock ends, from its failures newest first (None: not
    locked): ``PIN_FAILURE_LIMIT`` failures within 15 minutes lock the pair
    until 15 minutes after the last one."""
    if len(times) < PIN_FAILURE_LIMIT:
        return None
    if times[0] - times[PIN_FAILURE_LIMIT - 1] > PIN_COOLOFF:
        return None
    return times[0] + PIN_COOLOFF


def pin_locked(code: str, ip: str | None, now: dt.datetime | None = None) -> bool:
    """Locked when the pair (code, ip) is locked or the code failed
    ``PIN_CODE_FAILURE_LIMIT`` times within ``PIN_CODE_WINDOW``."""
    now = now or timezone.now()
    code = code.strip().upper()
    failures = PinFailure.objects.filter(judge_code=code)
    if failures.filter(created_at__gt=now - PIN_CODE_WINDOW).count() >= PIN_CODE_FAILURE_LIMIT:
        return True
    last = list(
        failures.filter(ip_address=ip, created_at__gt=now - 2 * PIN_COOLOFF)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:PIN_FAILURE_LIMIT]
    )
    until = _pair_locked_until(last)
    return until is not None and until > now


def unlock_pin(judge: Judge) -> int:
    """Lift every PIN lock of the judge's code (all addresses)."""
    deleted, _rows = PinFailure.objects.filter(judge_code=judge.code.strip().upper()).delete()
    return deleted


@dataclass
class PinLock:
    """A locked judge code as the board shows it: locked from every address
    (``ip`` None) or from the listed addresses, until ``until``."""

    judge: Judge
    everywhere: bool
    addresses: list[str]
    until: dt.datetime


def pin_locks(judges: list[Judge], now: dt.datetime | None = None) -> list[PinLock]:
    """The codes among ``judges`` that are locked now; one query."""
    now = now or timezone.now()
    by_code = {j.code.strip().upper(): j for j in judges}
    since = now - max(PIN_CODE_WINDOW, 2 * PIN_COOLOFF)
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    pairs: dict[tuple[str, str | None], list[dt.datetime]] = defaultdict(list)
    for code, ip, at in (
        PinFailure.objects.filter(judge_code__in=list(by_code), created_at__gt=since)
        .order_by("-created_at")
        .values_list("judge_code", "ip_address", "created_at")
    ):
        if at > now - PIN_CODE_WINDOW:
            times[code].append(at)
        pairs[(code, ip)].append(at)
    out = []
    for code, judge in sorted(by_code.items()):
        recent = times.get(code, [])
        if len(recent) >= PIN_CODE_FAILURE_LIMIT:
            # Unlocked when the oldest failure that keeps the count at the limit leaves the window.
            until = recent[PIN_CODE_FAILURE_LIMIT - 1] + PIN_CODE_WINDOW
            out.append(PinLock(judge, True, [], until))
            continue
        locked = []
        for (c, ip), failures in pairs.items():
            if c != code:
                continue
            pair_until = _pair_locked_until(failures)
            if pair_until is not None and pair_until > now:
                locked.append((ip or "?", pair_until))
        if locked:
            locked.sort()
            out.append(PinLock(judge, False, [ip for ip, _u in locked], max(u for _i, u in locked)))
    return out
