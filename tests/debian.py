"""Debian packages some tests need (CJK fonts, Chromium, poppler, nginx).

``require("fonts-arphic-uming", ...)`` returns when every package is there.
When one is missing and the tests run as root on a machine with apt-get, it
installs them (``apt-get update`` at most once per run, and only when an
install needs it); otherwise the test is skipped with a reason naming the
packages, which ``pytest -rs`` prints (``scripts/test.sh`` passes it).

``PORTAL_TEST_APT=0`` turns installing off (the tests then skip). Several
pytest-xdist workers may ask at once: a file lock makes them take turns, and
each package is tried once per process.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

FONTS = "/usr/share/fonts/truetype"


def _file(path: str) -> Callable[[], bool]:
    return lambda: Path(path).exists()


def _commands(*names: str) -> Callable[[], bool]:
    def present() -> bool:
        path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
        return all(shutil.which(n, path=path) for n in names)

    return present


# package → how to tell it is installed
PRESENT: dict[str, Callable[[], bool]] = {
    "fonts-arphic-uming": _file(f"{FONTS}/arphic/uming.ttc"),
    "fonts-arphic-ukai": _file(f"{FONTS}/arphic/ukai.ttc"),
    "fonts-wqy-zenhei": _file(f"{FONTS}/wqy/wqy-zenhei.ttc"),
    "poppler-utils": _commands("pdffonts", "pdftotext", "pdftoppm"),
    "chromium": _file("/usr/bin/chromium"),
    "nginx-light": _commands("nginx"),
    "openssl": _commands("openssl"),
    "curl": _commands("curl"),
    "zbar-tools": _commands("zbarimg"),
}
CERTIFICATE_FONTS = ("fonts-arphic-uming", "fonts-arphic-ukai", "fonts-wqy-zenhei")

LOCK = Path("/tmp/portal-tests-apt.lock")
APT_TIMEOUT = 1200  # seconds; Chromium is large
_tried: set[str] = set()
_updated = False


def missing(packages: tuple[str, ...]) -> list[str]:
    return [p for p in packages if not PRESENT[p]()]


def can_install() -> tuple[bool, str]:
    if os.environ.get("PORTAL_TEST_APT", "1") == "0":
        return False, "PORTAL_TEST_APT=0"
    if not shutil.which("apt-get"):
        return False, "no apt-get on this machine"
    if os.geteuid() != 0:
        return False, "not running as root"
    return True, ""


def _apt(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, env=env, timeout=APT_TIMEOUT
    )


def install(packages: list[str]) -> str:
    """Install with apt-get; '' when done, else why not."""
    global _updated
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing
        todo = [p for p in packages if not PRESENT[p]()]
        if not todo:
            return ""
        args = ("install", "-y", "--no-install-recommends", *todo)
        done = _apt(*args)
        if done.returncode != 0 and not _updated:
            # Package lists missing or stale (a fresh container has none).
            _updated = True
            _apt("update")
            done = _apt(*args)
    if done.returncode != 0:
        return f"apt-get install {' '.join(todo)} failed: {done.stderr.strip()[-300:]}"
    return ""


def require(*packages: str) -> None:
    """Skip the calling test unless these Debian packages are (or can be) installed."""
    absent = missing(packages)
    if not absent:
        return
    command = f"apt-get install {' '.join(absent)}"
    allowed, why = can_install()
    if not allowed:
        pytest.skip(f"needs Debian packages: {command} ({why})")
    if set(absent) <= _tried:
        pytest.skip(f"needs Debian packages: {command} (installing failed earlier in this run)")
    _tried.update(absent)
    try:
        problem = install(absent)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"{command} failed: {exc}"
    still = missing(packages)
    if still:
        pytest.skip(problem or f"needs Debian packages: apt-get install {' '.join(still)}")
