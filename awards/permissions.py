"""Who may see medal tables and fetch certificates (docs/roles.md).

Event-wide awards follow ``competitions.see_event_results`` (organisers
always, everyone once every skill of the event is published); certificate
files go to organisers and, once published, to the lead of the
certificate's delegation.
"""

from __future__ import annotations

import rules

from competitions.permissions import sees_event_results
from teams.permissions import is_lead, is_organiser, leads_delegation_of
from teams.roles import lead_delegation


@rules.predicate
def sees_every_event_of(user, programme) -> bool:
    """A programme's medal table: every event of it visible to the user."""
    if programme is None:
        return False
    events = list(programme.events.all())
    return bool(events) and all(sees_event_results.test(user, e) for e in events)


@rules.predicate
def certificate_released(user, cert) -> bool:
    """A certificate that is live and whose event's results the user sees."""
    return cert is not None and not cert.revoked and sees_event_results.test(user, cert.event)


@rules.predicate
def leads_delegation_of_zip(user, batch_and_delegation) -> bool:
    """``(batch, delegation)``: the delegation's lead, once the batch's event is published."""
    if batch_and_delegation is None:
        return False
    batch, delegation = batch_and_delegation
    own = lead_delegation(user)
    return (
        own is not None and own.pk == delegation.pk and sees_event_results.test(user, batch.event)
    )


rules.add_perm("awards.see_medal_table", sees_event_results)
rules.add_perm("awards.see_programme_medal_table", sees_every_event_of)
rules.add_perm("awards.recompute_medals", is_organiser)
rules.add_perm("awards.manage_certificates", is_organiser)
rules.add_perm("awards.see_lead_certificates", is_lead & sees_event_results)
rules.add_perm(
    "awards.download_certificate",
    is_organiser | (leads_delegation_of & certificate_released),
)
rules.add_perm("awards.download_delegation_zip", is_organiser | leads_delegation_of_zip)
