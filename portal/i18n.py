"""Compile every ``locale/*/LC_MESSAGES/django.po`` to ``.mo`` with Babel.

Django's ``compilemessages`` needs GNU gettext on the machine; Babel is a
Python package, so a fresh virtualenv can build the Chinese catalogues. Each
app keeps its own catalogue (``<app>/locale/zh_Hans/...``) so that work on one
app never edits another's file.

The portal's app config calls ``compile_stale()`` when Django starts, so
``pip install`` + ``manage.py runserver`` (or gunicorn, or pytest) serves
Chinese without running any script: a ``.mo`` that is missing or older than
its ``.po`` is rebuilt. The ``.mo`` files are build output and stay out of
git. Each one is written to a temporary file and renamed into place, so two
processes starting together never read a half-written catalogue.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def catalogues() -> list[Path]:
    return sorted(
        p
        for p in BASE_DIR.glob("**/locale/*/LC_MESSAGES/django.po")
        if ".venv" not in p.parts and "site-packages" not in p.parts
    )


def is_stale(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    return not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime


def compile_one(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=po_path.parent.parent.name)
    fd, tmp = tempfile.mkstemp(dir=mo_path.parent, prefix=".django-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo_path


def compile_all(force: bool = False) -> list[Path]:
    """Compile stale catalogues (all of them with ``force``); returns the ones written."""
    return [compile_one(po) for po in catalogues() if force or is_stale(po)]


def compile_stale() -> list[Path]:
    """At start-up: rebuild what is stale; a read-only install logs and goes
    on with the catalogues it has (English where one is missing)."""
    try:
        return compile_all()
    except OSError as exc:
        log.warning("Translation catalogues could not be compiled: %s", exc)
        return []


if __name__ == "__main__":
    for path in compile_all(force=True):
        print(f"compiled {path.relative_to(BASE_DIR)}")
