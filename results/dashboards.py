"""What the organiser's event dashboard and a delegation lead's dashboard show.

Both pages answer in a fixed number of queries whatever the number of skills,
and neither computes results on a page load (docs/dashboards.md):

* the organiser's dashboard reads each skill's **stored** results
  (``EntryResult``, as ``scoring.results.recompute_skill`` left them) and
  counts marks as database aggregates. A skill still marking whose stored
  results are stale — ``SkillMarking.results_computed_at`` cleared by a mark
  write or a panel edit (``scoring.signals.mark_results_stale``), or fewer
  stored rows than ranked entries — is shown with the figures it had and
  flagged; the view asks ``results.refresh`` to recompute it in a worker.
* a lead's dashboard reads the rows of the lead's own delegation only (its
  entries, their stored results and awards); the medal table is a grouped
  count in the database (``services.published_medal_table``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum

from appeals.models import Appeal
from awards.models import Award, Certificate
from competitions import publication
from competitions.models import Event, Skill, SkillPublication
from scoring.models import DiscrepancyAcknowledgement, EntryResult, Mark, SkillMarking
from teams.models import Delegation, Entry

from . import publishing
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
    # The stored results predate the last mark or panel change: complete and
    # discrepancies are as they were then, and a refresh has been asked for.
    stale: bool = False

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
        if self.marks_given:
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
    """A skill's marking figures: from its stored results, marks counted."""

    complete: int
    given: int
    expected: int | None
    discrepancies: int
    stale: bool
    scheme_ok: bool = True


def _marking_progress(skills: list[Skill]) -> dict[int, _Marking]:
    """The figures of the skills still marking, in five queries: schemes
    (two), marks given (one grouped count), stored results (one grouped
    aggregate), acknowledged discrepancies (one grouped count).

    Fresh stored results were computed after the last mark write, so marks
    expected = marks given now + marks the results found missing."""
    ids = [s.pk for s in skills]
    schemes = scheme_states(ids)
    given = dict(
        Mark.objects.filter(skill_id__in=ids, entry__status=REGISTERED)
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    stored = {
        row[0]: row[1:]
        for row in EntryResult.objects.filter(skill_id__in=ids, entry__status=REGISTERED)
        .values("skill_id")
        .annotate(
            n=Count("pk"),
            complete=Count("pk", filter=Q(complete=True)),
            missing=Sum("missing_marks"),
            flagged=Sum("discrepancies"),
        )
        .values_list("skill_id", "n", "complete", "missing", "flagged")
    }
    acknowledged = dict(
        DiscrepancyAcknowledgement.objects.filter(entry__skill_id__in=ids, entry__status=REGISTERED)
        .values("entry__skill_id")
        .annotate(n=Count("pk"))
        .values_list("entry__skill_id", "n")
    )
    out = {}
    for s in skills:
        rows, complete, missing, flagged = stored.get(s.pk, (0, 0, 0, 0))
        marking = _marking(s)
        ranked: int = s.ranked  # type: ignore[attr-defined]
        stale = marking is None or marking.results_computed_at is None or rows != ranked
        n_given = given.get(s.pk, 0)
        scheme_ok = schemes[s.pk].ok
        out[s.pk] = _Marking(
            complete=complete if scheme_ok else 0,
            given=n_given,
            expected=None if stale else n_given + (missing or 0),
            # An acknowledgement is of a flagged aspect; a changed score drops it.
            discrepancies=max(0, (flagged or 0) - acknowledged.get(s.pk, 0)) if scheme_ok else 0,
            stale=stale,
            scheme_ok=scheme_ok,
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
        .select_related("marking", "publication")
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
        ranked: int = s.ranked  # type: ignore[attr-defined]
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
            )
        )
    return EventDashboard(event=event, skills=rows)


def _marking(skill: Skill) -> SkillMarking | None:
    try:
        return skill.marking
    except SkillMarking.DoesNotExist:
        return None


def _publication(skill: Skill) -> SkillPublication | None:
    try:
        return skill.publication
    except SkillPublication.DoesNotExist:
        return None
