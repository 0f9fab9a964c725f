"""System checks of the portal's own settings (docs/verification.md).

``PORTAL_BASE_URL`` is what every certificate's QR code points at. Settings
fill in a local default only while DEBUG is on; otherwise it must come from
the environment as an absolute http(s) URL:

- ``portal.E001``: missing or not absolute. An error for every management
  command that runs the checks (migrate included), so a production start
  without it fails loudly.
- ``portal.E002`` (``check --deploy``): the value is the development default,
  not one from the environment — reported on a machine still in debug mode.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

HINT = "PORTAL_BASE_URL=https://portal.example.org (deploy/portal.env.example)"


@register(Tags.security)
def portal_base_url(app_configs=None, **kwargs) -> list[Error]:
    value = getattr(settings, "PORTAL_BASE_URL", "") or ""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and not (parts.query or parts.fragment):
        return []
    return [
        Error(
            "PORTAL_BASE_URL 未设置或不是以 http(s):// 开头的完整地址；证书二维码和核验链接"
            "都以它为准。 / PORTAL_BASE_URL is not set or not an absolute http(s) URL; "
            "certificate QR codes and verification links are built on it.",
            hint=HINT,
            id="portal.E001",
        )
    ]


@register(Tags.security, deploy=True)
def portal_base_url_from_environment(app_configs=None, **kwargs) -> list[Error]:
    if not getattr(settings, "PORTAL_BASE_URL_DEFAULTED", False):
        return []
    local = settings.PORTAL_BASE_URL
    return [
        Error(
            f"PORTAL_BASE_URL 没有在环境中设置，证书会带上开发地址 {local}。 / PORTAL_BASE_URL "
            f"is not set in the environment: certificates would carry the development "
            f"address {local}.",
            hint=HINT,
            id="portal.E002",
        )
    ]
