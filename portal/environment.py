"""Every setting the portal takes from the environment, declared once.

Each variable has a type, a default and a line of help. ``read()`` parses them
all and reports every bad value at once (a typo in one should not hide the
next), so a misconfigured deployment stops at start with one clear message
instead of failing on the first request that needs the value.
``deploy/portal.env.example`` documents the same variables (a test keeps the
two in step) and ``settings.py`` reads the environment only through here.

Why not django-environ: it casts values one at a time and stops at the first
bad one, and it keeps no table we can document and test against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _optional_bool(text: str) -> bool | None:
    return None if not text.strip() else _bool(text)


def _int(text: str) -> int:
    return int(text.strip())


def _str(text: str) -> str:
    return text.strip()


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


PARSERS: dict[str, Callable[[str], Any]] = {
    "bool": _bool,
    "bool?": _optional_bool,  # unset: follows another setting
    "int": _int,
    "str": _str,
    "list": _list,
}


@dataclass(frozen=True)
class Var:
    name: str
    kind: str  # a key of PARSERS
    default: str  # as it would be written in the environment
    help: str
    minimum: int | None = None  # for "int"
    choices: tuple[str, ...] = ()  # for "str"


VARIABLES: tuple[Var, ...] = (
    # --- Django core ---
    Var("DJANGO_DEBUG", "bool", "0", "1 only on a developer's machine; off in production"),
    Var("DJANGO_SECRET_KEY", "str", "", "secret key; required when DJANGO_DEBUG is off"),
    Var("PORTAL_LEDGER_KEY", "str", "", "HMAC key of the mark ledger; required when "
        "DJANGO_DEBUG is off; never change it while a ledger must verify"),
    Var("PORTAL_PIN_KEY", "str", "", "HMAC key of the tablet PINs (docs/tablet-pins.md); "
        "unset: derived from DJANGO_SECRET_KEY, so changing that key means new PINs"),
    Var("DJANGO_ALLOWED_HOSTS", "list", "localhost,127.0.0.1,[::1]", "host names served"),
    Var("DJANGO_CSRF_TRUSTED_ORIGINS", "list", "", "https origins allowed to post forms"),
    Var("DJANGO_SECURE_SSL_REDIRECT", "bool", "1", "redirect http to https (production)"),
    Var("DJANGO_HSTS_SECONDS", "int", str(60 * 60 * 24 * 365), "HSTS max-age", minimum=0),
    Var("DJANGO_SESSION_AGE", "int", str(60 * 60 * 14), "session length, seconds", minimum=60),
    Var("DJANGO_STATIC_ROOT", "str", "", "collectstatic target (default var/static)"),
    Var("DJANGO_MEDIA_ROOT", "str", "", "uploaded and generated files (default var/media)"),
    Var("LOG_LEVEL", "str", "WARNING", "root log level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    # --- database, cache, Celery ---
    Var("DATABASE_URL", "str", "", "database URL (default: SQLite file db.sqlite3)"),
    Var("DATABASE_CONN_MAX_AGE", "int", "60", "seconds a connection is kept", minimum=0),
    Var("REDIS_URL", "str", "", "Redis for Celery and the cache; unset: eager Celery"),
    Var("CELERY_VISIBILITY_TIMEOUT", "int", "60", "seconds before an unacknowledged task is "
        "delivered again; task time limits stay below it", minimum=10),
    # --- portal ---
    Var("PORTAL_ALLOW_DEMO", "bool?", "", "allow seed_demo (default: as DJANGO_DEBUG)"),
    Var("PORTAL_STORAGE", "str", "local", "generated files: local disk or S3-compatible",
        choices=("local", "s3")),
    Var("PORTAL_TRUSTED_PROXIES", "list", "127.0.0.1/32,::1/128",
        "proxies whose X-Forwarded-For is believed"),
    Var("PORTAL_CSP_REPORT_ONLY", "bool?", "", "CSP report-only (default: as DJANGO_DEBUG)"),
    Var("AXES_FAILURE_LIMIT", "int", "5",
        "failed password logins of one username (any address) before a lockout", minimum=1),
    Var("PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", "int", "30",
        "failed password logins from one address (any username) before a lockout", minimum=1),
    Var("PORTAL_BASE_URL", "str", "", "public address for certificates' QR codes; required "
        "when DJANGO_DEBUG is off (system check portal.E001)"),
    Var("PORTAL_VERIFY_RATE_LIMIT", "int", "60", "/verify/ requests per client address per "
        "window", minimum=1),
    Var("PORTAL_VERIFY_RATE_WINDOW", "int", "60", "/verify/ rate-limit window, seconds",
        minimum=1),
    # --- uploaded workbooks (portal/spreadsheets.py, docs/uploads.md) ---
    Var("PORTAL_SPREADSHEET_MAX_FILE_BYTES", "int", str(64 * 1024 * 1024),
        "largest upload, as sent (packed)", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_PARTS", "int", "500", "files inside an .xlsx", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_PART_BYTES", "int", str(256 * 1024 * 1024),
        "one part of an .xlsx, unpacked", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_STRINGS_BYTES", "int", str(64 * 1024 * 1024),
        "the shared strings part, unpacked", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_TOTAL_BYTES", "int", str(512 * 1024 * 1024),
        "all parts of an .xlsx, unpacked", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_RATIO", "int", "100",
        "unpacked / packed size of a part over 1 MB (zip bombs)", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_ROWS", "int", "1000000", "rows per sheet", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_COLUMNS", "int", "200", "columns per sheet", minimum=1),
    Var("PORTAL_SPREADSHEET_MAX_CELLS", "int", "3000000", "cells per sheet", minimum=1),
    Var("PORTAL_IMPORTS_ROOT", "str", "",
        "where a browser upload waits for the import worker (default "
        "<MEDIA_ROOT>/../private/imports; unused with PORTAL_STORAGE=s3)"),
    # --- S3 (PORTAL_STORAGE=s3) ---
    Var("AWS_STORAGE_BUCKET_NAME", "str", "", "bucket; required with PORTAL_STORAGE=s3"),
    Var("AWS_S3_ENDPOINT_URL", "str", "", "endpoint of a non-AWS store (MinIO, OSS…)"),
    Var("AWS_S3_REGION_NAME", "str", "", "region"),
    Var("AWS_ACCESS_KEY_ID", "str", "", "access key (unset: boto3's own chain)"),
    Var("AWS_SECRET_ACCESS_KEY", "str", "", "secret key (unset: boto3's own chain)"),
    Var("AWS_S3_ADDRESSING_STYLE", "str", "", "path or virtual", choices=("", "path", "virtual")),
    Var("AWS_S3_SIGNATURE_VERSION", "str", "s3v4", "signature version"),
    Var("AWS_LOCATION", "str", "", "prefix inside the bucket"),
    Var("AWS_QUERYSTRING_EXPIRE", "int", "300", "signed URL lifetime, seconds", minimum=1),
)


def read(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The parsed values of every declared variable, or ImproperlyConfigured
    naming every variable that is wrong."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    errors: list[str] = []
    for var in VARIABLES:
        text = environ.get(var.name, var.default)
        try:
            value = PARSERS[var.kind](text)
        except ValueError as exc:
            errors.append(f"{var.name}={text!r}: {exc} ({var.help})")
            continue
        if var.minimum is not None and value < var.minimum:
            errors.append(f"{var.name}={text!r}: must be at least {var.minimum}")
        if var.choices and value not in var.choices:
            errors.append(f"{var.name}={text!r}: must be one of {', '.join(var.choices)}")
        values[var.name] = value
    if not errors:
        errors.extend(_combined_errors(values))
    if errors:
        raise ImproperlyConfigured(
            "环境变量有误 / bad environment settings:\n  " + "\n  ".join(errors)
        )
    return values


def _combined_errors(values: Mapping[str, Any]) -> list[str]:
    errors = []
    if not values["DJANGO_DEBUG"] and not values["DJANGO_SECRET_KEY"]:
        errors.append("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
                      "(DJANGO_DEBUG=1 on a developer's machine)")
    if not values["DJANGO_DEBUG"] and not values["PORTAL_LEDGER_KEY"]:
        errors.append("PORTAL_LEDGER_KEY must be set when DJANGO_DEBUG is off "
                      "(the mark ledger's HMAC key: docs/integrity.md)")
    if values["PORTAL_STORAGE"] == "s3" and not values["AWS_STORAGE_BUCKET_NAME"]:
        errors.append("PORTAL_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    return errors
