"""Who may see the awards of an event and download its certificates (docs/awards.md)."""

from __future__ import annotations

from competitions.models import Event
from teams import roles
from teams.models import Delegation

from .models import (
    Certificate,
    CertificateBatch,
)


def results_visible(event: Event, user) -> bool:
    """May this user see the event's awards, medal table and certificates?

    Organisers always; delegation leads and the public once the organiser has
    published every skill of the event (competitions.publication decides)."""
    from competitions.publication import event_results_visible_to

    return event_results_visible_to(user, event)


def may_download_certificate(cert: Certificate, user) -> bool:
    if roles.is_organiser(user):
        return True
    delegation = roles.lead_delegation(user)
    return (
        delegation is not None
        and delegation.pk == cert.delegation_id
        and not cert.revoked
        and results_visible(cert.event, user)
    )


def may_download_delegation_zip(batch: CertificateBatch, delegation: Delegation, user) -> bool:
    """A per-delegation zip goes to that delegation's lead (and organisers)."""
    if roles.is_organiser(user):
        return True
    lead_of = roles.lead_delegation(user)
    return (
        lead_of is not None and lead_of.pk == delegation.pk and results_visible(batch.event, user)
    )
