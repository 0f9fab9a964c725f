"""Who is who. The permissions (teams/permissions.py and each app's
``permissions.py``, docs/roles.md) ask these functions, never the user model
directly.

Roles (docs/roles.md): organiser (a member of the ``organiser`` group, or a
superuser), chief judge and judge (a user linked to a Judge; chief for the
skills where their assignment says so), delegation lead (a user linked to a
Delegation through DelegationLead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

if TYPE_CHECKING:
    from competitions.models import Skill

    from .models import Delegation, Judge

ORGANISER_GROUP = "organiser"


def is_organiser(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_organiser", None)
    if cached is None:
        cached = user.groups.filter(name=ORGANISER_GROUP).exists()
        user._is_organiser = cached
    return cached


def lead_delegation(user) -> Delegation | None:
    if not user.is_authenticated:
        return None
    lead = getattr(user, "delegation_lead", None)
    return lead.delegation if lead else None


def judge_of(user) -> Judge | None:
    if not user.is_authenticated:
        return None
    return getattr(user, "judge", None)


def own_delegation(user) -> Delegation:
    """The lead's delegation, in a view behind the ``teams.lead`` permission."""
    delegation = lead_delegation(user)
    if delegation is None:
        raise PermissionDenied
    return delegation


def own_judge(user) -> Judge:
    """The user's judge record, in a view behind the ``teams.judge`` permission."""
    judge = judge_of(user)
    if judge is None:
        raise PermissionDenied
    return judge


def judged_skills(user) -> QuerySet[Skill]:
    """Skills the user is assigned to as judge or chief judge."""
    from competitions.models import Skill

    judge = judge_of(user)
    if judge is None:
        return Skill.objects.none()
    return Skill.objects.filter(assignments__judge=judge).select_related("event")


def chief_skills(user) -> QuerySet[Skill]:
    from competitions.models import Skill

    from .models import JudgeAssignment

    judge = judge_of(user)
    if judge is None:
        return Skill.objects.none()
    return Skill.objects.filter(
        assignments__judge=judge, assignments__role=JudgeAssignment.Role.CHIEF
    ).select_related("event")


def is_chief_of(user, skill: Skill) -> bool:
    return chief_skills(user).filter(pk=skill.pk).exists()


def role_names(user) -> list[str]:
    names = []
    if is_organiser(user):
        names.append("organiser")
    if chief_skills(user).exists():
        names.append("chief")
    if judge_of(user) is not None:
        names.append("judge")
    if lead_delegation(user) is not None:
        names.append("lead")
    return names


def role_context(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": []}
    return {"roles": role_names(user)}

