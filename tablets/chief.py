"""What the chief judge manages: the skill's judges and acknowledging
discrepancies in bulk (docs/chief-board.md). Who may: ``tablets.permissions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from scoring import services as scoring
from scoring.models import Aspect
from teams.models import Entry, Judge

if TYPE_CHECKING:
    from competitions.models import Skill


def skill_judges(skill: Skill) -> list[Judge]:
    return list(
        Judge.objects.filter(assignments__skill=skill)
        .select_related("tablet_credential")
        .order_by("code")
    )


def acknowledge_all(
    skill: Skill, pairs: list[tuple[int, int]], by_user, note: str
) -> tuple[int, int]:
    """Acknowledge the discrepancies the chief judge was shown, (entry id,
    aspect id) pairs, with one note, in one transaction. A pair that is no
    longer a discrepancy (re-marked meanwhile) or already acknowledged is
    skipped. Returns (acknowledged, skipped)."""
    note = (note or "").strip()
    if not note:
        raise scoring.MarkRefused(
            _("Write a note: it is recorded with every acknowledgement."), code="note_required"
        )
    wanted = set(pairs)
    entries = Entry.objects.filter(skill=skill, pk__in={e for e, _a in wanted}).in_bulk()
    aspects = Aspect.objects.filter(skill=skill, pk__in={a for _e, a in wanted}).in_bulk()
    open_ = {
        (d.entry_id, d.aspect_id)
        for d in scoring.marking_status(skill).discrepancies
        if not d.acknowledged
    }
    done = skipped = 0
    with transaction.atomic():
        for entry_id, aspect_id in sorted(wanted):
            entry, aspect = entries.get(entry_id), aspects.get(aspect_id)
            if entry is None or aspect is None or (entry_id, aspect_id) not in open_:
                skipped += 1
                continue
            try:
                scoring.acknowledge_discrepancy(entry, aspect, by_user, note)
            except scoring.NotAllowed:
                skipped += 1
            else:
                done += 1
    return done, skipped
