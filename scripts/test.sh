#!/usr/bin/env bash
# Run the whole test suite. Without DATABASE_URL the tests use SQLite and the
# PostgreSQL-only tests (concurrency) are skipped; CI sets DATABASE_URL.
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/ruff check .
.venv/bin/python manage.py makemigrations --check --dry-run > /dev/null
exec .venv/bin/pytest "$@"
