"""Who may export rankings and fetch an export (docs/roles.md).

The lead and organiser pages of this app are the role homes
(``teams.lead``, ``teams.organiser``); the public pages show published
results only and need no permission.
"""

from __future__ import annotations

import rules

from teams.permissions import is_lead, is_organiser


@rules.predicate
def requested_export(user, job) -> bool:
    return (
        job is not None
        and user is not None
        and user.is_authenticated
        and job.requested_by_id == user.pk
    )


rules.add_perm("results.export_rankings", is_organiser | is_lead)
# Someone else's export file answers 404 (``hide``): not even its existence.
rules.add_perm("results.download_export", is_organiser | requested_export)
