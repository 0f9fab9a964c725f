"""The content-security policy allows scripts and styles from our static files
only. An inline <script>, <style> or style="" in a template would silently
stop working in production; this test finds them first."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>|\sstyle=\"", re.I)


def templates() -> list[Path]:
    return sorted(ROOT.glob("templates/**/*.html"))


def test_there_are_templates_to_check():
    assert len(templates()) > 40


def test_no_template_has_inline_scripts_or_styles():
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
        for p in templates()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        # The policy lets /admin/ pages use inline styles (Django's own admin
        # needs them), never inline scripts.
        if INLINE_SCRIPT.search(line) or ("admin" not in p.parts and INLINE_STYLE.search(line))
    ]
    assert offenders == []


def test_the_checker_catches_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert INLINE_STYLE.search('<div style="width:3%">')
    assert INLINE_STYLE.search("<style>")
