import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests import debian

# Hypothesis: "dev" explores with fresh random examples on every run; "ci" is
# derandomized (a red CI run reproduces exactly), prints the falsifying
# example's blob, and has no per-example deadline on a busy shared machine.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_default_profile = "ci" if os.environ.get("CI") else "dev"
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default_profile))



@pytest.fixture(autouse=True)
def _english_off(settings):
    # Tests run in the default language (Chinese) unless a test switches.
    settings.LANGUAGE_CODE = "zh-hans"


def pytest_configure(config):
    # Tests check Chinese labels: build the catalogues from the .po sources.
    # Django may already have cached a catalogue loaded before this ran, so
    # drop the cache when anything was (re)compiled.
    from django.utils.translation import trans_real

    from portal.i18n import compile_all

    if compile_all():
        from asgiref.local import Local

        trans_real._translations = {}
        trans_real._default = None
        trans_real._active = Local()


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Run tasks in-process even when REDIS_URL is set (as in CI): tests check
    what the tasks do; tests marked ``worker`` start a real worker instead."""
    from portal.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def cjk_fonts():
    """Certificates are drawn in a TrueType CJK font: skip (or install it)
    when the machine has none of the ones awards.certificates knows."""
    from awards import certificates

    if not certificates.available_families():
        debian.require("fonts-arphic-uming")
        certificates._font.cache_clear()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium for the browser tests (driven by Playwright)."""
    pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt")
    debian.require("chromium")
    return "/usr/bin/chromium"
