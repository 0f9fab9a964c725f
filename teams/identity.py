"""What identifies an athlete, and the announcement when it changes.

Used by ``Athlete.save`` (so every path that saves an athlete — the lead's
pages, the admin, the event workbook, a shell — announces a change) and by
the services' identity lock (docs/integrity.md, "identity lock").
"""

from __future__ import annotations

from simple_history.models import HistoricalRecords

from .signals import athlete_identity_changed

# What identifies an athlete on results and certificates. After registration
# closes only organisers change these, with a reason kept in the history.
IDENTITY_FIELDS = ("name", "id_number", "gender", "birth_date", "delegation_id")
# Gender and birth date follow from the ID number: filling them in where they
# were blank is not a change of identity.
_FILLABLE_FIELDS = ("gender", "birth_date")


def identity_of(athlete) -> dict[str, object]:
    return {f: getattr(athlete, f) for f in IDENTITY_FIELDS}


def identity_changes(before: dict[str, object], after: dict[str, object]) -> frozenset[str]:
    """Names of the identity fields that differ (delegation as "delegation")."""
    changed = set()
    for f in IDENTITY_FIELDS:
        old, new = before.get(f) or None, after.get(f) or None
        if old == new or (f in _FILLABLE_FIELDS and old is None):
            continue
        changed.add("delegation" if f == "delegation_id" else f)
    return frozenset(changed)


def _acting_user(athlete):
    """Who saves: set by the services (as for the history), else the
    signed-in user of the current request (simple-history's middleware)."""
    user = getattr(athlete, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return user


def announce_change(athlete, before: dict[str, object]) -> frozenset[str]:
    """Send ``athlete_identity_changed`` if the saved athlete's identity differs
    from ``before`` (its stored identity); returns the changed fields."""
    changed = identity_changes(before, identity_of(athlete))
    if changed:
        previous = {f: before.get("delegation_id" if f == "delegation" else f) for f in changed}
        athlete_identity_changed.send(
            sender=type(athlete),
            athlete=athlete,
            changed=changed,
            previous=previous,
            reason=getattr(athlete, "_change_reason", None) or "",
            actor=_acting_user(athlete),
        )
    return changed
