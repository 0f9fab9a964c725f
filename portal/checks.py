"""System checks of the portal's own settings (docs/verification.md).

``PORTAL_BASE_URL`` is what every certificate's QR code points at. With
DEBUG off it must be an absolute http(s) URL: an error for every management
command that runs the checks (migrate included), so a production start with
the development default fails loudly. ``check --deploy`` reports it as well,
also when run with DEBUG on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

BASE_URL_ID = "portal.E001"


def base_url_problems() -> list[Error]:
    value = getattr(settings, "PORTAL_BASE_URL", "") or ""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and not (parts.query or parts.fragment):
        return []
    return [
        Error(
            "PORTAL_BASE_URL 未设置或不是以 http(s):// 开头的完整地址；证书二维码和核验链接"
            "都以它为准。 / PORTAL_BASE_URL is not set or not an absolute http(s) URL; "
            "certificate QR codes and verification links are built on it.",
            hint="PORTAL_BASE_URL=https://portal.example.org (deploy/portal.env.example)",
            id=BASE_URL_ID,
        )
    ]


@register(Tags.security)
def portal_base_url_in_production(app_configs=None, **kwargs) -> list[Error]:
    return [] if settings.DEBUG else base_url_problems()


@register(Tags.security, deploy=True)
def portal_base_url_for_deploy(app_configs=None, **kwargs) -> list[Error]:
    # With DEBUG off the check above already reports it: report it once.
    return base_url_problems() if settings.DEBUG else []
