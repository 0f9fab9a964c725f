"""Rules and writes for delegations' athletes and entries, and what judges see.

Views and the admin call these functions; they never write teams data
themselves. Every function takes the acting delegation (or skill) explicitly
so that the rule "a lead only touches their own delegation" is checked here
too, not only by the views' scoped look-ups.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, ProtectedError, Q, QuerySet, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from competitions.models import Event, Skill

from . import idnumbers, roles
from .identity import identity_changes, identity_of
from .models import (
    Athlete,
    Delegation,
    Entry,
    EntryMember,
    Gender,
    Judge,
    JudgeAssignment,
    Quota,
)

# Competitor numbers (加密号) are drawn at random from this range so that the
# number says nothing about the delegation or the order of registration.
COMPETITOR_NO_MIN = 1000
COMPETITOR_NO_MAX = 9999
_COMPETITOR_NO_ATTEMPTS = 50


# --------------------------------------------------------------------------
# Athletes
# --------------------------------------------------------------------------


def _athlete_errors(athlete: Athlete) -> dict[str, list[ValidationError]]:
    """Field errors of an unsaved athlete, ID rules included; empty when valid."""
    errors: dict[str, list[ValidationError]] = {}

    def add(exc: ValidationError, default_field: str) -> None:
        if hasattr(exc, "error_dict"):
            for name, errs in exc.error_dict.items():
                errors.setdefault(name, []).extend(errs)
        else:
            errors.setdefault(default_field, []).extend(exc.error_list)

    if not athlete.name:
        errors["name"] = [ValidationError(_("Please enter the athlete's name."), code="required")]
    # Length and choice checks of the model fields; the ID number's own
    # validator is run below, once, so its message is not doubled.
    try:
        athlete.clean_fields(exclude=["delegation", "id_number"])
    except ValidationError as exc:
        add(exc, "name")

    if athlete.id_number:
        try:
            idnumbers.validate_id_number(athlete.id_number)
        except ValidationError as exc:
            add(exc, "id_number")
        else:
            try:
                idnumbers.validate_matches(
                    athlete.id_number, athlete.birth_date, athlete.gender or None
                )
            except ValidationError as exc:
                add(exc, "id_number")
            duplicate = Athlete.objects.filter(id_number=athlete.id_number).exclude(pk=athlete.pk)
            if duplicate.exists():
                # Say nothing about where the other athlete is registered:
                # that would leak another delegation's data.
                errors.setdefault("id_number", []).append(_duplicate_id_error())
    return errors


def _duplicate_id_error() -> ValidationError:
    return ValidationError(
        _("An athlete with this ID number is already registered."), code="id_duplicate"
    )


def _fill_and_check(athlete: Athlete) -> None:
    athlete.name = (athlete.name or "").strip()
    athlete.employer = (athlete.employer or "").strip()
    athlete.phone = (athlete.phone or "").strip()
    athlete.gender = athlete.gender or ""
    athlete.id_number = idnumbers.normalise(athlete.id_number) or None
    errors = _athlete_errors(athlete)
    if errors:
        raise ValidationError(errors)
    # The ID number already holds the birth date and gender: when the lead
    # left them blank, take them from it rather than storing less than we know.
    if athlete.id_number:
        athlete.birth_date = athlete.birth_date or idnumbers.birth_date_of(athlete.id_number)
        athlete.gender = athlete.gender or idnumbers.gender_of(athlete.id_number)


def _save_athlete(athlete: Athlete) -> Athlete:
    try:
        with transaction.atomic():
            athlete.save()
    except IntegrityError:
        # Two saves raced for the same ID number; the unique constraint won.
        raise ValidationError({"id_number": [_duplicate_id_error()]}) from None
    return athlete


def add_athlete(
    delegation: Delegation,
    *,
    name: str,
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str | None = None,
    employer: str = "",
    phone: str = "",
) -> Athlete:
    """Register a person of ``delegation``. Raises ValidationError with field errors."""
    athlete = Athlete(
        delegation=delegation,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        employer=employer,
        phone=phone,
    )
    _fill_and_check(athlete)
    return _save_athlete(athlete)


def update_athlete(
    athlete: Athlete,
    *,
    name: str,
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str | None = None,
    employer: str = "",
    phone: str = "",
    now: dt.datetime | None = None,
) -> Athlete:
    """A lead changes an athlete's details; same rules as :func:`add_athlete`.

    ``id_number`` is stored as given (None clears it). Pages that show leads
    only the masked number pass the stored value back when the lead leaves
    the field blank.

    Once registration has closed for an event the athlete is entered in, the
    name, ID number, gender and birth date are locked: a change is refused
    (field errors) and only an organiser can make it, with a reason
    (:func:`save_athlete_as_organiser`). Employer and phone stay editable.
    """
    # Validate a copy so a refused change leaves the caller's object intact.
    candidate = Athlete(
        pk=athlete.pk,
        delegation_id=athlete.delegation_id,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        employer=employer,
        phone=phone,
    )
    _fill_and_check(candidate)
    before = identity_of(athlete)
    changed = identity_changes(before, identity_of(candidate))
    if changed:
        event = locking_event(athlete, now)
        if event is not None:
            raise ValidationError({f: [_identity_locked_error(event)] for f in sorted(changed)})
    with transaction.atomic():
        _ensure_history_baseline(athlete)
        for attr in ("name", "gender", "birth_date", "id_number", "employer", "phone"):
            setattr(athlete, attr, getattr(candidate, attr))
        _save_athlete(athlete)  # announces a change (Athlete.save)
    return athlete


# --------------------------------------------------------------------------
# Identities after registration closes (docs/integrity.md, "identity lock")
# --------------------------------------------------------------------------

REASON_MAX_LENGTH = 500


def locking_event(athlete: Athlete, now: dt.datetime | None = None) -> Event | None:
    """An event the athlete is entered in whose registration has closed, or None.

    A name or ID number that changes after that moment changes results and
    certificates already in other people's hands, so it is locked.
    """
    if athlete.pk is None:
        return None
    events = Event.objects.filter(skills__entries__members__athlete=athlete).distinct()
    for event in events.order_by("registration_deadline", "pk"):
        if not event.registration_open(now):
            return event
    return None


def identity_locked(athlete: Athlete, now: dt.datetime | None = None) -> bool:
    return locking_event(athlete, now) is not None


def entry_locked(entry: Entry, now: dt.datetime | None = None) -> bool:
    """Whether the entry's event has closed registration (changes need a reason)."""
    return not entry.skill.event.registration_open(now)


def _identity_locked_error(event: Event) -> ValidationError:
    return ValidationError(
        _(
            "Registration for %(event)s has closed: names and ID numbers can no longer be "
            "changed here. Ask the organisers to correct them."
        ),
        params={"event": event.name},
        code="identity_locked",
    )


def _reason_required_error() -> ValidationError:
    return ValidationError(
        _("Registration has closed: give the reason for this change (it is kept in the history)."),
        code="reason_required",
    )


def change_reason_problem(
    locked: bool, changed: bool, reason: str | None
) -> ValidationError | None:
    """After registration closes an organiser's change needs a reason."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        return ValidationError(
            _("Keep the reason under %(max)s characters."),
            params={"max": REASON_MAX_LENGTH},
            code="reason_too_long",
        )
    if locked and changed and not reason:
        return _reason_required_error()
    return None


def athlete_change_problem(
    stored: Athlete,
    new_values: dict[str, object],
    reason: str | None,
    *,
    now: dt.datetime | None = None,
) -> ValidationError | None:
    """Why an organiser's change of ``stored`` to ``new_values`` cannot be saved, or None."""
    after = identity_of(stored) | {
        ("delegation_id" if k == "delegation" else k): (
            getattr(v, "pk", v) if k == "delegation" else v
        )
        for k, v in new_values.items()
    }
    if "id_number" in after:
        after["id_number"] = idnumbers.normalise(cast(str | None, after["id_number"])) or None
    changed = identity_changes(identity_of(stored), after)
    return change_reason_problem(bool(changed) and identity_locked(stored, now), True, reason)


def save_athlete_as_organiser(
    athlete: Athlete,
    *,
    actor,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Athlete:
    """Save an organiser's change of ``athlete`` (its attributes already set).

    After registration has closed for one of the athlete's events, a change
    of identity needs a reason. The history keeps who, when and why; a
    changed name is announced (``athlete_identity_changed``) so that the
    awards app revokes and reissues the athlete's certificates.
    """
    if not roles.is_organiser(actor):
        raise PermissionDenied
    stored = Athlete.objects.filter(pk=athlete.pk).first() if athlete.pk else None
    before = identity_of(stored) if stored else {}
    _fill_and_check(athlete)
    changed = identity_changes(before, identity_of(athlete)) if stored else frozenset()
    problem = change_reason_problem(
        bool(changed) and stored is not None and identity_locked(stored, now),
        True,
        reason,
    )
    if problem is not None:
        raise ValidationError({"change_reason": [problem]})
    reason = (reason or "").strip()
    athlete._change_reason = reason or None
    athlete._history_user = actor
    with transaction.atomic():
        if stored is not None:
            _ensure_history_baseline(stored)
        _save_athlete(athlete)  # announces the change, with reason and actor
    return athlete


def _ensure_history_baseline(stored: Athlete) -> None:
    """Athletes written in bulk (the demo, benchmarks) have no history row:
    record the stored state first, so the change that follows can be shown
    as "old → new"."""
    if stored.pk and not stored.history.exists():
        Athlete.history.bulk_history_create([stored], default_change_reason="")


@dataclass(frozen=True)
class IdentityChange:
    """One recorded change of an athlete's identity, for the athlete's pages."""

    at: dt.datetime
    by: str
    reason: str
    changes: list[tuple[str, str, str]]  # (field label, old, new)


_HISTORY_LABELS = {
    "name": gettext_lazy("Full name"),
    "id_number": gettext_lazy("ID number"),
    "gender": gettext_lazy("Gender"),
    "birth_date": gettext_lazy("Birth date"),
    "delegation": gettext_lazy("Delegation"),
}


def _shown(field_name: str, value: object, *, masked: bool) -> str:
    if value in (None, ""):
        return "—"
    if field_name == "id_number" and masked:
        return idnumbers.mask(str(value))
    if field_name == "gender":
        return str(dict(Gender.choices).get(str(value), value))
    if field_name == "delegation":
        return str(Delegation.objects.filter(pk=cast(int, value)).first() or value)
    return str(value)


def athlete_identity_history(athlete: Athlete, *, masked: bool = True) -> list[IdentityChange]:
    """Changes of the athlete's identity fields, newest first, from the audit
    trail. ``masked`` hides ID numbers (leads see them masked)."""
    records = list(athlete.history.select_related("history_user").order_by("history_date", "pk"))
    out: list[IdentityChange] = []
    for prev, record in itertools.pairwise(records):
        delta = record.diff_against(prev, included_fields=list(_HISTORY_LABELS))
        if not delta.changes:
            continue
        user = record.history_user
        out.append(
            IdentityChange(
                at=record.history_date,
                by=(user.get_full_name() or user.get_username()) if user else "—",
                reason=record.history_change_reason or "",
                changes=[
                    (
                        str(_HISTORY_LABELS[c.field]),
                        _shown(c.field, c.old, masked=masked),
                        _shown(c.field, c.new, masked=masked),
                    )
                    for c in delta.changes
                ],
            )
        )
    out.reverse()
    return out


# --------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------


def _closed_error(event: Event) -> ValidationError:
    if event.registration_deadline:
        deadline = date_format(timezone.localtime(event.registration_deadline), "DATETIME_FORMAT")
        return ValidationError(
            _("Registration for %(event)s is closed (deadline %(deadline)s)."),
            params={"event": event.name, "deadline": deadline},
            code="registration_closed",
        )
    return ValidationError(
        _("Registration for %(event)s is closed."),
        params={"event": event.name},
        code="registration_closed",
    )


def _no_quota_error(skill: Skill) -> ValidationError:
    return ValidationError(
        gettext_lazy("Your delegation has no places in %(skill)s. Ask the organisers for a quota."),
        params={"skill": str(skill)},
        code="no_quota",
    )


def _quota_full_error(skill: Skill, quota: int) -> ValidationError:
    return ValidationError(
        gettext_lazy(
            "Your delegation's quota for %(skill)s is full (%(quota)s of %(quota)s places used)."
        ),
        params={"skill": str(skill), "quota": quota},
        code="quota_full",
    )


def _already_entered_error(names: Iterable[str], event: Event) -> ValidationError:
    return ValidationError(
        gettext_lazy(
            "Already entered in %(event)s: %(names)s. An athlete may compete once per event."
        ),
        params={"event": event.name, "names": "、".join(names)},
        code="already_entered",
    )


def quota_problem(quota: int | None, entries: int) -> str | None:
    """The quota rule, one function for the lead pages and the event workbook
    import: ``entries`` (every status) of a delegation in a skill, counted
    with the ones being added, fit its ``quota`` (None: no quota row).
    Returns ``"no_quota"``, ``"quota_full"`` or None. See docs/uploads.md
    for how the import applies it."""
    if quota is None:
        return "no_quota"
    if entries > quota:
        return "quota_full"
    return None


def registration_problem(
    delegation: Delegation, skill: Skill, *, now: dt.datetime | None = None
) -> ValidationError | None:
    """Why ``delegation`` cannot register in ``skill`` right now, or None.

    Read-only, for pages deciding whether to show the form; register_entry
    checks again under a lock.
    """
    if not skill.event.registration_open(now):
        return _closed_error(skill.event)
    quota = Quota.objects.filter(skill=skill, delegation=delegation).first()
    if quota is None:
        return _no_quota_error(skill)
    used = Entry.objects.filter(skill=skill, delegation=delegation).count()
    if quota_problem(quota.max_entries, used + 1):
        return _quota_full_error(skill, quota.max_entries)
    return None


def _new_competitor_no() -> str:
    return str(COMPETITOR_NO_MIN + secrets.randbelow(COMPETITOR_NO_MAX - COMPETITOR_NO_MIN + 1))


def _foreign_members_error(names: Iterable[str]) -> ValidationError:
    return ValidationError(
        gettext_lazy("%(names)s belong(s) to another delegation than the entry."),
        params={"names": "、".join(names)},
        code="foreign_athlete",
    )


def entry_rule_errors(
    skill: Skill,
    delegation: Delegation,
    athletes: Sequence[Athlete],
    *,
    entry: Entry | None = None,
    enforce_quota: bool = True,
) -> list[ValidationError]:
    """Every rule an entry's membership must satisfy, whoever writes it (the
    lead's registration, the admin, the event workbook): at least one member,
    exactly the skill's team size, all members of the entry's delegation,
    each athlete in one entry per event, and the delegation's quota in the
    skill. ``entry`` is the entry being changed (left out of the counts).

    Returns the problems in that order (empty when the entry is fine). The
    workbook passes ``enforce_quota=False``: quotas limit self-registration,
    and the organisers' workbook sets the quotas' own basis (docs/integrity.md).
    The caller that registers holds the quota row's lock while it asks.
    """
    errors: list[ValidationError] = []
    chosen = list({a.pk or id(a): a for a in athletes}.values())
    if not chosen:
        errors.append(
            ValidationError(gettext_lazy("An entry needs at least one athlete."), code="no_members")
        )
    elif len(chosen) != skill.team_size:
        errors.append(
            ValidationError(
                gettext_lazy(
                    "%(skill)s needs exactly %(size)s athlete(s) per entry; %(count)s chosen."
                ),
                params={"skill": str(skill), "size": skill.team_size, "count": len(chosen)},
                code="wrong_team_size",
            )
        )
    foreign = [a.name for a in chosen if a.delegation_id != delegation.pk]
    if foreign:
        errors.append(_foreign_members_error(foreign))
    if enforce_quota:
        quota = Quota.objects.filter(skill=skill, delegation=delegation).first()
        others = Entry.objects.filter(skill=skill, delegation=delegation)
        if entry is not None and entry.pk:
            others = others.exclude(pk=entry.pk)
        problem = quota_problem(quota.max_entries if quota else None, others.count() + 1)
        if problem == "no_quota":
            errors.append(_no_quota_error(skill))
        elif problem == "quota_full" and quota is not None:
            errors.append(_quota_full_error(skill, quota.max_entries))
    saved = [a.pk for a in chosen if a.pk]
    if saved:
        taken = EntryMember.objects.filter(event=skill.event_id, athlete__in=saved)
        if entry is not None and entry.pk:
            taken = taken.exclude(entry=entry)
        names = sorted(m.athlete.name for m in taken.select_related("athlete"))
        if names:
            errors.append(_already_entered_error(names, skill.event))
    return errors


def register_entry(
    lead_delegation: Delegation,
    skill: Skill,
    athletes: Sequence[Athlete],
    *,
    now: dt.datetime | None = None,
) -> Entry:
    """Enter ``athletes`` (one, or a team of skill.team_size) of the lead's delegation.

    Refused (ValidationError) after the event's registration deadline, and
    whenever :func:`entry_rule_errors` finds a problem (the first is raised):
    another delegation's athlete, the wrong team size, no quota or a full
    one, an athlete already entered in the same event.
    """
    event = skill.event
    if not event.registration_open(now):
        raise _closed_error(event)

    chosen = list({a.pk: a for a in athletes}.values())
    if any(a.delegation_id != lead_delegation.pk for a in chosen):
        raise ValidationError(
            _("Only athletes of your own delegation can be entered."), code="foreign_athlete"
        )

    with transaction.atomic():
        # The quota row is the lock: two leads' (or two tabs') registrations
        # for the same delegation and skill queue here, so the count in the
        # rules cannot be read by both before either inserts. Every entry
        # counts, whatever its status: before the deadline a lead withdraws
        # by deleting, so a "withdrawn" entry is one the organisers kept
        # after the deadline, and it still holds its place.
        list(Quota.objects.select_for_update().filter(skill=skill, delegation=lead_delegation))
        errors = entry_rule_errors(skill, lead_delegation, chosen)
        if errors:
            # In the language of this request (the rules' messages are lazy
            # so that the workbook can report them in Chinese and English).
            first = errors[0]
            raise ValidationError(str(first.message), code=first.code, params=first.params)

        entry = _create_entry_with_random_number(skill, lead_delegation)
        try:
            with transaction.atomic():
                for athlete in chosen:
                    EntryMember.objects.create(entry=entry, athlete=athlete)
        except IntegrityError:
            # athlete_once_per_event: a concurrent registration entered one of
            # these athletes after our check. The outer block rolls back.
            raise _already_entered_error(sorted(a.name for a in chosen), event) from None
    return entry


def _create_entry_with_random_number(skill: Skill, delegation: Delegation) -> Entry:
    for _attempt in range(_COMPETITOR_NO_ATTEMPTS):
        number = _new_competitor_no()
        if Entry.objects.filter(skill=skill, competitor_no=number).exists():
            continue
        try:
            # A savepoint: a collision with a concurrent insert only undoes this try.
            with transaction.atomic():
                return Entry.objects.create(
                    skill=skill, delegation=delegation, competitor_no=number
                )
        except IntegrityError:
            continue
    raise ValidationError(
        _("No free competitor number could be drawn; please try again."),
        code="competitor_no_exhausted",
    )


def _marking_started_error(entry: Entry) -> ValidationError:
    return ValidationError(
        _(
            "Marking has started in %(skill)s, so entry %(no)s can no longer be withdrawn. "
            "Ask the organisers to mark it absent or withdrawn."
        ),
        params={"skill": str(entry.skill), "no": entry.competitor_no},
        code="marking_started",
    )


def skills_with_marking_started(skill_ids: Iterable[int]) -> set[int]:
    """Of these skills, those where marking has begun: a mark or any ledger
    record (a write, a sign-off) exists, or the results are published.
    Asked through the reverse relations, so teams needs no scoring import."""
    ids = set(skill_ids)
    if not ids:
        return set()
    return set(
        Skill.objects.filter(pk__in=ids)
        .filter(
            Q(marking__ledger_length__gt=0)
            | Q(publication__published=True)
            | Q(entries__marks__isnull=False)
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def withdrawal_problem(
    lead_delegation: Delegation, entry: Entry, *, now: dt.datetime | None = None
) -> ValidationError | None:
    """Why the lead cannot withdraw ``entry`` now, or None (read-only, for pages)."""
    if entry.delegation_id != lead_delegation.pk:
        raise PermissionDenied
    if not entry.skill.event.registration_open(now):
        return _closed_error(entry.skill.event)
    if entry.skill_id in skills_with_marking_started([entry.skill_id]):
        return _marking_started_error(entry)
    return None


def withdraw_entry(
    lead_delegation: Delegation, entry: Entry, *, now: dt.datetime | None = None
) -> None:
    """Delete the lead's own registration while registration is open and
    marking has not started in its skill.

    After the deadline, or once a mark exists, an entry can only be marked
    withdrawn or absent by the organisers (it keeps its competitor number and
    its marks for the results and the ledger).
    """
    problem = withdrawal_problem(lead_delegation, entry, now=now)
    if problem is not None:
        raise problem
    try:
        with transaction.atomic():
            entry.delete()
    except ProtectedError:
        # A mark was written between the check and the delete: the ledger
        # refers to the entry and protects it.
        raise _marking_started_error(entry) from None


# --------------------------------------------------------------------------
# Read models for the lead's page
# --------------------------------------------------------------------------


@dataclass
class SkillPlaces:
    skill: Skill
    quota: int
    is_open: bool
    entries: list[Entry] = field(default_factory=list)
    marking_started: bool = False

    @property
    def can_withdraw(self) -> bool:
        """Whether the page offers "Withdraw" (withdraw_entry decides again)."""
        return self.is_open and not self.marking_started

    @property
    def used(self) -> int:
        return len(self.entries)

    @property
    def available(self) -> int:
        return max(self.quota - self.used, 0)

    @property
    def can_register(self) -> bool:
        return self.is_open and self.available > 0


@dataclass
class EventPlaces:
    event: Event
    is_open: bool
    skills: list[SkillPlaces] = field(default_factory=list)


def delegation_places(
    delegation: Delegation, *, now: dt.datetime | None = None
) -> list[EventPlaces]:
    """The delegation's quotas and entries, grouped by event then skill."""
    by_skill: dict[int, SkillPlaces] = {}
    quotas = Quota.objects.filter(delegation=delegation).select_related("skill__event")
    for quota in quotas:
        skill = quota.skill
        by_skill[skill.pk] = SkillPlaces(
            skill, quota.max_entries, skill.event.registration_open(now)
        )
    entries = (
        Entry.objects.filter(delegation=delegation)
        .select_related("skill__event")
        .prefetch_related("members__athlete")
        .order_by("competitor_no")
    )
    for entry in entries:
        skill = entry.skill
        # An entry without a quota row (organiser removed it) still shows.
        places = by_skill.setdefault(
            skill.pk, SkillPlaces(skill, 0, skill.event.registration_open(now))
        )
        places.entries.append(entry)

    for skill_id in skills_with_marking_started(by_skill):
        by_skill[skill_id].marking_started = True

    events: dict[int, EventPlaces] = {}
    for places in sorted(by_skill.values(), key=lambda p: p.skill.code):
        event = places.skill.event
        events.setdefault(event.pk, EventPlaces(event, places.is_open)).skills.append(places)
    return sorted(
        events.values(),
        key=lambda e: (e.event.starts_on or dt.date.max, e.event.code),
    )


def eligible_athletes(delegation: Delegation, skill: Skill) -> QuerySet[Athlete]:
    """The delegation's athletes not yet entered anywhere in the skill's event."""
    return (
        Athlete.objects.filter(delegation=delegation)
        .exclude(memberships__event=skill.event_id)
        .order_by("name")
    )


# --------------------------------------------------------------------------
# Judges
# --------------------------------------------------------------------------


# Whether names are revealed is scoring's rule (scoring is above teams, so
# teams cannot ask it): scoring registers it here in its AppConfig.ready().
# Until then nothing is revealed.
_reveal_rule: Callable[[Skill], bool] | None = None


def register_reveal_rule(rule: Callable[[Skill], bool]) -> None:
    """Called by the app that owns the rule (scoring), once at start-up."""
    global _reveal_rule
    _reveal_rule = rule


def names_revealed(skill: Skill) -> bool:
    """Whether judges of ``skill`` may see names and delegations (解密, docs/integrity.md):
    once the chief judge has signed off the skill's marks. The rule lives in
    the scoring app, which registers it (``register_reveal_rule``); teams'
    pages ask here so they need not know it. No rule registered: hidden."""
    return _reveal_rule is not None and bool(_reveal_rule(skill))


def judge_entries(skill: Skill, judge: Judge, *, revealed: bool = False) -> list[Entry]:
    """Entries the judge may see in ``skill``: all but their own delegation's (回避).

    Names and delegations are loaded only once they are revealed, so a page
    cannot show what it was never given.
    """
    entries = (
        Entry.objects.filter(skill=skill)
        .exclude(delegation_id=judge.delegation_id)
        .order_by("competitor_no")
    )
    if revealed:
        entries = entries.select_related("delegation").prefetch_related("members__athlete")
    else:
        entries = entries.only("pk", "skill_id", "competitor_no", "status")
    return list(entries)


def judge_panel(skill: Skill) -> list[JudgeAssignment]:
    """The skill's judges, chief first, for the chief judge's page."""
    return list(
        JudgeAssignment.objects.filter(skill=skill)
        .select_related("judge")
        .annotate(chief_first=Case(When(role=JudgeAssignment.Role.CHIEF, then=0), default=1))
        .order_by("chief_first", "judge__code")
    )
