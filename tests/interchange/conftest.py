import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The builders create several users per skill; PBKDF2 would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
