"""The awards app's answers to other apps' domain events."""

from __future__ import annotations

from competitions.models import Event

from . import issuing, tasks
from .models import Certificate


def reissue_certificates_of_renamed_athlete(
    sender, *, athlete, changed, previous, reason="", actor=None, **kwargs
) -> None:
    """teams.signals.athlete_identity_changed: a certificate states a name, so
    a corrected name revokes the athlete's live certificates (in the same
    transaction: /verify/ of the old serial answers "revoked" from the moment
    the change commits) and starts a certificate batch for each event
    concerned. The batch, queued on commit, issues new certificates with new
    serials through ``issue_certificates`` and renders them."""
    if "name" not in changed:
        return
    live = list(
        Certificate.objects.select_for_update()
        .filter(athlete=athlete, revoked=False)
        .order_by("pk")
    )
    if not live:
        return
    why = f"name corrected: {previous.get('name')} → {athlete.name}"
    if reason:
        why = f"{why}; {reason}"
    for cert in live:
        issuing.revoke_certificate(cert, why)
    for event in Event.objects.filter(pk__in={c.event_id for c in live}).order_by("pk"):
        tasks.start_batch(event, actor if getattr(actor, "pk", None) else None)


def queue_awards_of_changed_results(sender, *, skill, **kwargs) -> None:
    """scoring.signals.results_changed (sent inside the sign-off transaction):
    the skill's awards, then the medal tables of its event and programme, are
    recomputed by a worker once that transaction commits."""
    tasks.request_skill_awards(skill)
