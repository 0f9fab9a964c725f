"""Production security: the client address behind nginx (login throttling),
the content-security policy, HTTPS-only cookies and HSTS, and the storage
switch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import RequestFactory

from operations.client_ip import client_ip
from portal.csp import HEADER, REPORT_ONLY_HEADER, ContentSecurityPolicyMiddleware, build_policy

from .helpers import base_env, manage, ok

PROXY = "127.0.0.1"


def _request(remote: str, forwarded: str | None = None) -> HttpRequest:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


# ------------------------------------------------------------------ client address


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # Straight from nginx: the entry nginx appended.
        (PROXY, "198.51.100.7", "198.51.100.7"),
        # A client that writes its own header cannot choose its address: only
        # the right-most entry (nginx's) counts.
        (PROXY, "203.0.113.1, 198.51.100.7", "198.51.100.7"),
        # Not from a trusted proxy: the header is ignored.
        ("198.51.100.9", "203.0.113.1", "198.51.100.9"),
        # From the proxy without a header (a health check on the machine).
        (PROXY, None, PROXY),
        (PROXY, "", PROXY),
        # IPv6 and a port written by some proxies.
        ("::1", "2001:db8::5", "2001:db8::5"),
        (PROXY, "198.51.100.7:51234", "198.51.100.7"),
        # Garbage where nginx's entry should be: fall back to the proxy.
        (PROXY, "not-an-address", PROXY),
    ],
)
def test_client_ip_trusts_only_what_the_proxy_appended(settings, remote, forwarded, expected):
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]
    assert client_ip(_request(remote, forwarded)) == expected


def test_client_ip_walks_past_a_chain_of_trusted_proxies(settings):
    # A load balancer (10.0.0.5) in front of nginx on a web node.
    settings.PORTAL_TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1/32"]
    request = _request("10.0.0.7", "203.0.113.1, 198.51.100.7, 10.0.0.5")
    assert client_ip(request) == "198.51.100.7"


@pytest.mark.django_db
def test_login_throttling_locks_the_forwarded_client_not_the_whole_venue(client, settings):
    """Behind nginx every request comes from 127.0.0.1: failures are counted
    against the forwarded client's address, so the per-address limit locks
    that tablet, not every tablet in the hall. A username is locked from
    everywhere after five failures (docs/integrity.md)."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    User.objects.create_user("judge1", password="correct-horse-9")
    User.objects.create_user("judge2", password="correct-horse-9")
    tablet_a = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    tablet_b = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.11"}
    tablet_c = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.12"}
    url = "/accounts/login/"
    for i in range(10):
        client.post(url, {"username": f"guess{i}", "password": "wrong"}, **tablet_a)

    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}
    locked = client.post(url, {"username": "judge1", "password": "correct-horse-9"}, **tablet_a)
    assert locked.status_code == 429
    other = client.post(url, {"username": "judge1", "password": "correct-horse-9"}, **tablet_b)
    assert other.status_code == 302
    client.logout()

    for _ in range(5):
        client.post(url, {"username": "judge2", "password": "wrong"}, **tablet_b)
    again = client.post(url, {"username": "judge2", "password": "correct-horse-9"}, **tablet_c)
    assert again.status_code == 429


# ------------------------------------------------------------------ CSP

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def _through_middleware(path: str, template: str = "ok") -> HttpResponse:
    def view(request: HttpRequest) -> HttpResponse:
        body = engines["django"].from_string(template).render({"request": request})
        return HttpResponse(body)

    return ContentSecurityPolicyMiddleware(view)(RequestFactory().get(path))  # type: ignore[return-value]


def test_policy_is_the_strict_one_by_default(settings):
    settings.PORTAL_CSP_REPORT_ONLY = False
    response = _through_middleware("/tablet/")
    assert response[HEADER] == STRICT
    assert REPORT_ONLY_HEADER not in response


def test_report_only_sends_the_other_header(settings):
    settings.PORTAL_CSP_REPORT_ONLY = True
    response = _through_middleware("/")
    assert response[REPORT_ONLY_HEADER] == STRICT
    assert HEADER not in response


def test_admin_may_use_inline_styles_but_never_inline_scripts(settings):
    settings.PORTAL_CSP_REPORT_ONLY = False
    policy = _through_middleware("/admin/teams/").get(HEADER)
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy


def test_a_template_that_reads_the_nonce_gets_it_in_the_header(settings):
    settings.PORTAL_CSP_REPORT_ONLY = False
    response = _through_middleware("/", '<script nonce="{{ request.csp_nonce }}">x()</script>')
    nonce = response.content.decode().split('nonce="')[1].split('"')[0]
    assert len(nonce) >= 16
    assert f"script-src 'self' 'nonce-{nonce}'" in response[HEADER]
    assert f"style-src 'self' 'nonce-{nonce}'" in response[HEADER]
    # Pages that do not use it keep the strict header.
    assert _through_middleware("/")[HEADER] == STRICT


def test_a_view_may_set_its_own_policy():
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("x")
        response[HEADER] = "default-src 'none'"
        return response

    response = ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))
    assert response[HEADER] == "default-src 'none'"


def test_build_policy_adds_a_nonce_to_a_missing_directive_from_default_src():
    policy = build_policy({"default-src": ["'self'"]}, nonce="abc")
    assert (
        policy == "default-src 'self'; script-src 'self' 'nonce-abc'; style-src 'self' 'nonce-abc'"
    )


@pytest.mark.django_db
def test_pages_served_by_django_carry_the_policy(client, settings):
    settings.PORTAL_CSP_REPORT_ONLY = False
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response[HEADER] == STRICT


# ------------------------------------------------------------------ production settings

PROBE = """
import json
from django.conf import settings
from django.core.files.storage import storages
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "hsts_sub": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "proxy_ssl": list(settings.SECURE_PROXY_SSL_HEADER or []),
    "csp_report_only": settings.PORTAL_CSP_REPORT_ONLY,
    "csp_middleware": "portal.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE,
    "axes_ip": settings.AXES_CLIENT_IP_CALLABLE,
    "storage": type(storages["default"]).__name__,
}))
"""

PROD = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "test-only-" + "k" * 50,
    "PORTAL_LEDGER_KEY": "test-only-ledger-" + "l" * 40,
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "PORTAL_BASE_URL": "https://portal.example.org",
}


def _probe(**env: str) -> dict:
    out = ok(manage(base_env(**env), "shell", "-v", "0", "-c", PROBE))
    return json.loads(out.strip().splitlines()[-1])


def test_production_turns_on_https_only_cookies_hsts_and_an_enforced_policy():
    seen = _probe(**PROD)
    assert seen["session_secure"] and seen["csrf_secure"]
    assert seen["hsts"] >= 31536000 and seen["hsts_sub"]
    assert seen["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["csp_middleware"] and seen["csp_report_only"] is False
    assert seen["axes_ip"] == "operations.client_ip.client_ip"
    assert seen["storage"] == "FileSystemStorage"


def test_development_reports_the_policy_without_enforcing_it():
    assert _probe()["csp_report_only"] is True


def test_s3_storage_by_configuration():
    seen = _probe(
        **PROD,
        PORTAL_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="portal-files",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_S3_ADDRESSING_STYLE="path",
    )
    assert seen["storage"] == "S3Storage"


def test_s3_storage_without_a_bucket_refuses_to_start():
    result = manage(base_env(**PROD, PORTAL_STORAGE="s3"), "check")
    assert result.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in result.stderr
