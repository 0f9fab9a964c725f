"""Who may see the awards of an event and download its certificates (docs/awards.md)."""

from __future__ import annotations

import rules

from competitions.models import Event
from files import permissions as file_rules
from files.models import GeneratedFile
from teams.models import Delegation

from .models import (
    BatchDelegationZip,
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
    """``awards.download_certificate`` (awards/permissions.py)."""
    return rules.has_perm("awards.download_certificate", user, cert)


def may_download_delegation_zip(batch: CertificateBatch, delegation: Delegation, user) -> bool:
    """``awards.download_delegation_zip`` (awards/permissions.py): a
    per-delegation zip goes to that delegation's lead (and organisers)."""
    return rules.has_perm("awards.download_delegation_zip", user, (batch, delegation))


# ------------------------------------------------------------------ generated files

# The download rules of the batches' zips (files.permissions), registered
# when the app starts (AwardsConfig.ready).
BATCH_RULE = "awards.batch_archive"
DELEGATION_ZIP_RULE = "awards.delegation_zip"


@file_rules.rule(BATCH_RULE)
def may_download_batch_archive(generated: GeneratedFile, user) -> bool:
    """The zip of every certificate: ``awards.manage_certificates`` (organisers)."""
    return rules.has_perm("awards.manage_certificates", user)


@file_rules.rule(DELEGATION_ZIP_RULE)
def may_download_delegation_zip_file(generated: GeneratedFile, user) -> bool:
    """A delegation's zip: ``may_download_delegation_zip`` of its batch."""
    z = (
        BatchDelegationZip.objects.select_related("batch__event", "delegation")
        .filter(generated=generated)
        .first()
    )
    return z is not None and may_download_delegation_zip(z.batch, z.delegation, user)
