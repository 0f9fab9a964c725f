"""Settings for the test run (pytest's DJANGO_SETTINGS_MODULE): the portal's
settings default to production (debugging off, a secret key required), so the
tests declare a developer's machine first. Tests of production settings start
a process with DJANGO_DEBUG=0 and portal.settings."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from portal.settings import *  # noqa: F403
