"""Who may run the chief judge's board (docs/roles.md, docs/chief-board.md).

The board of a skill is ``scoring.manage_skill`` (its chief judge or an
organiser); the list of boards is open to any signed-in user and shows the
skills they manage. A judge's PIN and sign-in links are managed by organisers
and by the chief judge of a skill the judge is assigned to. The tablets
themselves sign in with a judge's PIN, not as a user: ``tablets.auth``
guards those pages.
"""

from __future__ import annotations

import rules

from teams.models import JudgeAssignment
from teams.permissions import is_organiser
from teams.roles import judge_of


@rules.predicate
def is_chief_of_judge(user, judge) -> bool:
    """The chief judge of a skill ``judge`` is assigned to."""
    chief = judge_of(user) if user is not None else None
    if chief is None or judge is None:
        return False
    return JudgeAssignment.objects.filter(
        judge=chief,
        role=JudgeAssignment.Role.CHIEF,
        skill__assignments__judge=judge,
    ).exists()


rules.add_perm("tablets.board_index", rules.is_authenticated)
rules.add_perm("tablets.manage_judge", is_organiser | is_chief_of_judge)
