"""Who may manage a skill's marking (docs/roles.md): its chief judge or an
organiser — the sign-off, results, consistency and marking-scheme pages and
the chief judge's board. (scoring/rules.py holds the marking rules, not who
may do what.)"""

from __future__ import annotations

import rules

from teams.permissions import is_chief_of_skill, is_organiser

manages_skill = is_organiser | is_chief_of_skill

rules.add_perm("scoring.manage_skill", manages_skill)


def may_manage(user, skill) -> bool:
    """``scoring.manage_skill`` for the services, which check again."""
    return user is not None and manages_skill.test(user, skill)
