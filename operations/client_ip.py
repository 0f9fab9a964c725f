"""The client's address when the portal runs behind nginx.

Behind a reverse proxy REMOTE_ADDR is the proxy. The proxy appends the address
it saw to X-Forwarded-For (nginx: ``$proxy_add_x_forwarded_for``), after
whatever the client sent itself, so only entries on the right, written by
proxies we trust, can be believed: walk from the right past trusted proxies
and take the first address that is not one. A request that did not come from
a trusted proxy is judged by REMOTE_ADDR alone, so a client talking to
gunicorn directly cannot choose its own address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str | None:
    trusted = _networks(tuple(getattr(settings, "PORTAL_TRUSTED_PROXIES", ())))

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == n.version and address in n for n in trusted)

    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    if not is_trusted(remote):
        return str(remote)
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # Garbage where a proxy should have written an address: stop here
            # rather than trust anything further left.
            break
        if not is_trusted(address):
            return str(address)
    return str(remote)
