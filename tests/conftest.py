import pytest


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
