"""Re-mark requests: asked by the chief judge, resolved by the judge's next write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from scoring.models import Aspect, AspectKind
from teams.models import Entry, Judge

from .models import RemarkRequest

if TYPE_CHECKING:
    from competitions.models import Skill


def request_remark(
    entry: Entry, aspect: Aspect, judges: list[Judge], by_user, reason: str = ""
) -> list[RemarkRequest]:
    """Ask judges to mark one aspect again; a judge with an open request for
    the same mark keeps that one (its reason is updated)."""
    if aspect.skill_id != entry.skill_id:
        raise ValueError("aspect of another skill")
    now = timezone.now()
    out = []
    for judge in judges:
        request, _created = RemarkRequest.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            judge=judge,
            resolved_at=None,
            defaults={"requested_by": by_user, "reason": reason.strip(), "created_at": now},
        )
        out.append(request)
    return out


def resolve_remarks(entry: Entry, aspect: Aspect, judge: Judge) -> int:
    """The judge wrote the mark again: their open request for it is done.
    For an M aspect any judge's write resolves every open request on it."""
    q = RemarkRequest.objects.filter(entry=entry, aspect=aspect, resolved_at__isnull=True)
    if aspect.kind == AspectKind.JUDGEMENT:
        q = q.filter(judge=judge)
    return q.update(resolved_at=timezone.now())


def open_remarks(judge: Judge, skill: Skill) -> list[RemarkRequest]:
    return list(
        RemarkRequest.objects.filter(judge=judge, entry__skill=skill, resolved_at__isnull=True)
        .select_related("entry", "aspect")
        .order_by("entry__competitor_no", "aspect__code")
    )


def open_remarks_of_skill(skill: Skill) -> list[RemarkRequest]:
    return list(
        RemarkRequest.objects.filter(entry__skill=skill, resolved_at__isnull=True)
        .select_related("entry", "aspect", "judge")
        .order_by("entry__competitor_no", "aspect__code", "judge__code")
    )
