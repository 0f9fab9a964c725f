"""A small Content-Security-Policy middleware (Django 5.2 has none built in).

The policy comes from ``settings.PORTAL_CSP`` (directive -> sources), with
``PORTAL_CSP_PATH_OVERRIDES`` replacing single directives under a URL prefix
and ``PORTAL_CSP_REPORT_ONLY`` choosing the report-only header.

Inline code is refused by the policy. A template that cannot avoid an inline
``<script>`` or ``<style>`` element writes ``nonce="{{ request.csp_nonce }}"``
on it; the nonce is generated only when a template reads it, and only then is
it added to ``script-src`` and ``style-src``, so pages without inline code keep
the strict header (and stay cacheable). A view can set its own header: the
middleware leaves a response that already has one alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"
NONCE_DIRECTIVES = ("script-src", "style-src")


def build_policy(
    directives: Mapping[str, Sequence[str]],
    overrides: Mapping[str, Sequence[str]] | None = None,
    nonce: str | None = None,
) -> str:
    """The header value: directives in the given order, overrides replacing
    whole directives, the nonce appended to the script and style sources."""
    merged: dict[str, list[str]] = {k: list(v) for k, v in directives.items()}
    for name, sources in (overrides or {}).items():
        merged[name] = list(sources)
    if nonce:
        for name in NONCE_DIRECTIVES:
            # A directive that is absent falls back to default-src in the
            # browser; writing it out keeps that fallback and adds the nonce.
            base = merged.get(name, merged.get("default-src", ["'self'"]))
            merged[name] = [*base, f"'nonce-{nonce}'"]
    return "; ".join(" ".join([name, *sources]).strip() for name, sources in merged.items())


def _overrides_for(path: str) -> dict[str, list[str]]:
    table: Mapping[str, Mapping[str, Sequence[str]]] = getattr(
        settings, "PORTAL_CSP_PATH_OVERRIDES", {}
    )
    found: dict[str, list[str]] = {}
    # Longer prefixes win over shorter ones.
    for prefix in sorted(table, key=len):
        if path.startswith(prefix):
            found.update({k: list(v) for k, v in table[prefix].items()})
    return found


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        nonce = SimpleLazyObject(lambda: secrets.token_urlsafe(16))
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if HEADER in response or REPORT_ONLY_HEADER in response:
            return response
        directives: Mapping[str, Sequence[str]] = getattr(settings, "PORTAL_CSP", {})
        if not directives:
            return response
        # Read by a template while rendering? (LazyObject's private slot; not in the stubs.)
        used = nonce._wrapped is not empty  # type: ignore[attr-defined]
        header = (
            REPORT_ONLY_HEADER if getattr(settings, "PORTAL_CSP_REPORT_ONLY", False) else HEADER
        )
        response[header] = build_policy(
            directives, _overrides_for(request.path), str(nonce) if used else None
        )
        return response
