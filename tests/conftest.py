import pytest


@pytest.fixture(autouse=True)
def _english_off(settings):
    # Tests run in the default language (Chinese) unless a test switches.
    settings.LANGUAGE_CODE = "zh-hans"
