import pytest


@pytest.fixture(autouse=True)
def _english_off(settings):
    # Tests run in the default language (Chinese) unless a test switches.
    settings.LANGUAGE_CODE = "zh-hans"


def pytest_configure(config):
    # Tests check Chinese labels: build the catalogues from the .po sources.
    from portal.i18n import compile_all

    compile_all()
