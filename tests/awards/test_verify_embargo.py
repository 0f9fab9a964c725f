"""/verify/<serial>/ as an attacker tries it: certificates of unpublished
skills, walking the serial numbers, and asking too often."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from awards import issuing, verification
from awards.models import Certificate

from .conftest import publish_all
from .test_views import produced  # noqa: F401  (fixture)


def _ip() -> str:
    """An address of its own per test: the counter lives in the shared cache."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def _shape(html: str, serial: str) -> str:
    """The page with what legitimately differs taken out: the serial the
    visitor typed (echoed back), the time of the check and the (masked, so
    different on every page) CSRF token of the language form."""
    html = html.replace(serial, "SERIAL")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "TIME", html)


def _get(client, serial: str, ip: str):
    return client.get(f"/verify/{serial}/", REMOTE_ADDR=ip)


@pytest.fixture
def generous(settings):
    settings.PORTAL_VERIFY_RATE_LIMIT = 10_000
    settings.PORTAL_VERIFY_RATE_WINDOW = 60


def test_unpublished_certificate_answers_exactly_as_an_unknown_serial(
    client,
    produced,  # noqa: F811
    generous,
):
    ip = _ip()
    cert = produced["cert"]
    unknown_serial = cert.serial[:-5] + ("ZZZZZ" if not cert.serial.endswith("ZZZZZ") else "YYYYY")
    unpublished = _get(client, cert.serial, ip)
    unknown = _get(client, unknown_serial, ip)
    assert unpublished.status_code == unknown.status_code == 404
    html = unpublished.content.decode()
    for secret in ("欧阳淑珺", "砌筑", "金牌", produced["event"].name):
        assert secret not in html
    assert _shape(html, cert.serial) == _shape(unknown.content.decode(), unknown_serial)
    assert dict(unpublished.headers).keys() == dict(unknown.headers).keys()

    # Revoked before publication: still nothing, not even "revoked".
    issuing.revoke_certificate(cert, "test")
    revoked = _get(client, cert.serial, ip)
    assert revoked.status_code == 404
    assert _shape(revoked.content.decode(), cert.serial) == _shape(html, cert.serial)

    # After publication the same serial (the live one) answers.
    publish_all(produced["event"], produced["organiser"])
    live = Certificate.objects.filter(event=produced["event"], revoked=False).first()
    shown = _get(client, live.serial, ip)
    assert shown.status_code == 200 and live.athlete.name in shown.content.decode()
    assert _get(client, cert.serial, ip).status_code == 410  # revoked, once public


def test_serial_is_read_forgivingly_as_over_the_phone(client, produced, generous):  # noqa: F811
    publish_all(produced["event"], produced["organiser"])
    cert = produced["cert"]
    head, check = cert.serial.rsplit("-", 1)
    spoken = f" {head.lower()}-{check.lower().replace('1', 'l').replace('0', 'o')} "
    r = _get(client, spoken, _ip())
    assert r.status_code == 200
    assert "欧阳淑珺" in r.content.decode()


def test_walking_the_serial_numbers_finds_nothing(client, produced, generous):  # noqa: F811
    """Every certificate's running number, with and without a guessed check
    part, is an unknown serial: only the full serial (printed on the
    certificate) answers."""
    publish_all(produced["event"], produced["organiser"])
    ip = _ip()
    real = set(Certificate.objects.values_list("serial", flat=True))
    assert real and all(re.fullmatch(r".+-\d{6}-[0-9A-HJKMNP-TV-Z]{5}", s) for s in real)
    prefix = next(iter(real)).rsplit("-", 2)[0]  # JS2026-2026
    found = []
    for number in range(1, 41):
        for guess in ("", "-00000", "-AAAAA", "-ZZZZZ", "-12345"):
            serial = f"{prefix}-{number:06d}{guess}"
            if serial in real:
                continue
            r = _get(client, serial, ip)
            if r.status_code != 404:
                found.append(serial)
    assert found == []


def test_verification_is_rate_limited_per_client_address(client, produced, settings):  # noqa: F811
    settings.PORTAL_VERIFY_RATE_LIMIT = 5
    settings.PORTAL_VERIFY_RATE_WINDOW = 600
    publish_all(produced["event"], produced["organiser"])
    serial = produced["cert"].serial
    ip, other = _ip(), _ip()
    assert [_get(client, serial, ip).status_code for _ in range(5)] == [200] * 5
    limited = _get(client, serial, ip)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "欧阳淑珺" not in limited.content.decode()  # no answer once limited
    assert "请" in limited.content.decode()  # a Chinese message
    # Unknown serials count as well: guessing costs the same.
    assert _get(client, "NOPE-2026-000001-AAAAA", ip).status_code == 429
    # Another address is not affected.
    assert _get(client, serial, other).status_code == 200


def test_the_limit_follows_the_client_address_behind_the_proxy(client, produced, settings):  # noqa: F811
    """Behind nginx every request comes from 127.0.0.1: the limit must count
    the client's address from X-Forwarded-For, or one visitor would lock out
    a whole venue."""
    settings.PORTAL_VERIFY_RATE_LIMIT = 2
    settings.PORTAL_VERIFY_RATE_WINDOW = 600
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32"]
    a, b = _ip(), _ip()

    def via_proxy(client_address: str) -> int:
        return client.get(
            "/verify/NOPE-2026-000001-AAAAA/",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=client_address,
        ).status_code

    assert [via_proxy(a) for _ in range(3)] == [404, 404, 429]
    assert via_proxy(b) == 404


def test_rate_limit_window_ends_and_counts_start_again(rf, monkeypatch):
    from operations import ratelimit

    now = [60 * 16_666_667.0]  # the start of a window
    monkeypatch.setattr(ratelimit, "_clock", lambda: now[0])
    request = rf.get("/verify/x/", REMOTE_ADDR=_ip())
    scope = f"t{uuid.uuid4().hex}"
    first = [ratelimit.hit(request, scope, 2, 60) for _ in range(3)]
    assert [d.allowed for d in first] == [True, True, False]
    assert first[2].retry_after == 61  # the whole window is left (rounded up)
    now[0] += 59
    assert not ratelimit.hit(request, scope, 2, 60).allowed
    now[0] += 1  # the next window
    assert ratelimit.hit(request, scope, 2, 60).allowed


@pytest.mark.django_db
def test_overlong_serial_is_unknown_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert verification.verify("X" * 500).status == "unknown"


def test_migration_gives_old_serials_a_check_part_and_redraws_them(produced, tmp_path):  # noqa: F811
    """Certificates issued with consecutive serials get a random part; their
    PDFs (old serial, old QR code) are deleted so the next batch draws them."""
    import importlib

    from django.apps import apps
    from django.core.files.storage import default_storage

    from awards.models import CertificateBatch

    migration = importlib.import_module("awards.migrations.0002_certificate_serial_check_part")
    cert = produced["cert"]
    old = cert.serial.rsplit("-", 1)[0]
    Certificate.objects.filter(pk=cert.pk).update(serial=old)
    stored = cert.file.name
    assert default_storage.exists(stored)

    migration.add_check_parts(apps, None)

    cert.refresh_from_db()
    assert re.fullmatch(re.escape(old) + r"-[0-9A-HJKMNP-TV-Z]{5}", cert.serial)
    assert not cert.file and not default_storage.exists(stored)
    others = Certificate.objects.exclude(pk=cert.pk)
    assert all(c.file for c in others)  # serials that had a check part are left alone
    # The zips (drawn with old serials) expire: their generated files.
    assert not CertificateBatch.objects.filter(archive__expires_at__gt=timezone.now()).exists()
