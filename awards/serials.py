"""Certificate serial numbers: how they look, how they are read back, and how
they are handed out without ever being re-used (docs/verification.md)."""

from __future__ import annotations

import secrets

from competitions.models import Programme

from .models import SerialCounter

# Crockford's base32: digits and capitals without I, L, O, U, so a serial
# read out over the phone cannot be misheard as another (docs/verification.md).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_LENGTH = 5  # 32⁵ ≈ 33.5 million possibilities per serial number
SERIAL_MAX_LENGTH = 60  # the model field's length; anything longer is unknown
_CROCKFORD_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})


def random_check() -> str:
    """The random part of a serial, from the operating system's CSPRNG."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(CHECK_LENGTH))


def format_serial(programme: Programme, number: int, check: str) -> str:
    """``JS2026-2026-000123-7KQ4M``: the programme, its year, a running number
    (never re-used) and a random check part, so serials cannot be walked."""
    return f"{programme.code.upper()}-{programme.year}-{number:06d}-{check}"


def normalise_serial(text: str) -> str:
    """A serial as typed or read out: capitals, surrounding spaces dropped,
    and in the check part I/L read as 1 and O as 0 (Crockford)."""
    text = text.strip().upper()
    head, dash, check = text.rpartition("-")
    if not dash:
        return text
    return f"{head}-{check.translate(_CROCKFORD_READ)}"


def allocate_serials(programme: Programme, count: int) -> list[str]:
    """Reserve ``count`` new serial numbers; the counter row lock serialises
    concurrent issuers, and the counter never goes down."""
    if count == 0:
        return []
    SerialCounter.objects.bulk_create([SerialCounter(programme=programme)], ignore_conflicts=True)
    counter = SerialCounter.objects.select_for_update().get(programme=programme)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [format_serial(programme, n, random_check()) for n in range(first, first + count)]
