"""Who may do what with appeals (docs/roles.md).

Appeals are the business of organisers (the arbitration), the chief judge
of the appeal's skill and the lead of its delegation; anyone else is refused
(403). Among those, an appeal that is not theirs answers 404 (its existence
is not confirmed).
"""

from __future__ import annotations

import rules

from teams.permissions import (
    is_chief,
    is_chief_of_skill,
    is_lead,
    is_organiser,
    leads_delegation_of,
)


@rules.predicate
def is_chief_of_appeal(user, appeal) -> bool:
    return appeal is not None and is_chief_of_skill.test(user, appeal.skill)


# Works with appeals at all: the list, and the role of the pages below.
rules.add_perm("appeals.use", is_organiser | is_chief | is_lead)
rules.add_perm("appeals.see", is_organiser | is_chief_of_appeal | leads_delegation_of)
rules.add_perm("appeals.answer", is_organiser | is_chief_of_appeal)
rules.add_perm("appeals.decide", is_organiser)
# Filing: the lead of the entry's delegation (the services check the window).
rules.add_perm("appeals.file", leads_delegation_of)
