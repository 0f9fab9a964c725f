"""Accounts, managed by organisers in the browser: create, give and take
roles, deactivate, reset, and the one-time sign-in link that lets a new
account set its own password. The rules are in ``docs/accounts.md``.

Roles are what ``teams.roles`` reads: the ``organiser`` group, a
``DelegationLead`` row, and a ``Judge`` linked to the user whose assignment
for a skill says ``chief``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import cast

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Skill
from teams.models import Delegation, DelegationLead, Judge, JudgeAssignment
from teams.roles import ORGANISER_GROUP, is_organiser

from .models import SignInLink

ROLE_ORGANISER = "organiser"
ROLE_LEAD = "lead"
ROLE_CHIEF = "chief"
ROLES = (ROLE_ORGANISER, ROLE_LEAD, ROLE_CHIEF)
LINK_HOURS = 72
USERNAME_MAX = 150
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AccountRefused(Exception):
    """An account action the rules refuse; ``message`` is for the organiser."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RoleSpec:
    """One role to give: organiser, lead of ``delegation``, or chief judge
    ``judge`` of ``skill``."""

    role: str
    delegation: Delegation | None = None
    skill: Skill | None = None
    judge: Judge | None = None


@dataclass
class Credential:
    """What the credentials sheet prints for one account (shown once)."""

    user: User
    roles: list[str] = field(default_factory=list)
    token: str | None = None
    password: str | None = None
    expires_at: dt.datetime | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _organiser_group() -> Group:
    group, _created = Group.objects.get_or_create(name=ORGANISER_GROUP)
    return group


def _require_organiser(by) -> None:
    if not is_organiser(by):
        raise AccountRefused(_("Only organisers manage accounts."))


def _require_may_change(user: User, by) -> None:
    _require_organiser(by)
    if user.is_superuser and not by.is_superuser:
        raise AccountRefused(_("A superuser account can be changed by a superuser only."))


# ------------------------------------------------------------------ reading


def accounts(query: str = "", role: str = "") -> QuerySet[User]:
    """Users with what the list shows of their roles, newest first."""
    users = User.objects.select_related("delegation_lead__delegation", "judge__delegation")
    users = users.prefetch_related(
        "groups",
        Prefetch(
            "judge__assignments",
            queryset=JudgeAssignment.objects.filter(role=JudgeAssignment.Role.CHIEF).select_related(
                "skill__event"
            ),
            to_attr="chief_assignments",
        ),
        Prefetch(
            "sign_in_links",
            queryset=SignInLink.objects.filter(
                used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
            ),
            to_attr="open_links",
        ),
    )
    query = query.strip()[:100]
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(email__icontains=query)
            | Q(delegation_lead__delegation__name__icontains=query)
            | Q(delegation_lead__delegation__code__iexact=query)
        )
    if role == ROLE_ORGANISER:
        users = users.filter(Q(groups__name=ORGANISER_GROUP) | Q(is_superuser=True))
    elif role == ROLE_LEAD:
        users = users.filter(delegation_lead__isnull=False)
    elif role == ROLE_CHIEF:
        users = users.filter(judge__assignments__role=JudgeAssignment.Role.CHIEF)
    elif role == "judge":
        users = users.filter(judge__isnull=False)
    return users.distinct().order_by("-date_joined", "-pk")


def role_labels(user: User) -> list[str]:
    """The user's roles in words, e.g. “领队 · NJ 南京市”."""
    labels = []
    if user.is_superuser:
        labels.append(_("Superuser"))
    elif any(g.name == ORGANISER_GROUP for g in user.groups.all()):
        labels.append(_("Organiser"))
    lead = getattr(user, "delegation_lead", None)
    if lead is not None:
        labels.append(_("Delegation lead · %(delegation)s") % {"delegation": lead.delegation})
    judge = getattr(user, "judge", None)
    if judge is not None:
        chiefs = getattr(judge, "chief_assignments", None)
        if chiefs is None:
            chiefs = judge.assignments.filter(role=JudgeAssignment.Role.CHIEF).select_related(
                "skill__event"
            )
        for a in chiefs:
            labels.append(_("Chief judge · %(skill)s") % {"skill": a.skill.choice_label()})
        if not chiefs:
            labels.append(_("Judge · %(code)s") % {"code": judge.code})
    return labels


def open_link(user: User) -> SignInLink | None:
    links = getattr(user, "open_links", None)
    if links is None:
        links = list(
            SignInLink.objects.filter(
                user=user,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
        )
    return links[0] if links else None


# ------------------------------------------------------------------ roles


def _check_role(spec: RoleSpec, user: User | None) -> None:
    if spec.role not in ROLES:
        raise AccountRefused(_("Unknown role."))
    if spec.role == ROLE_LEAD:
        if spec.delegation is None:
            raise AccountRefused(_("Choose the delegation this lead leads."))
        lead = DelegationLead.objects.filter(user=user).first() if user else None
        if lead is not None and lead.delegation_id != spec.delegation.pk:
            raise AccountRefused(
                _("This account already leads %(delegation)s; an account leads one delegation.")
                % {"delegation": lead.delegation}
            )
    if spec.role == ROLE_CHIEF:
        if spec.skill is None or spec.judge is None:
            raise AccountRefused(_("Choose the skill and the judge who is its chief judge."))
        if spec.judge.user_id is not None and (user is None or spec.judge.user_id != user.pk):
            raise AccountRefused(
                _("Judge %(judge)s already has the account %(username)s.")
                % {"judge": spec.judge, "username": cast(User, spec.judge.user).username}
            )
        if user is not None:
            other = Judge.objects.filter(user=user).exclude(pk=spec.judge.pk).first()
            if other is not None:
                raise AccountRefused(
                    _("This account is already judge %(judge)s; one account is one judge.")
                    % {"judge": other}
                )
        chief = (
            JudgeAssignment.objects.filter(skill=spec.skill, role=JudgeAssignment.Role.CHIEF)
            .exclude(judge=spec.judge)
            .select_related("judge")
            .first()
        )
        if chief is not None:
            raise AccountRefused(
                _("%(skill)s already has a chief judge: %(judge)s. Change that assignment first.")
                % {"skill": spec.skill.choice_label(), "judge": chief.judge}
            )


def _give_role(user: User, spec: RoleSpec) -> None:
    if spec.role == ROLE_ORGANISER:
        user.groups.add(_organiser_group())
    elif spec.role == ROLE_LEAD:
        DelegationLead.objects.get_or_create(user=user, defaults={"delegation": spec.delegation})
    elif spec.role == ROLE_CHIEF:
        assert spec.judge is not None, "a chief judge role names its judge (checked first)"
        judge = Judge.objects.select_for_update().get(pk=spec.judge.pk)
        if judge.user_id is None:
            judge.user = user
            judge.save(update_fields=["user"])
        JudgeAssignment.objects.update_or_create(
            judge=judge, skill=spec.skill, defaults={"role": JudgeAssignment.Role.CHIEF}
        )


def add_role(user: User, spec: RoleSpec, by) -> None:
    _require_may_change(user, by)
    _check_role(spec, user)
    with transaction.atomic():
        _give_role(user, spec)


def remove_organiser(user: User, by) -> None:
    _require_may_change(user, by)
    if user.pk == by.pk:
        raise AccountRefused(_("You cannot take your own organiser role."))
    user.groups.remove(_organiser_group())


def remove_lead(user: User, by) -> None:
    _require_may_change(user, by)
    DelegationLead.objects.filter(user=user).delete()


def unlink_judge(user: User, by) -> None:
    """The account stops being the judge (the judge and the assignments stay)."""
    _require_may_change(user, by)
    Judge.objects.filter(user=user).update(user=None)


# ------------------------------------------------------------------ accounts


def clean_username(raw: str) -> str:
    username = (raw or "").strip()
    if not username:
        raise AccountRefused(_("A username is required."))
    if len(username) > USERNAME_MAX:
        raise AccountRefused(_("A username has at most 150 characters."))
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise AccountRefused(_("Use letters, digits and @ . + - _ only in a username.")) from exc
    if User.objects.filter(username__iexact=username).exists():
        raise AccountRefused(_("The username %(username)s is taken.") % {"username": username})
    return username


def create_account(*, username: str, name: str, email: str, spec: RoleSpec, by) -> User:
    """A new active account with one role and no usable password (it is set
    through a sign-in link, or a temporary password is issued)."""
    _require_organiser(by)
    username = clean_username(username)
    _check_role(spec, None)
    with transaction.atomic():
        user = User(username=username, first_name=(name or "").strip()[:150], email=email or "")
        user.set_unusable_password()
        user.save()
        _give_role(user, spec)
    return user


def set_active(user: User, active: bool, by) -> None:
    _require_may_change(user, by)
    if user.pk == by.pk and not active:
        raise AccountRefused(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            revoke_links(user)


def revoke_links(user: User) -> int:
    return SignInLink.objects.filter(
        user=user, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def issue_link(user: User, by, hours: int = LINK_HOURS) -> Credential:
    """A fresh one-time link (earlier open links of the user stop working)."""
    _require_may_change(user, by)
    if not user.is_active:
        raise AccountRefused(_("Activate the account before issuing a sign-in link."))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        revoke_links(user)
        link = SignInLink.objects.create(
            user=user,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
            created_by=by,
        )
    return Credential(user=user, roles=role_labels(user), token=token, expires_at=link.expires_at)


def issue_password(user: User, by) -> Credential:
    """A fresh temporary password, for the printed sheet (links stop working)."""
    _require_may_change(user, by)
    if not user.is_active:
        raise AccountRefused(_("Activate the account before issuing a password."))
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
    with transaction.atomic():
        revoke_links(user)
        user.set_password(password)
        user.save(update_fields=["password"])
    return Credential(user=user, roles=role_labels(user), password=password)


def reset(user: User, by, method: str) -> Credential:
    """Reset: the old password stops working at once; a link or a temporary
    password replaces it."""
    _require_may_change(user, by)
    if method == "password":
        return issue_password(user, by)
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        return issue_link(user, by)


def link_for_token(token: str) -> SignInLink | None:
    """The usable link for ``token``, or None (unknown, used, revoked, expired,
    or its account deactivated)."""
    if not token or len(token) > 100:
        return None
    link = SignInLink.objects.select_related("user").filter(token_hash=token_hash(token)).first()
    if link is None or not link.usable() or not link.user.is_active:
        return None
    return link


def redeem(token: str, password: str) -> User | None:
    """Set the password through the link, once. None when the link no longer
    works (a second use, even at the same moment, finds it used)."""
    with transaction.atomic():
        link = (
            SignInLink.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=token_hash(token or ""))
            .first()
        )
        if link is None or not link.usable() or not link.user.is_active:
            return None
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        user = link.user
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def update_profile(user: User, name: str, email: str, by) -> None:
    _require_may_change(user, by)
    user.first_name = (name or "").strip()[:150]
    user.email = (email or "").strip()[:254]
    user.save(update_fields=["first_name", "email"])
