"""Natural order: text with numbers sorts by the numbers' values ("2" < "10",
"1.9" < "1.10", "A2" < "A10"), the one ordering of codes and numbers that
people type (docs/formats.md)."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """A sort key: the text split into runs of digits (compared as numbers)
    and of other characters, then the text itself, so that "02" and "2" have
    an order too. Parts alternate text, number, text …, so two keys never
    compare a number with text."""
    parts = tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(text)))
    return parts, text
