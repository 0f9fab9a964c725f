"""Production settings pass Django's deployment checks with no warning."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests allow sync ORM calls from Playwright's event loop by
    # setting DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_a_key_and_hosts():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        PORTAL_LEDGER_KEY="a-long-random-production-ledger-key-0123456789",
        DJANGO_ALLOWED_HOSTS="portal.example.org",
        PORTAL_BASE_URL="https://portal.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "PORTAL_LEDGER_KEY": "y" * 20 + "a-long-random-ledger-key-0123456789",
}


def test_production_without_a_base_url_fails_its_checks():
    """Certificates' QR codes need the portal's public address: without it a
    production site's checks (run by migrate too) fail, and check --deploy
    reports it even on a developer's machine."""
    for value in ("", "portal.example.org", "ftp://portal.example.org"):
        result = run_manage("check", PORTAL_BASE_URL=value, **PRODUCTION)
        assert result.returncode != 0, value
        assert "portal.E001" in result.stderr and "PORTAL_BASE_URL" in result.stderr
    # A developer's machine: a local default, which check --deploy reports.
    deploy = run_manage("check", "--deploy", PORTAL_BASE_URL="", DJANGO_DEBUG="1")
    assert deploy.returncode != 0
    assert "portal.E002" in deploy.stderr and "portal.E001" not in deploy.stderr
    plain = run_manage("check", PORTAL_BASE_URL="", DJANGO_DEBUG="1")
    assert plain.returncode == 0, plain.stderr  # a developer needs none


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["DJANGO_DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_ledger_key():
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_LEDGER_KEY"}
    env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="y" * 60)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PORTAL_LEDGER_KEY" in result.stderr
