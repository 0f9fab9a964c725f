"""Compile every ``locale/*/LC_MESSAGES/django.po`` to ``.mo`` with Babel.

Django's ``compilemessages`` needs GNU gettext on the machine; Babel is a
Python package, so a fresh virtualenv can build the Chinese catalogues. Each
app keeps its own catalogue (``<app>/locale/zh_Hans/...``) so that work on one
app never edits another's file.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parent.parent


def catalogues() -> list[Path]:
    return sorted(
        p
        for p in BASE_DIR.glob("**/locale/*/LC_MESSAGES/django.po")
        if ".venv" not in p.parts and "site-packages" not in p.parts
    )


def compile_all(force: bool = False) -> list[Path]:
    """Compile stale catalogues; returns the ones written."""
    written = []
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all(force=True):
        print(f"compiled {path.relative_to(BASE_DIR)}")
