"""Settings from the environment: declared once, typed, all errors at once,
and documented in the deployment example."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import environment

ROOT = Path(__file__).resolve().parents[2]


def test_production_is_the_default():
    values = environment.read({"DJANGO_SECRET_KEY": "k" * 50, "PORTAL_LEDGER_KEY": "l" * 50})
    assert values["DJANGO_DEBUG"] is False


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(ImproperlyConfigured) as caught:
        environment.read(
            {
                "DJANGO_DEBUG": "perhaps",
                "DATABASE_CONN_MAX_AGE": "sixty",
                "CELERY_VISIBILITY_TIMEOUT": "3",
                "PORTAL_STORAGE": "ftp",
            }
        )
    message = str(caught.value)
    for name in ("DJANGO_DEBUG", "DATABASE_CONN_MAX_AGE", "CELERY_VISIBILITY_TIMEOUT",
                 "PORTAL_STORAGE"):
        assert name in message


def test_production_without_a_secret_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        environment.read({"DJANGO_DEBUG": "0"})


def test_production_without_a_ledger_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="PORTAL_LEDGER_KEY"):
        environment.read({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 50})


def test_s3_needs_a_bucket():
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        environment.read({"DJANGO_DEBUG": "1", "PORTAL_STORAGE": "s3"})


def test_every_variable_is_documented_in_the_deployment_example():
    example = (ROOT / "deploy" / "portal.env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    missing = {v.name for v in environment.VARIABLES} - documented
    assert not missing, f"add to deploy/portal.env.example: {sorted(missing)}"


def test_settings_read_the_environment_only_through_the_declaration():
    source = (ROOT / "portal" / "settings.py").read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source
