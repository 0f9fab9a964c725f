"""What the organiser's event dashboard and a delegation lead's dashboard show.

Both pages answer in a fixed number of queries whatever the number of skills,
and neither computes results on a page load (docs/dashboards.md):

* the organiser's dashboard reads each skill still marking's figures as of
  its last stored results (``MarkingProgress``, written with them by
  ``results.refresh``). When the skill's ``SkillMarking.results_computed_at``
  no longer matches them — cleared by a mark write or a panel edit
  (``scoring.signals.mark_results_stale``) — the skill is shown with those
  figures, their time and a "stale" flag, and the view asks
  ``results.refresh`` to recompute it in a worker. No mark is read.
* a lead's dashboard reads the rows of the lead's own delegation only (its
  entries, their stored results and awards); the medal table is a grouped
  count in the database (``services.published_medal_table``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q

from appeals.models import Appeal
from awards.models import Award, Certificate
from competitions import publication
from competitions.models import Event, Skill, SkillPublication
from scoring.models import DiscrepancyAcknowledgement, EntryResult, SkillMarking
from teams.models import Delegation, Entry

from . import publishing
from .models import MarkingProgress
from .readiness import scheme_states
from .services import (
    MedalLine,
    MedalTableView,
    award_columns_for,
    names_by_entry,
    natural_key,
    published_medal_table,
)

REGISTERED = Entry.Status.REGISTERED

# ------------------------------------------------------------------ lead dashboard


@dataclass(frozen=True)
class LeadEntry:
    entry: Entry
    names: str
    status: publishing.LeadEntryStatus
    result: EntryResult | None  # only when published
    award: str
    title: str


@dataclass(frozen=True)
class LeadSkill:
    skill: Skill
    published: bool
    published_at: dt.datetime | None
    entries: list[LeadEntry]


@dataclass(frozen=True)
class LeadDashboard:
    event: Event
    delegation: Delegation
    skills: list[LeadSkill]
    medal_line: MedalLine | None
    medals: MedalTableView
    certificates: list[Certificate] | None  # None: not public yet
    counts: dict[str, int]

    @property
    def published_skills(self) -> int:
        return sum(1 for s in self.skills if s.published)


def lead_events(delegation: Delegation) -> list[Event]:
    """Events in which the delegation has entries, latest first."""
    return list(
        Event.objects.filter(skills__entries__delegation=delegation)
        .distinct()
        .order_by(F("starts_on").desc(nulls_last=True), "-pk")
    )


def lead_dashboard(user, delegation: Delegation, event: Event) -> LeadDashboard:
    """The lead's entries by skill: status before publication, results,
    awards and titles after; the medal-table place; certificates once the
    whole event is public. Only the delegation's own rows are read."""
    entries = sorted(
        Entry.objects.filter(skill__event=event, delegation=delegation).select_related(
            "skill", "skill__publication"
        ),
        key=lambda e: (e.skill.code, natural_key(e.competitor_no)),
    )
    statuses = publishing.entry_statuses(entries)
    published_ids = {
        e.skill_id for e in entries if statuses[e.pk] == publishing.LeadEntryStatus.PUBLISHED
    }
    shown = [e.pk for e in entries if e.skill_id in published_ids]
    results = {r.entry_id: r for r in EntryResult.objects.filter(entry_id__in=shown)}
    cols = award_columns_for({e.skill for e in entries if e.skill_id in published_ids}, shown)
    names = names_by_entry(e.pk for e in entries)
    grouped: dict[int, list[LeadEntry]] = defaultdict(list)
    skills_by_id: dict[int, Skill] = {}
    for e in entries:
        skills_by_id[e.skill_id] = e.skill
        award, title = cols.get(e.pk, ("", ""))
        grouped[e.skill_id].append(
            LeadEntry(e, names.get(e.pk, ""), statuses[e.pk], results.get(e.pk), award, title)
        )
    skills = [
        LeadSkill(
            skill=skills_by_id[sid],
            published=sid in published_ids,
            published_at=(
                skills_by_id[sid].publication.published_at if sid in published_ids else None
            ),
            entries=lead_entries,
        )
        for sid, lead_entries in grouped.items()
    ]
    medals = published_medal_table(event)
    certificates = None
    if publication.event_results_visible_to(user, event):
        certificates = list(
            Certificate.objects.filter(event=event, delegation=delegation, revoked=False)
            .select_related("athlete", "entry__skill")
            .order_by("entry__skill__code", "serial")
        )
    counts: dict[str, int] = defaultdict(int)
    for s in statuses.values():
        counts[str(s)] += 1
    return LeadDashboard(
        event=event,
        delegation=delegation,
        skills=skills,
        medal_line=next((m for m in medals.lines if m.delegation_code == delegation.code), None),
        medals=medals,
        certificates=certificates,
        counts=dict(counts),
    )


# ------------------------------------------------------------------ organiser dashboard


@dataclass(frozen=True)
class SkillProgress:
    skill: Skill
    ranked: int  # registered entries
    complete: int  # of them, with every mark in
    marks_given: int
    marks_expected: int | None  # None: not known until its results are refreshed
    discrepancies_open: int
    signed_off: bool
    signed_off_at: dt.datetime | None
    published: bool
    published_at: dt.datetime | None
    appeals_open: int
    awards: int
    certificates: int  # live certificates issued
    certificates_generated: int  # of them, with their PDF rendered
    # False while the marking scheme is incomplete: marking is closed then,
    # and no entry counts as complete however few marks it is missing.
    scheme_ok: bool = True
    # The figures predate the last mark or panel change: they are as they
    # were at ``as_of`` (None: not counted yet), and a refresh was asked for.
    stale: bool = False
    started: bool = False  # a mark was written: the skill is being marked
    as_of: dt.datetime | None = None

    @property
    def percent(self) -> int:
        if self.marks_expected is None:
            return 0
        if self.marks_expected == 0:
            return 100 if self.signed_off else 0
        return min(100, 100 * self.marks_given // self.marks_expected)

    @property
    def width_class(self) -> str:
        """CSS class of the progress bar (steps of 5 %: no inline styles)."""
        return f"w{5 * round(self.percent / 5)}"

    @property
    def stage(self) -> str:
        if self.published:
            return "published"
        if self.signed_off:
            return "signed_off"
        if self.marks_given or self.started:
            return "marking"
        return "registered"


TOTALS = (
    "ranked",
    "complete",
    "marks_given",
    "marks_expected",
    "discrepancies_open",
    "signed_off",
    "published",
    "appeals_open",
    "awards",
    "certificates",
    "certificates_generated",
)


@dataclass(frozen=True)
class EventDashboard:
    event: Event
    skills: list[SkillProgress]

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name) or 0) for s in self.skills)

    @property
    def totals(self) -> dict[str, int]:
        return {n: self.total(n) for n in TOTALS}

    @property
    def stale_ids(self) -> list[int]:
        """Skills whose stored results are to be refreshed (``results.refresh``)."""
        return [s.skill.pk for s in self.skills if s.stale]


@dataclass(frozen=True)
class _Marking:
    """A skill's marking figures, as of ``as_of`` (None: never refreshed)."""

    complete: int
    given: int
    expected: int | None
    discrepancies: int
    stale: bool
    scheme_ok: bool = True
    started: bool = False  # a mark was written (its ledger has a record)
    as_of: dt.datetime | None = None


def _marking_progress(skills: list[Skill]) -> dict[int, _Marking]:
    """The figures of the skills still marking: their ``MarkingProgress``
    (loaded with the skills), schemes (a few grouped rows per skill) and
    acknowledged discrepancies (one grouped count) — no mark is read.

    The figures are current when their stamp is the skill's
    ``results_computed_at`` (cleared by every mark write and panel edit);
    otherwise they are shown as of their time and the skill is stale."""
    ids = [s.pk for s in skills]
    schemes = scheme_states(ids)
    acknowledged = dict(
        DiscrepancyAcknowledgement.objects.filter(entry__skill_id__in=ids, entry__status=REGISTERED)
        .values("entry__skill_id")
        .annotate(n=Count("pk"))
        .values_list("entry__skill_id", "n")
    )
    out = {}
    for s in skills:
        marking, progress = _marking(s), _progress(s)
        computed_at = marking.results_computed_at if marking else None
        scheme_ok = schemes[s.pk].ok
        started = marking is not None and marking.ledger_length > 0
        if progress is None:
            out[s.pk] = _Marking(0, 0, None, 0, True, scheme_ok, started)
            continue
        out[s.pk] = _Marking(
            complete=progress.complete if scheme_ok else 0,
            given=progress.marks_given,
            expected=progress.marks_given + progress.marks_missing,
            # An acknowledgement is of a flagged aspect; a changed score drops it.
            discrepancies=max(0, progress.discrepancies - acknowledged.get(s.pk, 0))
            if scheme_ok
            else 0,
            stale=computed_at is None or computed_at != progress.computed_at,
            scheme_ok=scheme_ok,
            started=started,
            as_of=progress.computed_at,
        )
    return out


def _per_skill_counts(event: Event) -> tuple[dict, dict, dict]:
    """Open appeals, awards and (live, rendered) certificates per skill."""
    appeals_open = dict(
        Appeal.objects.filter(
            skill__event=event, status__in=[Appeal.Status.FILED, Appeal.Status.ANSWERED]
        )
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    award_counts = dict(
        Award.objects.filter(skill__event=event)
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    certs = {
        sid: (n, g)
        for sid, n, g in Certificate.objects.filter(event=event, revoked=False)
        .values("entry__skill_id")
        .annotate(n=Count("pk"), g=Count("pk", filter=~Q(file="")))
        .values_list("entry__skill_id", "n", "g")
    }
    return appeals_open, award_counts, certs


def event_dashboard(event: Event) -> EventDashboard:
    """Per skill: marking progress, open discrepancies, sign-off, publication,
    open appeals, awards and certificates — in a fixed number of queries,
    from stored results (see the module's docstring).

    Signed-off skills are complete with no open discrepancy (sign-off refuses
    otherwise), so only the skills still marking are read for progress."""
    skills = list(
        Skill.objects.filter(event=event)
        .select_related("marking", "publication", "marking_progress")
        .annotate(ranked=Count("entries", filter=Q(entries__status=REGISTERED)))
        .order_by("code")
    )
    published = set(publication.published_skills(event).values_list("pk", flat=True))
    signed = {s.pk for s in skills if (sm := _marking(s)) is not None and sm.is_signed_off}
    progress = _marking_progress([s for s in skills if s.pk not in signed])
    appeals_open, award_counts, certs = _per_skill_counts(event)
    rows = []
    for s in skills:
        marking, pub = _marking(s), _publication(s)
        ranked: int = s.ranked
        m = progress.get(s.pk) or _Marking(ranked, 0, 0, 0, False)
        cert_n, cert_g = certs.get(s.pk, (0, 0))
        rows.append(
            SkillProgress(
                skill=s,
                ranked=ranked,
                complete=m.complete,
                marks_given=m.given,
                marks_expected=m.expected,
                discrepancies_open=m.discrepancies,
                signed_off=s.pk in signed,
                signed_off_at=marking.signed_off_at if marking else None,
                published=s.pk in published,
                published_at=pub.published_at if pub and s.pk in published else None,
                appeals_open=appeals_open.get(s.pk, 0),
                awards=award_counts.get(s.pk, 0),
                certificates=cert_n,
                certificates_generated=cert_g,
                scheme_ok=m.scheme_ok,
                stale=m.stale,
                started=m.started,
                as_of=m.as_of,
            )
        )
    return EventDashboard(event=event, skills=rows)


def _marking(skill: Skill) -> SkillMarking | None:
    try:
        return skill.marking
    except SkillMarking.DoesNotExist:
        return None


def _progress(skill: Skill) -> MarkingProgress | None:
    try:
        return skill.marking_progress
    except MarkingProgress.DoesNotExist:
        return None


def _publication(skill: Skill) -> SkillPublication | None:
    try:
        return skill.publication
    except SkillPublication.DoesNotExist:
        return None
