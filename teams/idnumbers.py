"""Chinese resident identity numbers (GB 11643-1999), 18 characters.

Layout: 6-digit region, 8-digit birth date (YYYYMMDD), 3-digit sequence whose
last digit is odd for men and even for women, then an ISO 7064 MOD 11-2
check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise(value: str | None) -> str:
    return (value or "").strip().upper()


def birth_date_of(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_of(value: str) -> str:
    """'M' or 'F' from the sequence digit."""
    return "M" if int(value[16]) % 2 else "F"


def validate_id_number(value: str) -> None:
    value = normalise(value)
    if not _SHAPE.match(value):
        raise ValidationError(
            _("ID number must be 18 characters: 17 digits and a final digit or X."),
            code="id_shape",
        )
    try:
        born = birth_date_of(value)
    except ValueError:
        raise ValidationError(
            _("ID number holds an impossible birth date."), code="id_birth_date"
        ) from None
    if born < dt.date(1900, 1, 1) or born > dt.date.today():
        raise ValidationError(_("ID number holds an impossible birth date."), code="id_birth_date")
    if check_character(value[:17]) != value[17]:
        raise ValidationError(_("ID number check character is wrong (typo?)."), code="id_checksum")


def validate_matches(value: str, birth_date: dt.date | None, gender: str | None) -> None:
    """The birth date and gender given must agree with the ID number."""
    value = normalise(value)
    errors = {}
    if birth_date and birth_date_of(value) != birth_date:
        errors["birth_date"] = ValidationError(
            _("Birth date does not match the ID number (%(id_date)s)."),
            params={"id_date": birth_date_of(value).isoformat()},
            code="id_birth_mismatch",
        )
    if gender and gender_of(value) != gender:
        errors["gender"] = ValidationError(
            _("Gender does not match the ID number."), code="id_gender_mismatch"
        )
    if errors:
        raise ValidationError(errors)


def mask(value: str) -> str:
    """Region and last four kept, birth date hidden: 110105********123X."""
    value = normalise(value)
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[-4:]


def make_id_number(region: str, birth_date: dt.date, sequence: int, gender: str) -> str:
    """Build a valid number (demo data, tests). ``sequence`` 0-99; gender fixes the parity."""
    third = (sequence % 5) * 2 + (1 if gender == "M" else 0)
    first17 = f"{region}{birth_date:%Y%m%d}{sequence % 100:02d}{third}"
    return first17 + check_character(first17)
