"""How a mark is written on the tablet and in its answers."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | None) -> str:
    """A mark as the tablet shows and sends it: '2', '0.5', '12.25'."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"
