import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM refuses
# to run there without this (browser tests only touch the ORM between steps).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    # Generated workbooks land in the test's own directory.
    settings.MEDIA_ROOT = str(tmp_path / "media")
