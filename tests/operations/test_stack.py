"""The production stack on loopback, started by deploy/run-all.sh.

nginx (TLS, static files) -> gunicorn (2 workers) -> a PostgreSQL database of
our own; 2 Celery workers and beat on the shared Redis, in a database number
of our own (OPERATIONS_TEST_REDIS_DB, default 5). Checks /healthz through
nginx, a static file served by nginx itself, an organiser's login through the
login form (CSRF, secure cookies over HTTPS), and that both Celery workers
answer a ping; then stops everything. Bounded: about 90 s at most.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests import debian

from .helpers import (
    ROOT,
    base_env,
    database_url,
    drop_database,
    free_port,
    manage,
    ok,
    pg_unavailable,
    recreate_database,
    redis_unavailable,
    redis_url,
)

pytestmark = pytest.mark.worker

DB = f"portal_ops_stack_{os.getpid()}"
BUDGET = 90.0
ORGANISER = """
from django.contrib.auth.models import Group, User
u = User.objects.create_user("ops-organiser", password="ops-organiser-pass-2026")
u.groups.add(Group.objects.get_or_create(name="organiser")[0])
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def stack(tmp_path: Path):
    debian.require("nginx-light", "openssl", "curl")  # installs them as root, or skips
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    redis = redis_url(int(os.environ.get("OPERATIONS_TEST_REDIS_DB", "5")))
    reason = redis_unavailable(redis)
    if reason:
        pytest.skip(reason)

    started = time.monotonic()
    recreate_database(DB)
    port = free_port()
    env = base_env(
        DATABASE_URL=database_url(DB),
        REDIS_URL=redis,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="stack-test-" + "s" * 50,
        PORTAL_LEDGER_KEY="stack-test-ledger-" + "l" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PORTAL_BASE_URL="https://127.0.0.1",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        PORTAL_RUN_DIR=str(tmp_path / "run"),
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        CELERY_NODE_PREFIX=f"opsstack{os.getpid()}",
        PORTAL_START_TIMEOUT="45",
        PORTAL_STOP_TIMEOUT="15",
        LOG_LEVEL="WARNING",
        PYTHON=sys.executable,
    )
    run_all = str(ROOT / "deploy" / "run-all.sh")
    try:
        start = subprocess.run(
            [run_all, "start", "--port", str(port), "--workers", "2", "--env-file", os.devnull],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=75,
        )
        assert start.returncode == 0, f"run-all.sh failed:\n{start.stdout}\n{start.stderr}"
        yield {"env": env, "base": f"https://127.0.0.1:{port}", "run": tmp_path / "run",
               "static": tmp_path / "static", "started": started}  # fmt: skip
    finally:
        stop = subprocess.run(
            [run_all, "stop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=40
        )
        assert stop.returncode == 0, stop.stderr
        assert not list((tmp_path / "run").glob("*.pid")), "pid files left behind"
        drop_database(DB)


def _opener(jar: http.cookiejar.CookieJar | None = None, follow: bool = True):
    # The stack makes its own self-signed certificate for loopback.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    handlers: list = [urllib.request.HTTPSHandler(context=ctx)]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    if not follow:
        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers)


def _get(opener, url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    try:
        return opener.open(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc


def test_run_all_starts_the_stack_behind_nginx_and_stops_it(stack):
    base, env = stack["base"], stack["env"]
    plain = _opener()

    # Django through nginx, with the production headers.
    health = _get(plain, f"{base}/healthz")
    assert health.status == 200
    assert json.loads(health.read()) == {"status": "ok"}
    assert health.headers["Server"].startswith("nginx")
    assert "max-age=31536000" in health.headers["Strict-Transport-Security"]
    assert health.headers["Content-Security-Policy"].startswith("default-src 'self'")

    # A static file comes from nginx itself (no Django headers), gzipped, and
    # its hashed name (what templates link to) is cacheable for good.
    manifest = json.loads((stack["static"] / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    css = _get(plain, f"{base}/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert css.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert "Content-Security-Policy" not in css.headers
    assert "Content-Language" not in css.headers  # Django's LocaleMiddleware never saw it

    # An organiser logs in through the form: CSRF token and secure cookies over HTTPS.
    ok(manage(env, "shell", "-v", "0", "-c", ORGANISER))
    jar = http.cookiejar.CookieJar()
    browser = _opener(jar, follow=False)
    form = _get(browser, f"{base}/accounts/login/")
    assert form.status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.read().decode())
    assert token, "no CSRF token in the login form"
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "ops-organiser",
            "password": "ops-organiser-pass-2026",
        }
    ).encode()
    login = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    try:
        answer = browser.open(login, timeout=10)
    except urllib.error.HTTPError as exc:
        answer = exc
    assert answer.status == 302, answer.read()[:2000]
    cookies = {c.name: c for c in jar}
    assert cookies["sessionid"].secure and cookies["csrftoken"].secure
    admin = _get(browser, f"{base}/admin/")
    assert admin.status == 200  # organisers-only console, reached through nginx

    # Both Celery workers answer; beat runs.
    prefix = env["CELERY_NODE_PREFIX"]
    nodes: set[str] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(nodes) < 2:
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "portal", "inspect", "ping", "--json",
             "--timeout", "3"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        for line in ping.stdout.splitlines():
            if line.startswith("{"):
                nodes |= {n for n in json.loads(line) if n.startswith(f"{prefix}-w")}
    assert len(nodes) == 2, f"workers answering: {sorted(nodes)}"
    status = subprocess.run(
        [str(ROOT / "deploy/run-all.sh"), "status"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert status.returncode == 0, status.stdout
    assert "beat: running" in status.stdout

    assert time.monotonic() - stack["started"] < BUDGET
