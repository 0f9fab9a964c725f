"""One cell of a scheme sheet as text or as an exact number."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from portal import spreadsheets

from .data import MAX_LEN, SchemeData
from .messages import TOO_LONG


def is_formula(value: Any) -> bool:
    """A formula cell (read as its text by ``portal.spreadsheets``): never a
    stated value. Text typed with a leading ``=`` is text."""
    return spreadsheets.is_formula(value)


def as_text(value: Any) -> str:
    """A cell as text: empty strings are empty, numbers lose a spurious '.0'
    (Excel hands IDs such as 1 over as 1.0). A formula reads as its own text
    (a description typed as "=…" is that text, not nothing); where a number
    is expected the callers check ``is_formula`` first."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value).strip()


def as_number(value: Any) -> Decimal | None:
    """The exact number in a cell; raises ValueError when it holds something else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        # repr gives the shortest text that reads back as the same float: what was typed.
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def shown(value: Any) -> str:
    return as_text(value) or str(value)


def norm(value: Any) -> str:
    """Header text compared loosely: case and line breaks do not matter."""
    return " ".join(as_text(value).lower().split())


def check_length(data: SchemeData, row: int | None, key: str, value: str) -> None:
    limit = MAX_LEN.get(key)
    if limit is not None and len(value) > limit:
        data.problem(row, key, TOO_LONG, max=limit, length=len(value))
