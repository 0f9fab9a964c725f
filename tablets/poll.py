"""What a tablet refreshes every 15 s (docs/tablets.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from scoring import services as scoring
from scoring.models import AspectKind, Mark
from teams.models import Entry, Judge

from .remarks import open_remarks
from .values import plain

if TYPE_CHECKING:
    from competitions.models import Skill


def poll(judge: Judge, skill: Skill, entry: Entry | None) -> dict:
    """What a tablet refreshes every few seconds: lock state, the judge's
    re-mark requests (competitor numbers only) and, for the open entry, the
    current value and version of each mark it shows."""
    body: dict = {
        "locked": scoring.names_revealed(skill),
        "remarks": [
            {
                "no": r.entry.competitor_no,
                "entry": r.entry_id,
                "aspect": r.aspect_id,
                "aspect_code": r.aspect.code,
                "reason": r.reason,
            }
            for r in open_remarks(judge, skill)
        ],
    }
    if entry is not None:
        body["marks"] = {
            str(aspect_id): [plain(value), version]
            for aspect_id, value, version in Mark.objects.filter(entry=entry)
            .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
            .values_list("aspect_id", "value", "version")
        }
    return body
