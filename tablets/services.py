"""Rules of the judges' tablets: signing in, what a judge is offered, the mark
endpoint's logic, re-mark requests and the chief judge's progress grid.

Marks are only ever written through ``scoring.marks.write_mark``; this
module decides what to offer and how to answer, never whether a mark is
allowed (the mark service and ``scoring.panels`` own that rule).

Anonymity (docs/integrity.md): every structure handed to the judge's pages carries
competitor numbers only. Names appear only when ``names_revealed(skill)``;
delegations never appear in what a judge sees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring import marks, panels, refusals, rows, signoff
from scoring.models import JUDGEMENT_SCORES, Aspect, AspectKind, Criterion, Mark
from scoring.status import MarkingStatus, marking_status
from teams import roles
from teams.models import Entry, Judge, JudgeAssignment

from .models import JudgeCredential, JudgeLink, PinFailure, RemarkRequest, TabletSession

if TYPE_CHECKING:
    from competitions.models import Skill

# ---------------------------------------------------------------- settings

PIN_LENGTH = 6
# Throttling must not become a way to lock a judge out (see
# docs/tablet-pins.md). Five failures for one judge code from one address
# lock only that pair, for 15 minutes after the last of them. A judge code is
# locked from every address only after 100 failures within an hour: far more
# than a judge mistyping, enough to bound a guessing attack spread over many
# addresses. A new PIN or "unlock" on the chief judge's board lifts both.
PIN_FAILURE_LIMIT = 5
PIN_COOLOFF = dt.timedelta(minutes=15)
PIN_CODE_FAILURE_LIMIT = 100
PIN_CODE_WINDOW = dt.timedelta(hours=1)
# last_seen is written at most this often: a tap must not cost an UPDATE.
LAST_SEEN_EVERY = dt.timedelta(seconds=60)
VENUE_TZ = ZoneInfo("Asia/Shanghai")


def session_hours() -> int:
    return int(getattr(settings, "TABLET_SESSION_HOURS", 14))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plain(value: Decimal | None) -> str:
    """A mark as the tablet shows and sends it: '2', '0.5', '12.25'."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


# ---------------------------------------------------------------- who manages


def may_manage_skill(user, skill: Skill) -> bool:
    return signoff.may_manage(user, skill)


def may_manage_judge(user, judge: Judge) -> bool:
    """Organisers, or the chief judge of a skill the judge is assigned to."""
    if roles.is_organiser(user):
        return True
    chief = roles.judge_of(user)
    if chief is None:
        return False
    return JudgeAssignment.objects.filter(
        judge=chief,
        role=JudgeAssignment.Role.CHIEF,
        skill__assignments__judge=judge,
    ).exists()


# ---------------------------------------------------------------- PINs


def generate_pin(judge: Judge, by_user) -> str:
    """A new random PIN for the judge; returns it in clear (show it once).
    It lifts any lock on the judge's code: the chief judge has just handed
    the judge a PIN, so failures before it say nothing about it."""
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    with transaction.atomic():
        JudgeCredential.objects.update_or_create(
            judge=judge,
            defaults={"pin_hash": make_password(pin), "set_at": timezone.now(), "set_by": by_user},
        )
        unlock_pin(judge)
    return pin


class PinThrottled(Exception):
    """Too many failed PIN sign-ins for this judge code (and address)."""


def _pair_locked_until(times: list[dt.datetime]) -> dt.datetime | None:
    """When a pair's lock ends, from its failures newest first (None: not
    locked): ``PIN_FAILURE_LIMIT`` failures within 15 minutes lock the pair
    until 15 minutes after the last one."""
    if len(times) < PIN_FAILURE_LIMIT:
        return None
    if times[0] - times[PIN_FAILURE_LIMIT - 1] > PIN_COOLOFF:
        return None
    return times[0] + PIN_COOLOFF


def pin_locked(code: str, ip: str | None, now: dt.datetime | None = None) -> bool:
    """Locked when the pair (code, ip) is locked or the code failed
    ``PIN_CODE_FAILURE_LIMIT`` times within ``PIN_CODE_WINDOW``."""
    now = now or timezone.now()
    code = code.strip().upper()
    failures = PinFailure.objects.filter(judge_code=code)
    if failures.filter(created_at__gt=now - PIN_CODE_WINDOW).count() >= PIN_CODE_FAILURE_LIMIT:
        return True
    last = list(
        failures.filter(ip_address=ip, created_at__gt=now - 2 * PIN_COOLOFF)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:PIN_FAILURE_LIMIT]
    )
    until = _pair_locked_until(last)
    return until is not None and until > now


def check_pin(code: str, pin: str, ip: str | None, now: dt.datetime | None = None) -> Judge | None:
    """The judge whose code and PIN match, else None (the failure is counted).
    Raises ``PinThrottled`` while locked, without checking the PIN at all."""
    now = now or timezone.now()
    code = (code or "").strip().upper()[:20]
    if pin_locked(code, ip, now):
        raise PinThrottled
    credential = (
        JudgeCredential.objects.select_related("judge").filter(judge__code__iexact=code).first()
    )
    if credential is not None and check_password((pin or "").strip(), credential.pin_hash):
        PinFailure.objects.filter(judge_code=code, ip_address=ip).delete()
        return credential.judge
    if credential is None:
        # Same cost as a real check, so timing does not tell which codes exist.
        make_password(pin or "")
    PinFailure.objects.create(judge_code=code, ip_address=ip, created_at=now)
    return None


def unlock_pin(judge: Judge) -> int:
    """Lift every PIN lock of the judge's code (all addresses)."""
    deleted, _rows = PinFailure.objects.filter(judge_code=judge.code.strip().upper()).delete()
    return deleted


@dataclass
class PinLock:
    """A locked judge code as the board shows it: locked from every address
    (``ip`` None) or from the listed addresses, until ``until``."""

    judge: Judge
    everywhere: bool
    addresses: list[str]
    until: dt.datetime


def pin_locks(judges: list[Judge], now: dt.datetime | None = None) -> list[PinLock]:
    """The codes among ``judges`` that are locked now; one query."""
    now = now or timezone.now()
    by_code = {j.code.strip().upper(): j for j in judges}
    since = now - max(PIN_CODE_WINDOW, 2 * PIN_COOLOFF)
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    pairs: dict[tuple[str, str | None], list[dt.datetime]] = defaultdict(list)
    for code, ip, at in (
        PinFailure.objects.filter(judge_code__in=list(by_code), created_at__gt=since)
        .order_by("-created_at")
        .values_list("judge_code", "ip_address", "created_at")
    ):
        if at > now - PIN_CODE_WINDOW:
            times[code].append(at)
        pairs[(code, ip)].append(at)
    out = []
    for code, judge in sorted(by_code.items()):
        recent = times.get(code, [])
        if len(recent) >= PIN_CODE_FAILURE_LIMIT:
            # Unlocked when the oldest failure that keeps the count at the limit leaves the window.
            until = recent[PIN_CODE_FAILURE_LIMIT - 1] + PIN_CODE_WINDOW
            out.append(PinLock(judge, True, [], until))
            continue
        locked = []
        for (c, ip), failures in pairs.items():
            if c != code:
                continue
            pair_until = _pair_locked_until(failures)
            if pair_until is not None and pair_until > now:
                locked.append((ip or "?", pair_until))
        if locked:
            locked.sort()
            out.append(PinLock(judge, False, [ip for ip, _u in locked], max(u for _i, u in locked)))
    return out


# ---------------------------------------------------------------- sessions


def session_expiry(now: dt.datetime) -> dt.datetime:
    """End of the competition day at the venue, or after the configured hours."""
    local = now.astimezone(VENUE_TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), VENUE_TZ)
    return min(midnight, now + dt.timedelta(hours=session_hours()))


def start_session(
    judge: Judge,
    *,
    via: str,
    user_agent: str = "",
    ip: str | None = None,
    device: str = "",
    link: JudgeLink | None = None,
    now: dt.datetime | None = None,
) -> tuple[TabletSession, str]:
    """Open a tablet session; returns it and the token for the cookie."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    session = TabletSession.objects.create(
        judge=judge,
        key_hash=token_hash(token),
        via=via,
        link=link,
        device=device[:200],
        user_agent=user_agent[:300],
        ip_address=ip,
        created_at=now,
        last_seen_at=now,
        expires_at=session_expiry(now),
    )
    return session, token


@cache
def _session_sql() -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    return (
        f"SELECT {rows.select_columns(TabletSession, 's')},"
        f" {rows.select_columns(Judge, 'j')}"
        f" FROM {qn(TabletSession._meta.db_table)} s"
        f" JOIN {qn(Judge._meta.db_table)} j"
        f" ON j.{col(Judge, 'id')} = s.{col(TabletSession, 'judge')}"
        f" WHERE s.{col(TabletSession, 'key_hash')} = %s"
        f" AND s.{col(TabletSession, 'revoked_at')} IS NULL"
        f" AND s.{col(TabletSession, 'expires_at')} > %s"
    )


def session_for_token(token: str | None, now: dt.datetime | None = None) -> TabletSession | None:
    """The live session of a cookie token, with its judge, or None (unknown,
    revoked, expired).

    Every tablet request asks this, so it is one hand-written statement
    rather than an ORM query: what ``select_related("judge")`` would fetch,
    without compiling it each time.
    The judge's user is not fetched: the mark endpoint needs only its id
    (``judge.user_id``) and no page uses it."""
    if not token:
        return None
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_session_sql(), [token_hash(token), now])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(TabletSession._meta.concrete_fields)
    session = rows.row_instance(TabletSession, row[:n])
    session.judge = rows.row_instance(Judge, row[n:])
    if now - session.last_seen_at >= LAST_SEEN_EVERY:
        # Conditional, so the requests of one tablet in several workers
        # write it once a minute between them, not once each.
        TabletSession.objects.filter(pk=session.pk, last_seen_at__lte=now - LAST_SEEN_EVERY).update(
            last_seen_at=now
        )
        session.last_seen_at = now
    return session


def end_session(session: TabletSession, by_user=None) -> None:
    TabletSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by_user
    )


def live_sessions(skill: Skill) -> list[TabletSession]:
    return list(
        TabletSession.objects.select_related("judge")
        .filter(
            judge__assignments__skill=skill,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("judge__code", "-created_at")
    )


# ---------------------------------------------------------------- QR links


def create_links(judges: list[Judge], by_user) -> list[tuple[Judge, str]]:
    """A fresh sign-in link per judge. Earlier links of these judges stop
    working (a reprinted sheet replaces the old one), but tablets already
    signed in stay signed in."""
    now = timezone.now()
    out = []
    with transaction.atomic():
        JudgeLink.objects.filter(judge__in=judges, revoked_at__isnull=True).update(revoked_at=now)
        for judge in judges:
            token = secrets.token_urlsafe(32)
            JudgeLink.objects.create(
                judge=judge, token_hash=token_hash(token), created_at=now, created_by=by_user
            )
            out.append((judge, token))
    return out


def link_for_token(token: str) -> JudgeLink | None:
    return (
        JudgeLink.objects.select_related("judge")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )


def revoke_links(judge: Judge) -> int:
    """A lost QR card: the judge's links stop working, and tablets that
    signed in through them are signed out."""
    now = timezone.now()
    with transaction.atomic():
        links = list(JudgeLink.objects.filter(judge=judge, revoked_at__isnull=True))
        TabletSession.objects.filter(link__in=links, revoked_at__isnull=True).update(revoked_at=now)
        return JudgeLink.objects.filter(pk__in=[x.pk for x in links]).update(revoked_at=now)


# ---------------------------------------------------------------- what a judge marks


@dataclass
class Scope:
    """One skill as one judge sees it: entries and aspects they may mark."""

    skill: Skill
    judge: Judge
    entries: list[Entry]
    aspects: list[Aspect]
    allowed: dict[int, set[int]]  # entry id → aspect ids this judge may mark
    done: set[tuple[int, int]]  # (entry id, aspect id) with a mark that counts for this judge

    def progress(self, entry_id: int) -> tuple[int, int]:
        aspects = self.allowed.get(entry_id, set())
        return sum(1 for a in aspects if (entry_id, a) in self.done), len(aspects)


def judge_skills(judge: Judge) -> list[Skill]:
    from competitions.models import Skill

    return list(
        Skill.objects.filter(assignments__judge=judge)
        .select_related("event")
        .order_by("event__code", "code")
    )


def is_assigned(judge: Judge, skill: Skill) -> bool:
    return JudgeAssignment.objects.filter(judge=judge, skill=skill).exists()


def load_scope(skill: Skill, judge: Judge) -> Scope:
    """Entries offered to the judge: ranked entries with at least one aspect
    the panel rules let them mark — so recused entries (own delegation) and
    entries outside their marking groups are simply not there. A fixed
    number of queries."""
    panel = panels.load_panel(skill, judge_ids=[judge.pk])
    entries = list(
        Entry.objects.filter(skill=skill, status=Entry.Status.REGISTERED).order_by("competitor_no")
    )
    aspects = list(Aspect.objects.filter(skill=skill).select_related("sub_criterion__criterion"))
    allowed: dict[int, set[int]] = {}
    for entry in entries:
        ok = {
            a.pk
            for a in aspects
            if panel.check(judge.pk, entry.pk, entry.delegation_id, a.pk, a.kind) is None
        }
        if ok:
            allowed[entry.pk] = ok
    entries = [e for e in entries if e.pk in allowed]
    done = set(
        Mark.objects.filter(skill=skill)
        .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
        .values_list("entry_id", "aspect_id")
    )
    return Scope(skill, judge, entries, aspects, allowed, done)


@dataclass
class EntryRow:
    entry_id: int
    competitor_no: str
    done: int
    total: int
    remarks: int = 0
    names: str = ""  # only after sign-off

    @property
    def complete(self) -> bool:
        return self.done >= self.total


def entry_rows(scope: Scope, revealed: bool) -> list[EntryRow]:
    remarks: dict[int, int] = defaultdict(int)
    for entry_id in RemarkRequest.objects.filter(
        judge=scope.judge, entry__skill=scope.skill, resolved_at__isnull=True
    ).values_list("entry_id", flat=True):
        remarks[entry_id] += 1
    names = _names(scope.entries) if revealed else {}
    rows = []
    for entry in scope.entries:
        done, total = scope.progress(entry.pk)
        rows.append(
            EntryRow(
                entry.pk,
                entry.competitor_no,
                done,
                total,
                remarks[entry.pk],
                names.get(entry.pk, ""),
            )
        )
    return rows


def _names(entries: list[Entry]) -> dict[int, str]:
    from teams.models import EntryMember

    out: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in EntryMember.objects.filter(entry__in=entries).values_list(
        "entry_id", "athlete__name"
    ):
        out[entry_id].append(name)
    return {k: "、".join(v) for k, v in out.items()}


def find_entry(scope: Scope, competitor_no: str) -> Entry | None:
    return next((e for e in scope.entries if e.competitor_no == competitor_no), None)


def next_unmarked(scope: Scope, after_no: str | None = None) -> EntryRow | None:
    """The next entry (after ``after_no``, wrapping round) with marks to give."""
    rows = [e for e in scope.entries if scope.progress(e.pk)[0] < scope.progress(e.pk)[1]]
    if not rows:
        return None
    later = [e for e in rows if after_no is None or e.competitor_no > after_no]
    entry = (later or rows)[0]
    done, total = scope.progress(entry.pk)
    return EntryRow(entry.pk, entry.competitor_no, done, total)


@dataclass
class Choice:
    value: str
    label: str
    descriptor: str = ""


@dataclass
class AspectItem:
    aspect: Aspect
    value: str  # current mark ("" if none) — the judge's own for J
    version: int
    choices: list[Choice]  # buttons; empty → numeric field
    step: str = ""
    remark: RemarkRequest | None = None


@dataclass
class SubGroup:
    code: str
    name: str
    items: list[AspectItem] = field(default_factory=list)


@dataclass
class CriterionGroup:
    code: str
    name: str
    subs: list[SubGroup] = field(default_factory=list)


# M aspects with at most this many values, on a 0.5 grid, get buttons.
MAX_BUTTONS = 5
HALF = Decimal("0.5")


def measurement_step(aspect: Aspect) -> Decimal:
    """Aspects carry no step of their own (yet): a max on the 0.5 grid up to 2
    marks is given in halves; anything else to the hundredth the service
    accepts. An ``aspect.step`` attribute, if the scheme grows one, wins."""
    step = getattr(aspect, "step", None)
    if step:
        return Decimal(step)
    if aspect.max_mark % HALF == 0 and aspect.max_mark / HALF + 1 <= MAX_BUTTONS:
        return HALF
    return Decimal("0.01")


def choices_for(aspect: Aspect, descriptors: dict[int, str]) -> list[Choice]:
    if aspect.kind == AspectKind.JUDGEMENT:
        return [Choice(str(s), str(s), descriptors.get(s, "")) for s in JUDGEMENT_SCORES]
    step = measurement_step(aspect)
    count = aspect.max_mark / step + 1
    if count != count.to_integral_value() or count > MAX_BUTTONS:
        return []
    return [Choice(plain(step * i), plain(step * i)) for i in range(int(count))]


def entry_sheet(scope: Scope, entry: Entry) -> list[CriterionGroup]:
    """The aspects this judge may mark for the entry, grouped by criterion and
    sub-criterion, with the current value and version of each mark."""
    from scoring.models import JudgementDescriptor

    allowed = scope.allowed.get(entry.pk, set())
    aspects = sorted(
        (a for a in scope.aspects if a.pk in allowed),
        key=lambda a: (
            a.sub_criterion.criterion.order,
            a.sub_criterion.criterion.code,
            a.sub_criterion.order,
            a.sub_criterion.code,
            a.order,
            a.code,
        ),
    )
    descriptors: dict[int, dict[int, str]] = defaultdict(dict)
    for aspect_id, score, text in JudgementDescriptor.objects.filter(
        aspect__in=[a.pk for a in aspects if a.is_judgement]
    ).values_list("aspect_id", "score", "text"):
        descriptors[aspect_id][score] = text
    current: dict[int, tuple[Decimal, int]] = {}
    for aspect_id, stored, version in (
        Mark.objects.filter(entry=entry, aspect__in=aspects)
        .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=scope.judge))
        .values_list("aspect_id", "value", "version")
    ):
        current[aspect_id] = (stored, version)
    remarks = {
        r.aspect_id: r
        for r in RemarkRequest.objects.filter(
            entry=entry, judge=scope.judge, resolved_at__isnull=True
        )
    }
    groups: list[CriterionGroup] = []
    for aspect in aspects:
        sub = aspect.sub_criterion
        crit: Criterion = sub.criterion
        if not groups or groups[-1].code != crit.code:
            groups.append(CriterionGroup(crit.code, crit.name))
        if not groups[-1].subs or groups[-1].subs[-1].code != sub.code:
            groups[-1].subs.append(SubGroup(sub.code, sub.name))
        value, version = current.get(aspect.pk, (None, 0))
        groups[-1].subs[-1].items.append(
            AspectItem(
                aspect=aspect,
                value=plain(value),
                version=version,
                choices=choices_for(aspect, descriptors[aspect.pk]),
                step="" if aspect.is_judgement else plain(measurement_step(aspect)),
                remark=remarks.get(aspect.pk),
            )
        )
    return groups


# ---------------------------------------------------------------- the mark endpoint


@dataclass
class MarkReply:
    """What the endpoint answers: HTTP status and JSON body."""

    status: int
    body: dict


def _refused(status: int, code: str, message: str, **extra) -> MarkReply:
    return MarkReply(status, {"status": "refused", "code": code, "message": message, **extra})


@cache
def _target_sql() -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    r = RemarkRequest
    return (
        f"SELECT {rows.select_columns(Entry, 'e', _ENTRY_FIELDS)},"
        f" {rows.select_columns(Aspect, 'a', _ASPECT_FIELDS)},"
        f" EXISTS (SELECT 1 FROM {qn(r._meta.db_table)} r"
        f" WHERE r.{col(r, 'entry')} = e.{col(Entry, 'id')}"
        f" AND r.{col(r, 'aspect')} = a.{col(Aspect, 'id')}"
        f" AND r.{col(r, 'resolved_at')} IS NULL"
        f" AND (a.{col(Aspect, 'kind')} = %s OR r.{col(r, 'judge')} = %s))"
        f" FROM {qn(Entry._meta.db_table)} e, {qn(Aspect._meta.db_table)} a"
        f" WHERE e.{col(Entry, 'id')} = %s AND a.{col(Aspect, 'id')} = %s"
    )


# What write_mark and the answer use; the aspect's texts stay deferred.
_ENTRY_FIELDS = ("id", "skill", "delegation", "competitor_no", "status")
_ASPECT_FIELDS = ("id", "skill", "sub_criterion", "code", "kind", "max_mark", "order")


def _mark_target(entry_id: int, aspect_id: int, judge_id: int) -> tuple[Entry, Aspect, bool] | None:
    """The entry and aspect of a tap and whether a re-mark request of it is
    open for this judge (any judge's, for an M aspect), in one query; None if
    either does not exist. Whether the judge may mark it is write_mark's call.

    The request flag saves the UPDATE of ``resolve_remarks`` on nearly every
    tap. A request made after this read and before the write is left open,
    which is right: the judge tapped before it was asked."""
    with connection.cursor() as cursor:
        cursor.execute(_target_sql(), [AspectKind.MEASUREMENT, judge_id, entry_id, aspect_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_ENTRY_FIELDS)
    entry = rows.row_instance(Entry, row[:n], _ENTRY_FIELDS)
    aspect = rows.row_instance(Aspect, row[n : n + len(_ASPECT_FIELDS)], _ASPECT_FIELDS)
    return entry, aspect, bool(row[-1])


def submit_mark(session: TabletSession, payload: object, *, ip: str | None = None) -> MarkReply:
    """One tap from a tablet: ``{client_key, entry, aspect, value,
    expected_version}``. Saved → 200; refused by the rules → 409 (locked,
    stale — with the current value and version), 403 (not allowed), 422
    (bad value); a malformed request → 400. The tablet retries only on
    network errors and 5xx, so every answer here is final for that tap."""
    if not isinstance(payload, dict):
        return _refused(400, "bad_request", _("The request is not understood."))
    try:
        entry_id = int(payload["entry"])
        aspect_id = int(payload["aspect"])
        client_key = str(payload["client_key"]).strip()
        value = payload["value"]
        expected = payload.get("expected_version")
        expected = None if expected is None else int(expected)
    except (KeyError, TypeError, ValueError):
        return _refused(400, "bad_request", _("The request is not understood."))
    if not client_key or len(client_key) > 64:
        return _refused(400, "bad_request", _("The request is not understood."))
    if isinstance(value, float):
        # JSON numbers arrive as floats: the tablet sends marks as text.
        return _refused(422, "not_a_number", _("A mark is sent as text."))

    judge = session.judge
    target = _mark_target(entry_id, aspect_id, judge.pk)
    if target is None:
        return _refused(404, "not_found", _("No such entry or aspect."))
    entry, aspect, remark_open = target
    try:
        result = marks.write_mark(
            entry=entry,
            aspect=aspect,
            judge=judge,
            value=value,
            actor_id=judge.user_id,
            client_key=client_key,
            expected_version=expected,
            source="tablet",
            device=(session.device or session.user_agent)[:200],
            ip=ip,
        )
    except refusals.StaleMark as exc:
        return _refused(
            409,
            exc.code,
            exc.message,
            current_value=plain(exc.current_value),
            current_version=exc.current_version,
        )
    except refusals.Locked as exc:
        return _refused(409, exc.code, exc.message)
    except refusals.NotAllowed as exc:
        return _refused(403, exc.code, exc.message)
    except refusals.MarkRefused as exc:
        return _refused(422, exc.code, exc.message)
    if remark_open and not result.replayed:
        resolve_remarks(entry, aspect, judge)
    return MarkReply(
        200,
        {
            "status": "saved",
            "value": plain(result.value),
            "version": result.version,
            "replayed": result.replayed,
        },
    )


# ---------------------------------------------------------------- re-mark requests


def request_remark(
    entry: Entry, aspect: Aspect, judges: list[Judge], by_user, reason: str = ""
) -> list[RemarkRequest]:
    """Ask judges to mark one aspect again; a judge with an open request for
    the same mark keeps that one (its reason is updated)."""
    if aspect.skill_id != entry.skill_id:
        raise ValueError("aspect of another skill")
    now = timezone.now()
    out = []
    for judge in judges:
        request, _created = RemarkRequest.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            judge=judge,
            resolved_at=None,
            defaults={"requested_by": by_user, "reason": reason.strip(), "created_at": now},
        )
        out.append(request)
    return out


def resolve_remarks(entry: Entry, aspect: Aspect, judge: Judge) -> int:
    """The judge wrote the mark again: their open request for it is done.
    For an M aspect any judge's write resolves every open request on it."""
    q = RemarkRequest.objects.filter(entry=entry, aspect=aspect, resolved_at__isnull=True)
    if aspect.kind == AspectKind.JUDGEMENT:
        q = q.filter(judge=judge)
    return q.update(resolved_at=timezone.now())


def open_remarks(judge: Judge, skill: Skill) -> list[RemarkRequest]:
    return list(
        RemarkRequest.objects.filter(judge=judge, entry__skill=skill, resolved_at__isnull=True)
        .select_related("entry", "aspect")
        .order_by("entry__competitor_no", "aspect__code")
    )


def poll(judge: Judge, skill: Skill, entry: Entry | None) -> dict:
    """What a tablet refreshes every few seconds: lock state, the judge's
    re-mark requests (competitor numbers only) and, for the open entry, the
    current value and version of each mark it shows."""
    body: dict = {
        "locked": signoff.names_revealed(skill),
        "remarks": [
            {
                "no": r.entry.competitor_no,
                "entry": r.entry_id,
                "aspect": r.aspect_id,
                "aspect_code": r.aspect.code,
                "reason": r.reason,
            }
            for r in open_remarks(judge, skill)
        ],
    }
    if entry is not None:
        body["marks"] = {
            str(aspect_id): [plain(value), version]
            for aspect_id, value, version in Mark.objects.filter(entry=entry)
            .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
            .values_list("aspect_id", "value", "version")
        }
    return body


# ---------------------------------------------------------------- the chief's board


@dataclass
class GridCell:
    """Scores given / expected. ``total == 0``: the judge is not expected to
    score the entry, and the board does not say why (recusal would name the
    entry's delegation; a marking group looks the same)."""

    done: int = 0
    total: int = 0

    @property
    def expected(self) -> bool:
        return self.total > 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total


@dataclass
class GridRow:
    entry_id: int
    competitor_no: str
    cells: list[GridCell]
    measurement: GridCell
    remarks: int = 0

    @property
    def complete(self) -> bool:
        return self.measurement.done >= self.measurement.total and all(
            c.total == 0 or c.complete for c in self.cells
        )


@dataclass
class Grid:
    judges: list[Judge]
    rows: list[GridRow]

    @property
    def totals(self) -> tuple[int, int]:
        done = sum(c.done for r in self.rows for c in [*r.cells, r.measurement])
        total = sum(c.total for r in self.rows for c in [*r.cells, r.measurement])
        return done, total


def progress_grid(skill: Skill) -> Grid:
    """Entries × judges: judgement scores given / expected per judge (recusal
    and marking groups applied) and measurement marks entered per entry."""
    panel = panels.load_panel(skill)
    markers = panel.markers()
    judges = list(Judge.objects.filter(pk__in=markers).order_by("code"))
    entries = list(
        Entry.objects.filter(skill=skill, status=Entry.Status.REGISTERED).order_by("competitor_no")
    )
    aspects = list(Aspect.objects.filter(skill=skill).values_list("id", "kind"))
    j_aspects = [a for a, k in aspects if k == AspectKind.JUDGEMENT]
    m_total = len(aspects) - len(j_aspects)
    j_marks: set[tuple[int, int, int]] = set()
    m_marks: dict[int, int] = defaultdict(int)
    for entry_id, aspect_id, judge_id, kind in Mark.objects.filter(skill=skill).values_list(
        "entry_id", "aspect_id", "judge_id", "kind"
    ):
        if kind == AspectKind.JUDGEMENT:
            j_marks.add((entry_id, aspect_id, judge_id))
        else:
            m_marks[entry_id] += 1
    remarks: dict[int, int] = defaultdict(int)
    for entry_id in RemarkRequest.objects.filter(
        entry__skill=skill, resolved_at__isnull=True
    ).values_list("entry_id", flat=True):
        remarks[entry_id] += 1
    rows = []
    for entry in entries:
        cells = []
        for judge in judges:
            if markers[judge.pk] == entry.delegation_id:
                cells.append(GridCell())  # recused: shown like any cell not expected
                continue
            expected = [
                a
                for a in j_aspects
                if panel.check(judge.pk, entry.pk, entry.delegation_id, a, AspectKind.JUDGEMENT)
                is None
            ]
            done = sum(1 for a in expected if (entry.pk, a, judge.pk) in j_marks)
            cells.append(GridCell(done, len(expected)))
        rows.append(
            GridRow(
                entry.pk,
                entry.competitor_no,
                cells,
                GridCell(m_marks[entry.pk], m_total),
                remarks[entry.pk],
            )
        )
    return Grid(judges, rows)


def skill_judges(skill: Skill) -> list[Judge]:
    return list(
        Judge.objects.filter(assignments__skill=skill)
        .select_related("tablet_credential")
        .order_by("code")
    )


def open_remarks_of_skill(skill: Skill) -> list[RemarkRequest]:
    return list(
        RemarkRequest.objects.filter(entry__skill=skill, resolved_at__isnull=True)
        .select_related("entry", "aspect", "judge")
        .order_by("entry__competitor_no", "aspect__code", "judge__code")
    )


def acknowledge_all(
    skill: Skill, pairs: list[tuple[int, int]], by_user, note: str
) -> tuple[int, int]:
    """Acknowledge the discrepancies the chief judge was shown, (entry id,
    aspect id) pairs, with one note, in one transaction. A pair that is no
    longer a discrepancy (re-marked meanwhile) or already acknowledged is
    skipped. Returns (acknowledged, skipped)."""
    note = (note or "").strip()
    if not note:
        raise refusals.MarkRefused(
            _("Write a note: it is recorded with every acknowledgement."), code="note_required"
        )
    wanted = set(pairs)
    entries = Entry.objects.filter(skill=skill, pk__in={e for e, _a in wanted}).in_bulk()
    aspects = Aspect.objects.filter(skill=skill, pk__in={a for _e, a in wanted}).in_bulk()
    open_ = {
        (d.entry_id, d.aspect_id) for d in marking_status(skill).discrepancies if not d.acknowledged
    }
    done = skipped = 0
    with transaction.atomic():
        for entry_id, aspect_id in sorted(wanted):
            entry, aspect = entries.get(entry_id), aspects.get(aspect_id)
            if entry is None or aspect is None or (entry_id, aspect_id) not in open_:
                skipped += 1
                continue
            try:
                signoff.acknowledge_discrepancy(entry, aspect, by_user, note)
            except refusals.NotAllowed:
                skipped += 1
            else:
                done += 1
    return done, skipped


@dataclass
class Blocker:
    """One entry that stops sign-off: measurement aspects without a mark,
    judgement scores missing by judge code, unacknowledged discrepancies."""

    competitor_no: str
    measurement: list[str] = field(default_factory=list)
    judges: dict[str, list[str]] = field(default_factory=dict)  # judge code → aspect codes
    unscorable: list[str] = field(default_factory=list)  # J aspects no judge may score
    discrepancies: list[str] = field(default_factory=list)


@dataclass
class Blockers:
    entries: list[Blocker]
    judges: list[tuple[str, int, list[str]]]  # judge code, scores missing, competitor numbers

    def __bool__(self) -> bool:
        return bool(self.entries)


def sign_off_blockers(skill: Skill, status: MarkingStatus) -> Blockers:
    """Exactly what stops sign-off, by competitor number and judge code."""
    measured = set(
        Aspect.objects.filter(skill=skill, kind=AspectKind.MEASUREMENT).values_list(
            "code", flat=True
        )
    )
    rows: dict[str, Blocker] = {}
    order: list[str] = []

    def row(no: str) -> Blocker:
        if no not in rows:
            rows[no] = Blocker(no)
            order.append(no)
        return rows[no]

    per_judge: dict[str, list[str]] = defaultdict(list)
    for e in status.incomplete:
        b = row(e.competitor_no)
        for item in e.missing:
            aspect_code, _sep, judge_code = item.partition("/")
            if not judge_code:
                # A judgement aspect missing without a judge: nobody may score it.
                (b.measurement if aspect_code in measured else b.unscorable).append(aspect_code)
            else:
                b.judges.setdefault(judge_code, []).append(aspect_code)
                per_judge[judge_code].append(e.competitor_no)
    for d in status.unacknowledged:
        row(d.competitor_no).discrepancies.append(d.aspect_code)
    judges = [
        (code, len(nos), sorted(set(nos), key=_natural_no))
        for code, nos in sorted(per_judge.items())
    ]
    return Blockers([rows[no] for no in order], judges)


def _natural_no(no: str) -> tuple:
    return (0, int(no), no) if no.isdigit() else (1, 0, no)
