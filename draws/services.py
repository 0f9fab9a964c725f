"""Nominations, closing the pool and the computer draw (docs/draws.md).

The draw, exactly:

* pool = the entries of the final skill's code in the source event that are
  neither withdrawn nor absent and none of whose athletes is already entered
  in the final's skill;
* key(entry) = SHA-256 of the UTF-8 text ``seed + "|" + competitor_no`` (the
  source event's number), as lowercase hex;
* the drawn are the ``count`` entries with the smallest keys, in key order.

Each drawn entry's athletes are entered in the final's skill with a new
random competitor number (as selection-round advancement does), so judges
of the final cannot link them to the earlier round. A skill's first draw
needs no reason; any further draw is refused unless a reason is given, and
is logged beside the first (both stay on the public page).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Event, Skill
from teams import roles
from teams import services as team_services
from teams.models import Delegation, Entry, EntryMember

from .models import ALGORITHM, Draw, Nomination, PoolClosure

SEED_MAX = 200
REASON_MAX = 1000
_NUMBER_ATTEMPTS = 200


class DrawRefused(Exception):
    """The rules refuse a draw, a closure or a nomination; ``message`` is for the person."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# ------------------------------------------------------------------ the rule


def draw_key(seed: str, competitor_no: str) -> str:
    """SHA-256 of ``seed|competitor_no`` (UTF-8), lowercase hex."""
    return hashlib.sha256((seed + "|" + competitor_no).encode("utf-8")).hexdigest()


def drawn_numbers(seed: str, pool: Iterable[str], count: int) -> list[tuple[str, str]]:
    """(competitor_no, key) of the ``count`` smallest keys, in key order."""
    keyed = sorted((draw_key(seed, no), no) for no in pool)
    return [(no, key) for key, no in keyed[:count]]


def number_order(no: str) -> tuple:
    """Competitor numbers in reading order: numeric ones by value, then the rest."""
    return (0, int(no), no) if no.isdigit() else (1, 0, no)


def check_seed(seed: str) -> str:
    if not seed:
        raise DrawRefused(_("Enter the seed."), code="seed")
    if seed != seed.strip():
        raise DrawRefused(
            _("The seed must not begin or end with spaces: it is hashed exactly as written."),
            code="seed",
        )
    if len(seed) > SEED_MAX:
        raise DrawRefused(
            _("The seed may be at most %(n)d characters.") % {"n": SEED_MAX}, code="seed"
        )
    if any(ord(c) < 32 for c in seed):
        raise DrawRefused(_("The seed must not contain control characters."), code="seed")
    return seed


# ------------------------------------------------------------------ look-ups


def source_skill_for(final: Skill, source_event: Event) -> Skill:
    if source_event.pk == final.event_id:
        raise DrawRefused(_("The source event must be another event than the final."), "source")
    skill = Skill.objects.filter(event=source_event, code=final.code).first()
    if skill is None:
        raise DrawRefused(
            _("%(event)s has no skill %(code)s.")
            % {"event": source_event.name, "code": final.code},
            code="source",
        )
    if skill.team_size != final.team_size:
        raise DrawRefused(_("The team sizes of the two skills differ."), code="source")
    return skill


def pool_entries(final: Skill, source: Skill) -> list[Entry]:
    """The pool, in competitor-number order (see the module docstring)."""
    in_final = set(
        EntryMember.objects.filter(entry__skill=final).values_list("athlete_id", flat=True)
    )
    entries = (
        Entry.objects.filter(skill=source, status=Entry.Status.REGISTERED)
        .select_related("delegation")
        .prefetch_related("members__athlete")
    )
    pool = [e for e in entries if not any(m.athlete_id in in_final for m in e.members.all())]
    return sorted(pool, key=lambda e: number_order(e.competitor_no))


def open_closure(final: Skill) -> PoolClosure | None:
    """The latest closure of the skill not yet used by a draw."""
    closure = final.pool_closures.select_related("source_skill__event").first()
    if closure is None or closure.draws.exists():
        return None
    return closure


def pool_is_closed(final: Skill) -> bool:
    """Nominations stop once the organiser closes the pool or draws."""
    return final.pool_closures.exists() or final.draws.exists()


def draws_of(final: Skill) -> list[Draw]:
    return list(final.draws.select_related("source_skill__event", "by").order_by("seq"))


# ------------------------------------------------------------------ nominations


def nomination_candidates(delegation: Delegation, final: Skill) -> list[Entry]:
    """The delegation's entries with the final skill's code in the programme's
    other events that could be nominated (registered, athletes not entered)."""
    taken = set(
        EntryMember.objects.filter(event_id=final.event_id).values_list("athlete_id", flat=True)
    )
    entries = (
        Entry.objects.filter(
            delegation=delegation,
            status=Entry.Status.REGISTERED,
            skill__code=final.code,
            skill__event__programme_id=final.event.programme_id,
            skill__team_size=final.team_size,
        )
        .exclude(skill__event_id=final.event_id)
        .select_related("skill__event")
        .prefetch_related("members__athlete")
    )
    return [e for e in entries if not any(m.athlete_id in taken for m in e.members.all())]


def nominate(user, final: Skill, source_entry: Entry) -> Nomination:
    """A lead nominates one of their delegation's earlier entries for the final.

    The quota, the registration deadline, the team size and "an athlete once
    per event" are the registration rules of ``teams.services.register_entry``;
    on top, nominations stop once the pool is closed.
    """
    delegation = roles.lead_delegation(user)
    if delegation is None or source_entry.delegation_id != delegation.pk:
        raise PermissionDenied(_("Only the delegation's lead may nominate its entries."))
    if source_entry.status != Entry.Status.REGISTERED:
        raise DrawRefused(_("Only a registered entry can be nominated."), code="status")
    if (
        source_entry.skill.code != final.code
        or source_entry.skill.event.programme_id != final.event.programme_id
        or source_entry.skill.event_id == final.event_id
    ):
        raise DrawRefused(_("This entry is not of an earlier round of the skill."), code="source")
    with transaction.atomic():
        Skill.objects.select_for_update().filter(pk=final.pk).first()
        if pool_is_closed(final):
            raise DrawRefused(
                _("The pool of %(skill)s is closed: nominations are over.") % {"skill": final},
                code="closed",
            )
        athletes = [m.athlete for m in source_entry.members.select_related("athlete")]
        try:
            entry = team_services.register_entry(delegation, final, athletes)
        except ValidationError as exc:
            raise DrawRefused(" ".join(exc.messages), code=exc.code or "registration") from None
        return Nomination.objects.create(
            skill=final,
            source_entry=source_entry,
            created_entry=entry,
            delegation=delegation,
            source_competitor_no=source_entry.competitor_no,
            by=user,
        )


# ------------------------------------------------------------------ closing and drawing


def _require_organiser(user) -> None:
    if user is not None and not roles.is_organiser(user):
        raise PermissionDenied(_("Only organisers may close pools and draw."))


def close_pool(final: Skill, source_event: Event, seed_source: str, user) -> PoolClosure:
    """Freeze the pool and announce where the seed will come from."""
    _require_organiser(user)
    seed_source = (seed_source or "").strip()
    if not seed_source:
        raise DrawRefused(_("Say where the seed will come from."), code="seed_source")
    if len(seed_source) > 500:
        raise DrawRefused(_("At most 500 characters."), code="seed_source")
    with transaction.atomic():
        Skill.objects.select_for_update().filter(pk=final.pk).first()
        if open_closure(final) is not None:
            raise DrawRefused(_("The pool is already closed and awaits its draw."), "closed")
        source = source_skill_for(final, source_event)
        pool = [e.competitor_no for e in pool_entries(final, source)]
        if not pool:
            raise DrawRefused(_("The pool is empty."), code="empty")
        return PoolClosure.objects.create(
            skill=final, source_skill=source, seed_source=seed_source, pool=pool, by=user
        )


@dataclass(frozen=True)
class DrawPreview:
    pool: list[Entry]
    keys: dict[str, str]
    drawn: list[tuple[str, str]]


def preview(final: Skill, source: Skill, seed: str, count: int) -> DrawPreview:
    """What the draw would give, with nothing written (for tests and the page)."""
    pool = pool_entries(final, source)
    numbers = [e.competitor_no for e in pool]
    return DrawPreview(
        pool, {no: draw_key(seed, no) for no in numbers}, drawn_numbers(seed, numbers, count)
    )


def _new_number(final: Skill, taken: set[str]) -> str:
    for _attempt in range(_NUMBER_ATTEMPTS):
        number = str(
            team_services.COMPETITOR_NO_MIN
            + secrets.randbelow(
                team_services.COMPETITOR_NO_MAX - team_services.COMPETITOR_NO_MIN + 1
            )
        )
        if number not in taken:
            return number
    raise DrawRefused(_("No free competitor number could be drawn; please try again."), "numbers")


def _enter(final: Skill, source: Entry, taken: set[str]) -> Entry:
    """The drawn entry's athletes in the final, under a new random number."""
    for _attempt in range(_NUMBER_ATTEMPTS):
        number = _new_number(final, taken | {source.competitor_no})
        taken.add(number)
        try:
            with transaction.atomic():
                entry = Entry.objects.create(
                    skill=final, delegation_id=source.delegation_id, competitor_no=number
                )
        except IntegrityError:
            continue
        try:
            with transaction.atomic():
                for member in source.members.all():
                    EntryMember.objects.create(entry=entry, athlete_id=member.athlete_id)
        except IntegrityError:
            names = "、".join(m.athlete.name for m in source.members.all())
            raise DrawRefused(
                _(
                    "Drawn entry %(no)s cannot be entered: %(names)s already competes in "
                    "another skill of %(event)s. Nothing was drawn."
                )
                % {"no": source.competitor_no, "names": names, "event": final.event.name},
                code="already_entered",
            ) from None
        return entry
    raise DrawRefused(_("No free competitor number could be drawn; please try again."), "numbers")


def _check_count(count: int, pool_size: int) -> None:
    if count < 1:
        raise DrawRefused(_("Draw at least one entry."), code="count")
    if count > pool_size:
        raise DrawRefused(
            _("The pool holds %(n)d entries; %(k)d cannot be drawn from it.")
            % {"n": pool_size, "k": count},
            code="count",
        )


def _refuse_redraw_without_reason(final: Skill, earlier: Draw | None, reason: str) -> None:
    if earlier is not None and not reason:
        raise DrawRefused(
            _(
                "%(skill)s was already drawn (draw %(seq)d, %(at)s). A further draw "
                "needs a reason, which is published beside the first."
            )
            % {
                "skill": final,
                "seq": earlier.seq,
                "at": timezone.localtime(earlier.at).strftime("%Y-%m-%d %H:%M"),
            },
            code="redraw_needs_reason",
        )


def _check_closure(closure: PoolClosure | None, source: Skill, numbers: list[str]) -> None:
    """A closed pool is drawn from as it was closed, on the event it was closed on."""
    if closure is None:
        return
    if closure.source_skill_id != source.pk:
        raise DrawRefused(_("The pool was closed on another source event."), code="closed")
    if sorted(closure.pool, key=number_order) != numbers:
        raise DrawRefused(
            _("The pool changed since it was closed; close it again before drawing."),
            code="pool_changed",
        )


def _enter_drawn(final: Skill, pool: list[Entry], seed: str, count: int) -> list[dict]:
    """Enter the drawn entries in the final; the draw's published result rows."""
    by_number = {e.competitor_no: e for e in pool}
    taken = set(Entry.objects.filter(skill=final).values_list("competitor_no", flat=True))
    result = []
    for no, key in drawn_numbers(seed, list(by_number), count):
        source_entry = by_number[no]
        created = _enter(final, source_entry, taken)
        result.append(
            {
                "competitor_no": no,
                "key": key,
                "final_no": created.competitor_no,
                "delegation": source_entry.delegation.code,
            }
        )
    return result


def draw(
    final: Skill,
    source_event: Event,
    *,
    count: int,
    seed: str,
    user=None,
    reason: str = "",
) -> Draw:
    """Perform and record one draw; enter the drawn in the final. All or nothing.

    ``user`` None is the command line (an operator at the server).
    """
    _require_organiser(user)
    check_seed(seed)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DrawRefused(_("At most %(n)d characters.") % {"n": REASON_MAX}, code="reason")
    with transaction.atomic():
        # The final skill's row serialises draws, closures and nominations.
        final = Skill.objects.select_for_update().select_related("event").get(pk=final.pk)
        earlier = final.draws.order_by("-seq").first()
        _refuse_redraw_without_reason(final, earlier, reason)
        source = source_skill_for(final, source_event)
        pool = pool_entries(final, source)
        numbers = [e.competitor_no for e in pool]
        closure = open_closure(final)
        _check_closure(closure, source, numbers)
        _check_count(count, len(numbers))
        return Draw.objects.create(
            skill=final,
            source_skill=source,
            closure=closure,
            seq=(earlier.seq + 1) if earlier else 1,
            count=count,
            seed=seed,
            algorithm=ALGORITHM,
            pool=numbers,
            result=_enter_drawn(final, pool, seed, count),
            reason=reason,
            by=user,
        )


def recheck(draw_row: Draw) -> bool:
    """Recompute a stored draw from its pool and seed: True when it matches."""
    again = drawn_numbers(draw_row.seed, draw_row.pool, draw_row.count)
    return again == [(r["competitor_no"], r["key"]) for r in draw_row.result]


def pool_keys(draw_row: Draw) -> list[tuple[str, str, bool]]:
    """(competitor_no, key, drawn) for the whole pool, in key order (public page)."""
    drawn = {r["competitor_no"] for r in draw_row.result}
    rows = sorted((draw_key(draw_row.seed, no), no) for no in draw_row.pool)
    return [(no, key, no in drawn) for key, no in rows]


def final_skills(event: Event) -> Sequence[Skill]:
    return list(event.skills.order_by("code"))


def recheck_snippet(draw_row: Draw) -> str:
    """A few lines of Python 3 that redo ``draw_row`` from its published facts.

    JSON string and list literals are valid Python literals, so the seed and
    the pool are written with ``json.dumps`` (quotes and backslashes escaped).
    """
    return "\n".join(
        [
            "import hashlib",
            f"seed = {json.dumps(draw_row.seed, ensure_ascii=False)}",
            f"pool = {json.dumps(list(draw_row.pool), ensure_ascii=False)}",
            f"count = {int(draw_row.count)}",
            "keys = sorted((hashlib.sha256((seed + '|' + no).encode('utf-8')).hexdigest(), no)"
            " for no in pool)",
            "for key, no in keys[:count]:",
            "    print(no, key, sep='\\t')",
        ]
    )
