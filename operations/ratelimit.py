"""A per-address request counter in the cache (docs/verification.md).

A fixed window: the first request of an address in a window creates the
counter, each further one increments it; past ``limit`` the caller answers
429 until the window ends. ``cache.add`` and ``cache.incr`` are atomic on
Redis and within one process on the local-memory cache, so concurrent
requests are counted once each. The address is ``client_ip``'s: behind
nginx, the client's, not the proxy's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from .client_ip import client_ip

_clock = time.time  # a seam for tests


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def hit(request: HttpRequest, scope: str, limit: int, window: int) -> Decision:
    """Count one request of this client in ``scope``; ``limit`` per ``window`` seconds."""
    now = _clock()
    window = max(int(window), 1)
    slot = int(now // window)
    address = client_ip(request) or "unknown"
    key = f"ratelimit:{scope}:{address}:{slot}"
    # The counter outlives its window a little: a late increment never
    # recreates it for a window that is over.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=window + 5)
        count = 1
    retry_after = max(int((slot + 1) * window - now) + 1, 1)
    return Decision(count <= limit, count, retry_after)
