"""Selection rounds: advancing the qualifiers of a skill into the next event.

A programme narrows its candidates over several events (selection round 1 →
round 2 → final). Once a skill's marks are signed off, an organiser advances
its qualifiers into the skill with the same code in the next event:

* **Rule** — the top N by rank, or every entry whose final score is at or
  above a threshold. Only ranked entries (registered, with a rank) qualify.
* **Ties at the cut-off** — everyone tied with the Nth is included. With
  standard competition ranking (1, 2, 2, 4) that is exactly "rank ≤ N": an
  entry of rank r has r − 1 entries strictly ahead of it, so a tie group
  that reaches position N has a rank ≤ N. Top 2 of ranks 1, 2, 2, 4 advances
  three entries.
* **Next event** — the programme's events ordered by start date (undated
  events last), then code; the next one after the source event that is a
  selection round or the final and has a skill with the same code. Training
  rounds are never a target.
* **What is created** — a new entry per qualifier in the target skill, same
  delegation and athletes, with a NEW random competitor number (unique in the
  target skill and different from the qualifier's old number, so judges of
  the next round cannot link the two). Quotas are not consulted: advancing
  is an organiser's decision, not a lead's registration.
* **Refused** when the target event has started (status past registration,
  or its start date reached, Asia/Shanghai date), when the team sizes
  differ, or when any qualifier's athlete is already entered in the target
  event (``athlete_once_per_event``) — all or nothing, with the names.
* **Undo** deletes the created entries, under the same "not started" rule,
  and only while none of them has a mark. The ``Advancement`` row stays,
  marked undone, with its ``AdvancedEntry`` rows as the record.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import AdvancedEntry, Advancement, Event, Skill
from scoring.models import EntryResult, LedgerRecord, Mark, SkillMarking
from teams import roles
from teams.models import Entry, EntryMember
from teams.services import COMPETITOR_NO_MAX, COMPETITOR_NO_MIN

_NUMBER_ATTEMPTS = 200


class AdvancementRefused(Exception):
    """The rules refuse an advancement or its undo; ``message`` is for the person."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Qualifier:
    entry: Entry
    rank: int
    final_score: Decimal | None
    names: str
    # Athletes of this entry already entered in the target event (blocks all).
    already_entered: tuple[str, ...] = ()


@dataclass
class AdvancementPlan:
    """What :func:`advance` would do — the preview page shows this."""

    source: Skill
    target: Skill | None
    rule: str
    top_n: int | None
    min_score: Decimal | None
    qualifiers: list[Qualifier] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def can_confirm(self) -> bool:
        return not self.problems and bool(self.qualifiers)


# ---------------------------------------------------------------- look-ups


def _event_order(event: Event) -> tuple:
    return (event.starts_on is None, event.starts_on or dt.date.max, event.code)


def _later_events(event: Event) -> list[Event]:
    """Selection rounds and finals of the programme after ``event``, in order."""
    others = Event.objects.filter(programme_id=event.programme_id).exclude(pk=event.pk)
    return sorted(
        (
            e
            for e in others
            if _event_order(e) > _event_order(event) and e.kind != Event.Kind.TRAINING
        ),
        key=_event_order,
    )


def next_event(event: Event) -> Event | None:
    """The programme's next selection round or final after ``event``."""
    later = _later_events(event)
    return later[0] if later else None


def target_skill(skill: Skill) -> Skill | None:
    """The skill with the same code in the first later event that holds it."""
    for event in _later_events(skill.event):
        target = Skill.objects.filter(event=event, code=skill.code).select_related("event").first()
        if target is not None:
            return target
    return None


def _today() -> dt.date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai


def event_started_problem(event: Event, today: dt.date | None = None) -> str | None:
    """Why ``event`` counts as started (no more advancing or undoing), or None."""
    today = today or _today()
    if event.status not in (Event.Status.DRAFT, Event.Status.REGISTRATION):
        return _("%(event)s has already started (status: %(status)s).") % {
            "event": event.name,
            "status": event.get_status_display(),
        }
    if event.starts_on is not None and today >= event.starts_on:
        return _("%(event)s has already started (on %(date)s).") % {
            "event": event.name,
            "date": event.starts_on.isoformat(),
        }
    return None


def _signed_off(skill: Skill, *, lock: bool = False) -> bool:
    markings = SkillMarking.objects.filter(skill_id=skill.pk)
    if lock:
        markings = markings.select_for_update()
    marking = markings.first()
    return marking is not None and marking.is_signed_off


def _parse_rule(top_n: int | None, min_score: Decimal | None) -> str:
    if (top_n is None) == (min_score is None):
        raise AdvancementRefused(
            _("Choose either the top N or a minimum final score."), code="rule"
        )
    if top_n is not None and top_n < 1:
        raise AdvancementRefused(_("N must be at least 1."), code="rule")
    if min_score is not None and min_score < 0:
        raise AdvancementRefused(_("The minimum score cannot be negative."), code="rule")
    return Advancement.Rule.TOP_N if top_n is not None else Advancement.Rule.MIN_SCORE


def qualifiers(
    skill: Skill, *, top_n: int | None = None, min_score: Decimal | None = None
) -> list[Qualifier]:
    """Ranked entries of ``skill`` meeting the rule, best first (ties with the Nth in)."""
    _parse_rule(top_n, min_score)
    results = EntryResult.objects.filter(
        skill=skill, rank__isnull=False, entry__status=Entry.Status.REGISTERED
    )
    if top_n is not None:
        results = results.filter(rank__lte=top_n)
    else:
        results = results.filter(final_score__gte=min_score)
    results = results.select_related("entry__delegation").prefetch_related(
        "entry__members__athlete"
    )
    return [
        Qualifier(
            entry=r.entry,
            rank=cast(int, r.rank),  # filtered on rank__isnull=False
            final_score=r.final_score,
            names="、".join(m.athlete.name for m in r.entry.members.all()),
        )
        for r in results.order_by("rank", "entry__competitor_no")
    ]


def _with_conflicts(found: list[Qualifier], target: Skill) -> list[Qualifier]:
    athlete_ids = [m.athlete_id for q in found for m in q.entry.members.all()]
    taken = set(
        EntryMember.objects.filter(
            event_id=target.event_id, athlete_id__in=athlete_ids
        ).values_list("athlete_id", flat=True)
    )
    if not taken:
        return found
    return [
        Qualifier(
            entry=q.entry,
            rank=q.rank,
            final_score=q.final_score,
            names=q.names,
            already_entered=tuple(
                m.athlete.name for m in q.entry.members.all() if m.athlete_id in taken
            ),
        )
        for q in found
    ]


def plan(
    skill: Skill,
    *,
    top_n: int | None = None,
    min_score: Decimal | None = None,
    today: dt.date | None = None,
) -> AdvancementPlan:
    """The preview: who qualifies, where they go, and anything that blocks it."""
    rule = _parse_rule(top_n, min_score)
    target = target_skill(skill)
    result = AdvancementPlan(skill, target, rule, top_n, min_score)
    if not _signed_off(skill):
        result.problems.append(
            _("%(skill)s is not signed off: its qualifiers are not final.") % {"skill": skill}
        )
    if target is None:
        result.problems.append(
            _("No later selection round or final of this programme has a skill %(code)s.")
            % {"code": skill.code}
        )
    else:
        started = event_started_problem(target.event, today)
        if started:
            result.problems.append(started)
        if target.team_size != skill.team_size:
            result.problems.append(
                _("Team sizes differ: %(source)s has %(a)s, %(target)s has %(b)s.")
                % {
                    "source": skill.event.name,
                    "a": skill.team_size,
                    "target": target.event.name,
                    "b": target.team_size,
                }
            )
    found = qualifiers(skill, top_n=top_n, min_score=min_score)
    if target is not None:
        found = _with_conflicts(found, target)
        clashes = [name for q in found for name in q.already_entered]
        if clashes:
            result.problems.append(
                _("Already entered in %(event)s: %(names)s. An athlete may compete once per event.")
                % {"event": target.event.name, "names": "、".join(clashes)}
            )
    if not found and not result.problems:
        result.problems.append(_("No entry meets this rule."))
    result.qualifiers = found
    return result


# ---------------------------------------------------------------- changes


def _require_organiser(user) -> None:
    if user is None or not roles.is_organiser(user):
        raise PermissionDenied(_("Only organisers may advance qualifiers."))


def _draw_number(taken: set[str]) -> str:
    for _attempt in range(_NUMBER_ATTEMPTS):
        number = str(
            COMPETITOR_NO_MIN + secrets.randbelow(COMPETITOR_NO_MAX - COMPETITOR_NO_MIN + 1)
        )
        if number not in taken:
            return number
    raise AdvancementRefused(
        _("No free competitor number could be drawn; please try again."), code="numbers"
    )


def _create_entry(target: Skill, source: Entry, taken: set[str]) -> Entry:
    # A number a lead's concurrent registration takes meanwhile fails the
    # unique constraint inside the savepoint; draw again.
    for _attempt in range(_NUMBER_ATTEMPTS):
        number = _draw_number(taken)
        taken.add(number)
        try:
            with transaction.atomic():
                return Entry.objects.create(
                    skill=target, delegation_id=source.delegation_id, competitor_no=number
                )
        except IntegrityError:
            continue
    raise AdvancementRefused(
        _("No free competitor number could be drawn; please try again."), code="numbers"
    )


def _enter_qualifiers(advancement: Advancement, found: AdvancementPlan) -> None:
    """Enter each qualifier in the target skill under a new number, with its
    members, and record where it came from. Inside ``advance``'s transaction."""
    assert found.target is not None
    taken = set(Entry.objects.filter(skill=found.target).values_list("competitor_no", flat=True))
    for q in found.qualifiers:
        # The old number is excluded too: a new round, a new anonymity.
        created = _create_entry(found.target, q.entry, taken | {q.entry.competitor_no})
        taken.add(created.competitor_no)
        try:
            with transaction.atomic():
                for member in q.entry.members.all():
                    EntryMember.objects.create(entry=created, athlete_id=member.athlete_id)
        except IntegrityError:
            # A lead entered one of them after our check: refuse everything.
            raise AdvancementRefused(
                _("Already entered in %(event)s: %(names)s. An athlete may compete once per event.")
                % {"event": found.target.event.name, "names": q.names},
                code="already_entered",
            ) from None
        AdvancedEntry.objects.create(
            advancement=advancement,
            source_entry=q.entry,
            created_entry=created,
            delegation_id=q.entry.delegation_id,
            source_competitor_no=q.entry.competitor_no,
            source_rank=q.rank,
            source_final_score=q.final_score,
            competitor_no=created.competitor_no,
            names=q.names[:500],
        )


def advance(
    skill: Skill,
    by_user,
    *,
    top_n: int | None = None,
    min_score: Decimal | None = None,
    today: dt.date | None = None,
) -> Advancement:
    """Advance the qualifiers of ``skill``; all or nothing. Organisers only."""
    _require_organiser(by_user)
    with transaction.atomic():
        # The sign-off lock: a reopening cannot change the ranks under us.
        _signed_off(skill, lock=True)
        target = target_skill(skill)
        if target is not None:
            # Serialises advancements into one skill (numbers, conflicts).
            Skill.objects.select_for_update().filter(pk=target.pk).first()
        found = plan(skill, top_n=top_n, min_score=min_score, today=today)
        if found.problems:
            raise AdvancementRefused(" ".join(found.problems), code="blocked")
        assert found.target is not None
        advancement = Advancement.objects.create(
            source_skill=skill,
            target_skill=found.target,
            rule=found.rule,
            top_n=top_n,
            min_score=min_score,
            by=by_user,
        )
        _enter_qualifiers(advancement, found)
    return advancement


def undo_problem(advancement: Advancement, today: dt.date | None = None) -> str | None:
    """Why ``advancement`` cannot be undone now, or None."""
    if advancement.is_undone:
        return _("This advancement was already undone.")
    started = event_started_problem(advancement.target_skill.event, today)
    if started:
        return started
    created = advancement.entries.filter(created_entry__isnull=False).values("created_entry")
    if (
        Mark.objects.filter(entry_id__in=created).exists()
        or LedgerRecord.objects.filter(entry_id__in=created).exists()
    ):
        return _("Some advanced entries already have marks; they cannot be deleted.")
    return None


def undo(advancement: Advancement, by_user, *, today: dt.date | None = None) -> Advancement:
    """Delete the entries the advancement created. Organisers only."""
    _require_organiser(by_user)
    with transaction.atomic():
        advancement = (
            Advancement.objects.select_for_update()
            .select_related("target_skill__event")
            .get(pk=advancement.pk)
        )
        problem = undo_problem(advancement, today)
        if problem:
            raise AdvancementRefused(problem, code="cannot_undo")
        entry_ids = list(
            advancement.entries.filter(created_entry__isnull=False).values_list(
                "created_entry", flat=True
            )
        )
        # A lead may have withdrawn one meanwhile; deleting the rest is enough.
        Entry.objects.filter(pk__in=entry_ids, skill=advancement.target_skill).delete()
        advancement.undone_at = timezone.now()
        advancement.undone_by = by_user
        advancement.save(update_fields=["undone_at", "undone_by"])
    return advancement


def advancements_of(skill: Skill) -> QuerySet[Advancement]:
    """Advancements out of ``skill``, newest first, for the page's list."""
    return (
        Advancement.objects.filter(source_skill=skill)
        .select_related("target_skill__event", "by", "undone_by")
        .prefetch_related("entries__delegation")
    )
