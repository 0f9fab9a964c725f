"""A mark's value: the one parser every path uses (docs/integrity.md,
"canonical value")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .models import JUDGEMENT_SCORES, Aspect, AspectKind
from .refusals import OutOfRange

CENT = Decimal("0.01")

# A mark typed as text: ASCII digits, an optional sign, point and exponent
# (what a tablet's number field, Excel's float repr and the admin send).
# Full-width digits, other scripts' digits, underscores, commas are refused:
# see docs/integrity.md ("canonical value").
_MARK_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?", re.ASCII)


def fmt(value: Decimal) -> str:
    """A mark as people read it: two decimals."""
    return f"{value.quantize(CENT):f}"


def _not_a_number(text: object) -> OutOfRange:
    return OutOfRange(_("“%(value)s” is not a number.") % {"value": text}, code="not_a_number")


def _as_decimal(raw: object) -> tuple[Decimal, str]:
    """``raw`` as a finite Decimal and the text it came from."""
    if isinstance(raw, float):
        # Floats cannot carry an exact mark: callers pass the text they got.
        raise _not_a_number(raw)
    if isinstance(raw, bool) or raw is None:
        raise OutOfRange(_("A mark is required."), code="not_a_number")
    if isinstance(raw, Decimal):
        value, text = raw, str(raw)
    elif isinstance(raw, int):
        value, text = Decimal(raw), str(raw)
    else:
        text = str(raw).strip()
        if len(text) > 40 or not _MARK_TEXT.fullmatch(text):
            raise _not_a_number(text[:40])
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):  # pragma: no cover - the pattern is stricter
            raise _not_a_number(text) from None
    if not value.is_finite():
        raise _not_a_number(text)
    return value, text


def parse_value(raw: object, aspect: Aspect) -> Decimal:
    """A mark for ``aspect`` from ``raw`` (str, int or Decimal; never float),
    in its one canonical form: two decimals, never negative zero (``-0``,
    ``-0.00``, ``0.0`` all give ``0.00``), so that the value stored, the value
    compared and the value hashed into the ledger are the same.

    J: an integer 0–3. M: 0 ≤ v ≤ max_mark with at most 2 decimals.
    Text must be ASCII (``_MARK_TEXT``); full-width ``０`` is refused.
    """
    value, text = _as_decimal(raw)
    if value.is_zero():
        value = value.copy_abs()  # -0 is 0

    if aspect.kind == AspectKind.JUDGEMENT:
        if value != value.to_integral_value() or int(value) not in JUDGEMENT_SCORES:
            raise OutOfRange(
                _("Judgement score out of range: give a whole score 0, 1, 2 or 3."),
                code="out_of_range",
            )
        return Decimal(int(value)).quantize(CENT)

    if value < 0 or value > aspect.max_mark:
        raise OutOfRange(
            _("Mark out of range: this aspect's maximum is %(max)s.")
            % {"max": fmt(aspect.max_mark)},
            code="out_of_range",
        )
    if value != value.quantize(CENT):
        raise OutOfRange(
            _("A mark has at most 2 decimals: “%(value)s”.") % {"value": text},
            code="too_many_decimals",
        )
    return value.quantize(CENT)
