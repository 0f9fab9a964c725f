"""What the public /verify/ page may say about a serial (docs/verification.md)."""

from __future__ import annotations

from dataclasses import dataclass

from competitions.publication import is_published

from .models import Certificate
from .serials import SERIAL_MAX_LENGTH, normalise_serial


@dataclass(frozen=True)
class Verification:
    status: str  # "valid", "revoked" or "unknown"
    name: str = ""
    skill: str = ""
    award: str = ""
    event: str = ""


def verify(serial: str) -> Verification:
    """What the public verification page may say: name, skill, award, event.

    A certificate whose skill is not published is answered exactly as a
    serial that does not exist: the organiser may issue certificates before
    publishing, and the page must not tell anybody more than the results do."""
    if len(serial) > SERIAL_MAX_LENGTH:
        return Verification("unknown")
    cert = (
        Certificate.objects.filter(serial=normalise_serial(serial))
        .select_related("athlete", "entry__skill", "event")
        .first()
    )
    if cert is None or not is_published(cert.entry.skill):
        return Verification("unknown")
    if cert.revoked:
        return Verification("revoked")
    return Verification(
        "valid",
        name=cert.athlete.name,
        skill=cert.entry.skill.name,
        award=cert.award_text,
        event=cert.event.name,
    )
