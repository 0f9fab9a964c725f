"""Settings for the skills-competition portal.

Everything that differs between a laptop and production comes from the
environment. With nothing set, the portal runs on SQLite with Celery in eager
mode, so the quick start needs no server. ``DATABASE_URL`` and ``REDIS_URL``
switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from portal import spreadsheet_formats
from portal.environment import read as read_environment

BASE_DIR = Path(__file__).resolve().parent.parent
# Every variable is declared, typed and checked in portal/environment.py.
ENV = read_environment()

# Off unless asked for: a forgotten variable must not leave production debugging.
DEBUG: bool = ENV["DJANGO_DEBUG"]
# The development key is only accepted while DEBUG is on; production must set one.
SECRET_KEY = ENV["DJANGO_SECRET_KEY"] or "dev-only-insecure-key-do-not-use-in-production"
# seed_demo creates logins with a published password: only where debugging is
# on, unless this says otherwise (or the command is forced).
PORTAL_ALLOW_DEMO: bool = DEBUG if ENV["PORTAL_ALLOW_DEMO"] is None else ENV["PORTAL_ALLOW_DEMO"]
# The HMAC key of the mark ledger's hash chain (docs/integrity.md). It lives
# only in the environment, never in the database: whoever can write the
# database but lacks the key cannot re-chain an altered history. Keep it, and
# keep it the same, for as long as a competition's ledger must verify; losing
# it makes verify_ledger report every record. The development key is only
# accepted while DEBUG is on (portal/environment.py refuses to start otherwise).
PORTAL_LEDGER_KEY: str = ENV["PORTAL_LEDGER_KEY"] or "dev-only-ledger-key-do-not-use-in-production"

# The HMAC key of the tablet PINs (docs/tablet-pins.md), outside the database
# like the ledger's: a stolen database then cannot be used to test the 10^6
# possible PINs. Unset, it is derived from SECRET_KEY (already required in
# production) under its own label, so it is never the secret key itself.
PORTAL_PIN_KEY: str = (
    ENV["PORTAL_PIN_KEY"]
    or hmac.new(SECRET_KEY.encode("utf-8"), b"portal.tablets.pin-key", hashlib.sha256).hexdigest()
)

ALLOWED_HOSTS: list[str] = ENV["DJANGO_ALLOWED_HOSTS"]
CSRF_TRUSTED_ORIGINS: list[str] = ENV["DJANGO_CSRF_TRUSTED_ORIGINS"]

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "axes",
    "simple_history",
    # The authorization layer (django-rules): template tags, and each app's
    # permissions.py registered when the apps are ready (docs/roles.md).
    "portal.apps.AuthzConfig",
    "competitions",
    "teams",
    "files",
    "scoring",
    "awards",
    "tablets",
    "appeals",
    "interchange",
    "results",
    "accounts",
    "draws",
    "sector",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Audit trail (django-simple-history): records who made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must come last: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams.roles.role_context",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        ENV["DATABASE_URL"] or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=ENV["DATABASE_CONN_MAX_AGE"],
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    ENV["DATABASE_PREPARE_THRESHOLD"] is not None
):
    # Django's PostgreSQL options: parameters bound on the server, and
    # psycopg keeps a statement prepared once it ran this many times on the
    # connection (the mark path's few statements, docs/integrity.md).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=ENV["DATABASE_PREPARE_THRESHOLD"]
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = ENV["REDIS_URL"]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The named permissions of docs/roles.md (user.has_perm, {% has_perm %}).
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes), see docs/integrity.md: five failures for
# one username, from any addresses, lock that username; thirty failures from
# one address, whatever the usernames, lock that address; fifteen minutes.
# Axes has one limit for all parameters: portal.login_throttle's handler
# applies the higher one to the address.
AXES_FAILURE_LIMIT: int = ENV["AXES_FAILURE_LIMIT"]
PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT: int = ENV["PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT"]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "portal.login_throttle.LoginThrottleHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Audit trail of athletes and entries (django-simple-history): the reason an
# organiser gives for a change after registration closed can be long.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# No "revert" from the history pages: a correction goes through the change
# form, where the rules and the reason apply.
SIMPLE_HISTORY_REVERT_DISABLED = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(ENV["DJANGO_STATIC_ROOT"] or BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(ENV["DJANGO_MEDIA_ROOT"] or BASE_DIR / "var" / "media")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Celery: eager (in-process) only when no broker is configured.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# acks_late covers a killed pool process; a whole worker killed (SIGKILL, a
# machine lost) leaves its messages "unacked" in Redis until this timeout, then
# another worker gets them. Redis's default is an hour; every task here is
# idempotent and short (a certificate chunk takes seconds), so a minute.
# Generated files are kept with an expiry; beat deletes what has expired.
CELERY_BEAT_SCHEDULE = {
    # Workbooks and certificate zips alike (files.GeneratedFile).
    "purge-expired-files": {"task": "files.purge_expired", "schedule": 3600.0},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ENV["CELERY_VISIBILITY_TIMEOUT"]}
# A task still running when the visibility timeout passes would be delivered a
# second time, so every task is stopped well before it: soft limit (raises
# SoftTimeLimitExceeded, the task can clean up) then hard limit. A task that
# must run longer acknowledges early (acks_late=False) and sets its own limits.
CELERY_TASK_SOFT_TIME_LIMIT = max(5, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] * 3 // 4)
CELERY_TASK_TIME_LIMIT = max(10, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] * 9 // 10)
CELERY_TIMEZONE = TIME_ZONE

IMPORT_EXPORT_USE_TRANSACTIONS = True
# CSV and XLSX only, both written so that no spreadsheet evaluates user text
# (portal/spreadsheet_formats.py).
IMPORT_EXPORT_FORMATS = spreadsheet_formats.FORMATS
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Production hardening: on whenever DEBUG is off, so `check --deploy` is clean.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = ENV["DJANGO_SECURE_SSL_REDIRECT"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = ENV["DJANGO_HSTS_SECONDS"]
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Judges' sessions last a competition day.
SESSION_COOKIE_AGE = ENV["DJANGO_SESSION_AGE"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": ENV["LOG_LEVEL"]},
}

PORTAL_NAME = _("Skills Competition Portal")

# --- storage (deploy) ---
# Generated files (certificates, exports) and uploads go through Django's
# storage API only. The local file system (MEDIA_ROOT) suits one machine; when
# web and worker processes run on several machines they must all see the same
# files, so PORTAL_STORAGE=s3 switches to any S3-compatible store (AWS S3,
# MinIO, Ceph RGW, Alibaba OSS, ...) through django-storages.
PORTAL_STORAGE: str = ENV["PORTAL_STORAGE"]
if PORTAL_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ENV["AWS_STORAGE_BUCKET_NAME"],
            # Unset -> AWS itself; MinIO and friends need their URL here.
            "endpoint_url": ENV["AWS_S3_ENDPOINT_URL"] or None,
            "region_name": ENV["AWS_S3_REGION_NAME"] or None,
            # Unset keys -> boto3's own chain (instance role, ~/.aws, ...).
            "access_key": ENV["AWS_ACCESS_KEY_ID"] or None,
            "secret_key": ENV["AWS_SECRET_ACCESS_KEY"] or None,
            # "path" for most self-hosted stores, which have no per-bucket DNS.
            "addressing_style": ENV["AWS_S3_ADDRESSING_STYLE"] or None,
            "signature_version": ENV["AWS_S3_SIGNATURE_VERSION"],
            # A prefix inside the bucket, so one bucket can hold several portals.
            "location": ENV["AWS_LOCATION"],
            # Certificates carry names: objects stay private and the portal's
            # own views (which check roles) hand them out; URLs, if ever used,
            # are short-lived signed ones.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": ENV["AWS_QUERYSTRING_EXPIRE"],
            # Same rule as FileSystemStorage: never silently replace a file
            # with the same name (callers that mean to replace delete first).
            "file_overwrite": False,
        },
    }
# Backups and restores of the database and the stored files (operations app).
INSTALLED_APPS.append("operations")
# --- end storage (deploy) ---

# --- uploads ---
# Bounds of every uploaded spreadsheet, checked before it is parsed and while
# it is read (portal/spreadsheets.py, docs/uploads.md). The defaults admit the
# national event workbook (4,059 entries, ~490,000 mark rows in one sheet).
PORTAL_SPREADSHEET_MAX_FILE_BYTES: int = ENV["PORTAL_SPREADSHEET_MAX_FILE_BYTES"]
PORTAL_SPREADSHEET_MAX_PARTS: int = ENV["PORTAL_SPREADSHEET_MAX_PARTS"]
PORTAL_SPREADSHEET_MAX_PART_BYTES: int = ENV["PORTAL_SPREADSHEET_MAX_PART_BYTES"]
PORTAL_SPREADSHEET_MAX_STRINGS_BYTES: int = ENV["PORTAL_SPREADSHEET_MAX_STRINGS_BYTES"]
PORTAL_SPREADSHEET_MAX_TOTAL_BYTES: int = ENV["PORTAL_SPREADSHEET_MAX_TOTAL_BYTES"]
PORTAL_SPREADSHEET_MAX_RATIO: int = ENV["PORTAL_SPREADSHEET_MAX_RATIO"]
PORTAL_SPREADSHEET_MAX_ROWS: int = ENV["PORTAL_SPREADSHEET_MAX_ROWS"]
PORTAL_SPREADSHEET_MAX_COLUMNS: int = ENV["PORTAL_SPREADSHEET_MAX_COLUMNS"]
PORTAL_SPREADSHEET_MAX_CELLS: int = ENV["PORTAL_SPREADSHEET_MAX_CELLS"]
# Where a browser upload waits for the import worker (never under MEDIA_ROOT).
PORTAL_IMPORTS_ROOT: str = ENV["PORTAL_IMPORTS_ROOT"]
# --- end uploads ---

# --- security (deploy) ---
# Content-Security-Policy (portal/csp.py; Django 5.2 has none built in).
# Scripts and styles come from our own static files only. A template that
# really needs an inline <script>/<style> marks it with
# nonce="{{ request.csp_nonce }}"; the nonce is added to the header only on
# responses that used it.
MIDDLEWARE.append("portal.csp.ContentSecurityPolicyMiddleware")
PORTAL_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
}
# The only exception: Django's admin (organisers only) writes one inline
# <style> on change lists without actions, and django-import-export's export
# page uses style="" attributes. Both are cosmetic; inline styles cannot run
# code, and admin scripts stay 'self'-only.
PORTAL_CSP_PATH_OVERRIDES: dict[str, dict[str, list[str]]] = {
    "/admin/": {"style-src": ["'self'", "'unsafe-inline'"]},
}
# Report-only while developing (violations show in the browser console but
# nothing breaks); enforced in production. PORTAL_CSP_REPORT_ONLY=1 lets a
# production site try a stricter policy first.
PORTAL_CSP_REPORT_ONLY: bool = (
    DEBUG if ENV["PORTAL_CSP_REPORT_ONLY"] is None else ENV["PORTAL_CSP_REPORT_ONLY"]
)

# Login throttling behind nginx: REMOTE_ADDR is then nginx's address, so every
# tablet would share one address and five wrong PINs at one station would lock
# a username for the whole venue. The client address is taken from
# X-Forwarded-For, but only when the request came from a trusted proxy, and
# only the entries those proxies appended (a client can write its own header).
PORTAL_TRUSTED_PROXIES: list[str] = ENV["PORTAL_TRUSTED_PROXIES"]
AXES_CLIENT_IP_CALLABLE = "operations.client_ip.client_ip"
# --- end security (deploy) ---

# --- certificates and verification ---
# The portal's public address (scheme and host, optionally a port and path
# prefix), e.g. https://portal.example.org. Certificates' QR codes and their
# verification URLs are built on it, so it is required when DEBUG is off
# (portal/checks.py). Unset while developing: http://127.0.0.1:8000, and
# `check --deploy` says so.
PORTAL_BASE_URL_DEFAULTED: bool = not ENV["PORTAL_BASE_URL"] and DEBUG
PORTAL_BASE_URL: str = ENV["PORTAL_BASE_URL"] or ("http://127.0.0.1:8000" if DEBUG else "")
# /verify/<serial>/ answers at most this many requests per client address in
# each window of this many seconds, then 429 (operations/ratelimit.py).
PORTAL_VERIFY_RATE_LIMIT: int = ENV["PORTAL_VERIFY_RATE_LIMIT"]
PORTAL_VERIFY_RATE_WINDOW: int = ENV["PORTAL_VERIFY_RATE_WINDOW"]
# --- end certificates and verification ---
