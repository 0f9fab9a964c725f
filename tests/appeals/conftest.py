import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    # Attachments land in the test's own directory, never in var/.
    settings.APPEALS_PRIVATE_ROOT = str(tmp_path / "appeals")
