"""QR sign-in links: one per judge, printed by the chief judge."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from teams.models import Judge

from .models import JudgeLink, TabletSession
from .sessions import token_hash


def create_links(judges: list[Judge], by_user) -> list[tuple[Judge, str]]:
    """A fresh sign-in link per judge. Earlier links of these judges stop
    working (a reprinted sheet replaces the old one), but tablets already
    signed in stay signed in."""
    now = timezone.now()
    out = []
    with transaction.atomic():
        JudgeLink.objects.filter(judge__in=judges, revoked_at__isnull=True).update(revoked_at=now)
        for judge in judges:
            token = secrets.token_urlsafe(32)
            JudgeLink.objects.create(
                judge=judge, token_hash=token_hash(token), created_at=now, created_by=by_user
            )
            out.append((judge, token))
    return out


def link_for_token(token: str) -> JudgeLink | None:
    return (
        JudgeLink.objects.select_related("judge")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )


def revoke_links(judge: Judge) -> int:
    """A lost QR card: the judge's links stop working, and tablets that
    signed in through them are signed out."""
    now = timezone.now()
    with transaction.atomic():
        links = list(JudgeLink.objects.filter(judge=judge, revoked_at__isnull=True))
        TabletSession.objects.filter(link__in=links, revoked_at__isnull=True).update(revoked_at=now)
        return JudgeLink.objects.filter(pk__in=[x.pk for x in links]).update(revoked_at=now)
