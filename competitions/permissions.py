"""Who may see an event's results (docs/roles.md): the publication rule of
``competitions.publication`` as a named permission, for the pages of the
apps above (medal tables, certificates)."""

from __future__ import annotations

import rules

from . import publication


@rules.predicate
def sees_event_results(user, event) -> bool:
    """Organisers always, everyone once every skill of the event is published."""
    return event is not None and publication.event_results_visible_to(user, event)


rules.add_perm("competitions.see_event_results", sees_event_results)
