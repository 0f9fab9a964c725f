"""Who may do what, at the bottom layer: the role predicates every other
app's ``permissions.py`` builds on, and the role-home permissions
(docs/roles.md). Identity (who is an organiser, a lead, a judge) is answered
by ``teams.roles``; here it becomes named rules.
"""

from __future__ import annotations

import rules

from . import roles


@rules.predicate
def is_organiser(user) -> bool:
    return user is not None and roles.is_organiser(user)


@rules.predicate
def is_lead(user) -> bool:
    return user is not None and roles.lead_delegation(user) is not None


@rules.predicate
def is_judge(user) -> bool:
    return user is not None and roles.judge_of(user) is not None


@rules.predicate
def is_chief(user) -> bool:
    """The chief judge of at least one skill."""
    return user is not None and roles.chief_skills(user).exists()


@rules.predicate
def is_chief_of_skill(user, skill) -> bool:
    return user is not None and skill is not None and roles.is_chief_of(user, skill)


@rules.predicate
def judges_skill(user, skill) -> bool:
    """Assigned to the skill, as judge or as its chief."""
    return (
        user is not None
        and skill is not None
        and roles.judged_skills(user).filter(pk=skill.pk).exists()
    )


@rules.predicate
def leads_delegation_of(user, obj) -> bool:
    """The lead of ``obj``'s delegation (``obj`` has ``delegation_id``)."""
    lead_of = roles.lead_delegation(user) if user is not None else None
    return lead_of is not None and obj is not None and lead_of.pk == obj.delegation_id


# Role homes: the pages of one role (the organiser's dashboards and
# configuration, the lead's delegation and results, the judge's pages).
rules.add_perm("teams.organiser", is_organiser)
rules.add_perm("teams.lead", is_lead)
rules.add_perm("teams.judge", is_judge)
# A judge's page of one skill: only the skills they are assigned to.
rules.add_perm("teams.judge_skill", is_judge & judges_skill)
