"""Rules and writes for delegations' athletes and entries, and what judges see.

Views and the admin call these functions; they never write teams data
themselves. Every function takes the acting delegation (or skill) explicitly
so that the rule "a lead only touches their own delegation" is checked here
too, not only by the views' scoped look-ups.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, QuerySet, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from competitions.models import Event, Skill

from . import idnumbers
from .models import Athlete, Delegation, Entry, EntryMember, Judge, JudgeAssignment, Quota

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
) -> Athlete:
    """Change an athlete's details; same rules as :func:`add_athlete`.

    ``id_number`` is stored as given (None clears it). Pages that show leads
    only the masked number pass the stored value back when the lead leaves
    the field blank.
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
    for attr in ("name", "gender", "birth_date", "id_number", "employer", "phone"):
        setattr(athlete, attr, getattr(candidate, attr))
    return _save_athlete(athlete)


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
        _("Your delegation has no places in %(skill)s. Ask the organisers for a quota."),
        params={"skill": str(skill)},
        code="no_quota",
    )


def _quota_full_error(skill: Skill, quota: int) -> ValidationError:
    return ValidationError(
        _("Your delegation's quota for %(skill)s is full (%(quota)s of %(quota)s places used)."),
        params={"skill": str(skill), "quota": quota},
        code="quota_full",
    )


def _already_entered_error(names: Iterable[str], event: Event) -> ValidationError:
    return ValidationError(
        _("Already entered in %(event)s: %(names)s. An athlete may compete once per event."),
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


def register_entry(
    lead_delegation: Delegation,
    skill: Skill,
    athletes: Sequence[Athlete],
    *,
    now: dt.datetime | None = None,
) -> Entry:
    """Enter ``athletes`` (one, or a team of skill.team_size) of the lead's delegation.

    Refused (ValidationError) after the event's registration deadline, when
    the delegation has no quota or its quota is used up, when an athlete is
    of another delegation or already entered in the same event, or when the
    number of athletes is not the skill's team size.
    """
    event = skill.event
    if not event.registration_open(now):
        raise _closed_error(event)

    chosen = list({a.pk: a for a in athletes}.values())
    if any(a.delegation_id != lead_delegation.pk for a in chosen):
        raise ValidationError(
            _("Only athletes of your own delegation can be entered."), code="foreign_athlete"
        )
    if len(chosen) != skill.team_size:
        raise ValidationError(
            _("%(skill)s needs exactly %(size)s athlete(s) per entry; %(count)s chosen."),
            params={"skill": str(skill), "size": skill.team_size, "count": len(chosen)},
            code="wrong_team_size",
        )

    with transaction.atomic():
        # The quota row is the lock: two leads' (or two tabs') registrations
        # for the same delegation and skill queue here, so the count below
        # cannot be read by both before either inserts.
        quota = (
            Quota.objects.select_for_update()
            .filter(skill=skill, delegation=lead_delegation)
            .first()
        )
        if quota is None:
            raise _no_quota_error(skill)
        # Every entry counts, whatever its status: before the deadline a lead
        # withdraws by deleting, so a "withdrawn" entry is one the organisers
        # kept after the deadline, and it still holds its place.
        used = Entry.objects.filter(skill=skill, delegation=lead_delegation).count()
        if quota_problem(quota.max_entries, used + 1):
            raise _quota_full_error(skill, quota.max_entries)

        taken = EntryMember.objects.filter(event=event, athlete__in=chosen).select_related(
            "athlete"
        )
        if taken:
            raise _already_entered_error(sorted(m.athlete.name for m in taken), event)

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


def withdraw_entry(
    lead_delegation: Delegation, entry: Entry, *, now: dt.datetime | None = None
) -> None:
    """Delete the lead's own registration while registration is open.

    After the deadline an entry can only be marked withdrawn or absent by the
    organisers (it keeps its competitor number for the results).
    """
    if entry.delegation_id != lead_delegation.pk:
        raise PermissionDenied
    if not entry.skill.event.registration_open(now):
        raise _closed_error(entry.skill.event)
    entry.delete()


# --------------------------------------------------------------------------
# Read models for the lead's page
# --------------------------------------------------------------------------


@dataclass
class SkillPlaces:
    skill: Skill
    quota: int
    is_open: bool
    entries: list[Entry] = field(default_factory=list)

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


def names_revealed(skill: Skill) -> bool:
    """Whether judges of ``skill`` may see names and delegations (解密, DESIGN §5):
    once the chief judge has signed off the skill's marks. The rule lives in
    the scoring app; teams' pages ask here so they need not know it."""
    from scoring.services import names_revealed as signed_off

    return signed_off(skill)


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
