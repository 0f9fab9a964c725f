"""Which certificates an event owes its athletes: issuing and revoking them
(docs/awards.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from competitions.models import Event
from teams.models import EntryMember

from . import policies
from .awarding import settings_for
from .models import (
    Award,
    AwardSettings,
    Certificate,
)
from .serials import allocate_serials


@dataclass
class IssueSummary:
    issued: int = 0
    revoked: int = 0
    kept: int = 0


def revoke_certificate(cert: Certificate, reason: str) -> None:
    Certificate.objects.filter(pk=cert.pk, revoked=False).update(
        revoked=True, revoked_at=timezone.now(), revoked_reason=reason[:200]
    )


# (entry id, athlete id, category) → (award kind, award as printed, delegation id)
Wanted = dict[tuple[int, int, str], tuple[str, str, int]]


def desired_certificates(event: Event) -> Wanted:
    """The certificates the event's awards call for: one per athlete (each
    member of a team) for every award and for the title."""
    desired: Wanted = {}
    title_settings: dict[int, AwardSettings] = {}
    awards = Award.objects.filter(skill__event=event).select_related("entry", "skill")
    members = defaultdict(list)
    for m in EntryMember.objects.filter(entry__award__skill__event=event).order_by("pk"):
        members[m.entry_id].append(m.athlete_id)
    for award in awards:
        for athlete_id in members[award.entry_id]:
            if award.kind:
                desired[(award.entry_id, athlete_id, Certificate.Category.AWARD)] = (
                    award.kind,
                    policies.CHINESE_NAMES[award.kind],
                    award.entry.delegation_id,
                )
            if award.title:
                if award.skill_id not in title_settings:
                    title_settings[award.skill_id] = settings_for(award.skill)
                # The 技术能手 title keeps the kind "title" its certificates
                # always had; the titles policy's 优胜者 is "winner".
                code = award.title_code
                desired[(award.entry_id, athlete_id, Certificate.Category.TITLE)] = (
                    "title" if code == policies.TECHNICAL_EXPERT else code,
                    title_settings[award.skill_id].title_text(code),
                    award.entry.delegation_id,
                )
    return desired


def issue_certificates(event: Event) -> IssueSummary:
    """Bring the event's certificates in line with its awards
    (``desired_certificates``). A certificate whose award changed or
    disappeared is revoked and the athlete gets a new one with a new serial;
    serials are never re-used."""
    summary = IssueSummary()
    programme = event.programme
    with transaction.atomic():
        desired = desired_certificates(event)
        live = {
            (c.entry_id, c.athlete_id, c.category): c
            for c in Certificate.objects.select_for_update().filter(event=event, revoked=False)
        }
        for key, cert in live.items():
            want = desired.get(key)
            if want is None or want[0] != cert.award_kind or want[1] != cert.award_text:
                revoke_certificate(cert, "award changed" if want else "award withdrawn")
                summary.revoked += 1
            else:
                summary.kept += 1
        missing = [
            k
            for k in desired
            if k not in live
            or live[k].award_kind != desired[k][0]
            or live[k].award_text != desired[k][1]
        ]
        serials = allocate_serials(programme, len(missing))
        Certificate.objects.bulk_create(
            Certificate(
                serial=serial,
                programme=programme,
                event=event,
                entry_id=entry_id,
                athlete_id=athlete_id,
                delegation_id=desired[(entry_id, athlete_id, category)][2],
                category=category,
                award_kind=desired[(entry_id, athlete_id, category)][0],
                award_text=desired[(entry_id, athlete_id, category)][1],
            )
            for (entry_id, athlete_id, category), serial in zip(missing, serials, strict=True)
        )
        summary.issued = len(missing)
    return summary
