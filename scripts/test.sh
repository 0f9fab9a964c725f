#!/usr/bin/env bash
# Run the whole test suite. Without DATABASE_URL the tests use SQLite and the
# PostgreSQL-only tests (concurrency) are skipped; CI sets DATABASE_URL.
# Tests that need Debian packages (CJK fonts, chromium, poppler-utils, nginx)
# install them with apt-get when run as root, or skip saying which (tests/debian.py);
# every skip is listed with its reason at the end (-rs).
REQUIREMENTS=requirements-dev.txt
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/ruff check .
.venv/bin/mypy .
.venv/bin/python manage.py makemigrations --check --dry-run > /dev/null
exec .venv/bin/pytest -rs "$@"
