"""What delegation leads, the public and organisers see of the results.
Views are thin; every rule is here.

Visibility comes from ``competitions.publication`` only. Public pages and
workbooks read **published skills only**: the queries start from
``published_skills(event)`` so nothing of an unpublished skill is loaded,
let alone rendered. The medal table is ``awards.medals``' (counted when read,
over the published skills here).

Stored results: a published skill is signed off, and a signed-off skill's
marks cannot change (the mark service refuses writes), so its stored
``EntryResult`` rows are current when they were computed after the sign-off
and every entry still has the status they were computed for. Pages that list
many skills check exactly that in bulk (:func:`published_results`) and fall
back to ``scoring.results.results_for`` — which recomputes — for a skill
that fails the check.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import rules
from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from appeals.models import Appeal
from awards import charts, policies
from awards.charts import MedalChart
from awards.medals import MedalLine, MedalTableView, event_medal_table
from awards.models import Award, AwardSettings, Certificate
from competitions import publication
from competitions.models import Event, PublicationLog, Skill, SkillPublication
from files import permissions as file_rules
from files import services as file_services
from files.models import GeneratedFile
from scoring.models import DiscrepancyAcknowledgement, EntryResult, Mark, SkillMarking
from scoring.results import compute_skills, results_for
from teams import roles
from teams.models import Delegation, Entry, EntryMember

from . import publishing
from .models import ExportJob
from .readiness import scheme_states

log = logging.getLogger(__name__)

NAME_SEPARATOR = "、"  # as in the rankings sheet (scoring.exporters)
EXPORT_TTL = dt.timedelta(hours=getattr(settings, "RESULTS_EXPORT_TTL_HOURS", 24))
# The download rule of the workbooks' files (files.permissions).
EXPORT_RULE = "results.export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Workbooks for people are Chinese whoever asks (the column titles are), so
# sheet names, captions and statuses are too — in a request or a worker.
WORKBOOK_LANGUAGE = "zh-hans"
SCOREBOARD_PAGE = 6  # skills on one page of the ceremony screen (2 × 3 at 1920×1080)
SCOREBOARD_ROTATE = 12  # seconds each page stays up when there are several
SCOREBOARD_PODIUM = 3  # lines per skill there
SCOREBOARD_MEDAL_ROWS = 10


# ------------------------------------------------------------------ shared look-ups


def natural_key(no: str) -> tuple:
    """Competitor numbers sort as numbers when they are numbers ("2" < "10")."""
    return (0, int(no), no) if no.isdigit() else (1, 0, no)


def _result_order(r: ResultRow) -> tuple:
    # The order of scoring.results.stored_results: ranked by rank, then
    # incomplete registered entries, then absent / withdrawn ones.
    group = 0 if r.rank is not None else (1 if r.entry.is_ranked else 2)
    return (group, r.rank or 0, natural_key(r.entry.competitor_no))


def names_by_entry(entry_ids: Iterable[int]) -> dict[int, str]:
    """Entry id → its athletes' names joined as on the rankings sheet."""
    names: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in (
        EntryMember.objects.filter(entry_id__in=list(entry_ids))
        .order_by("entry_id", "id")
        .values_list("entry_id", "athlete__name")
    ):
        names[entry_id].append(name)
    return {k: NAME_SEPARATOR.join(v) for k, v in names.items()}


def _fresh(r: ResultRow, computed_after: dt.datetime | None) -> bool:
    """The row-level half of ``scoring.results._stale`` for a signed-off skill."""
    registered = r.entry.status == Entry.Status.REGISTERED
    if r.rank is not None and not registered:
        return False  # withdrawn / absent since
    return not (registered and not r.complete and r.missing_marks == 0)


@dataclass(frozen=True, slots=True)
class EntryRef:
    """What a ranking line needs of an entry (duck-types ``Entry``)."""

    competitor_no: str
    status: str
    delegation: Delegation

    @property
    def is_ranked(self) -> bool:
        return self.status == Entry.Status.REGISTERED


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A stored ``EntryResult`` as the pages and workbooks read it (the
    ``results_for`` fallback returns the model rows, which read the same)."""

    entry_id: int
    skill_id: int
    rank: int | None
    final_score: Decimal | None
    scale_score: int | None
    complete: bool
    missing_marks: int
    entry: EntryRef


# The pages and workbooks read either (they read the same).
ResultRow = StoredResult | EntryResult


def published_results(skills: Sequence[Skill]) -> dict[int, Sequence[ResultRow]]:
    """Skill id → stored results in display order, for published skills.

    A few queries for any number of skills; a skill whose rows may be stale
    (computed before its sign-off, an entry added or its status changed) goes
    through ``results_for``, which recomputes it."""
    ids = [s.pk for s in skills]
    if not ids:
        return {}
    marking = {
        m.skill_id: m
        for m in SkillMarking.objects.filter(skill_id__in=ids).only(
            "skill_id", "signed_off_at", "results_computed_at", "status"
        )
    }
    entry_ids: dict[int, set[int]] = defaultdict(set)
    for sid, eid in Entry.objects.filter(skill_id__in=ids).values_list("skill_id", "id"):
        entry_ids[sid].add(eid)
    # Plain rows, not model instances: building 4,000 EntryResult + Entry
    # objects cost as much as writing the whole workbook. Delegations are few.
    delegations = {d.pk: d for d in Delegation.objects.only("id", "code", "name")}
    rows: dict[int, list[StoredResult]] = defaultdict(list)
    for eid, sid, rank, final, scale, complete, missing, no, status, did in (
        EntryResult.objects.filter(skill_id__in=ids)
        .order_by()
        .values_list(
            "entry_id",
            "skill_id",
            "rank",
            "final_score",
            "scale_score",
            "complete",
            "missing_marks",
            "entry__competitor_no",
            "entry__status",
            "entry__delegation_id",
        )
    ):
        rows[sid].append(
            StoredResult(
                eid,
                sid,
                rank,
                final,
                scale,
                complete,
                missing,
                EntryRef(no, status, delegations[did]),
            )
        )
    out: dict[int, Sequence[ResultRow]] = {}
    for skill in skills:
        m = marking.get(skill.pk)
        got = rows.get(skill.pk, [])
        fresh = (
            m is not None
            and m.is_signed_off
            and m.results_computed_at is not None
            and m.signed_off_at is not None
            and m.results_computed_at >= m.signed_off_at
            and {r.entry_id for r in got} == entry_ids.get(skill.pk, set())
            and all(_fresh(r, m.results_computed_at) for r in got)
        )
        out[skill.pk] = sorted(got, key=_result_order) if fresh else results_for(skill)
    return out


def award_columns_for(skills: Iterable[Skill]) -> dict[int, tuple[str, str]]:
    """Entry id → (award, title) as printed, over many skills in four queries.

    The same answer as ``awards.awarding.award_columns`` skill by skill (a
    test holds them equal), which costs three queries per skill: 300-odd for
    a national final's workbook, a third of its time. The awards app may
    take this over as a bulk ``award_columns``; it owns the wording."""
    ids = [s.pk for s in skills]
    if not ids:
        return {}
    programme_of = dict(Skill.objects.filter(pk__in=ids).values_list("pk", "event__programme_id"))
    overrides = {s.skill_id: s for s in AwardSettings.objects.filter(skill_id__in=ids)}
    defaults = {
        s.programme_id: s
        for s in AwardSettings.objects.filter(
            programme_id__in=set(programme_of.values()), skill__isnull=True
        )
    }
    builtin = AwardSettings()
    out: dict[int, tuple[str, str]] = {}
    for award in Award.objects.filter(skill_id__in=ids).only(
        "entry_id", "skill_id", "kind", "title", "title_kind"
    ):
        conf = (
            overrides.get(award.skill_id) or defaults.get(programme_of[award.skill_id]) or builtin
        )
        out[award.entry_id] = (
            policies.CHINESE_NAMES.get(award.kind or "", ""),
            conf.title_text(award.title_code) if award.title else "",
        )
    return out


def published_skill_list(event: Event) -> list[Skill]:
    """The event's published skills by code, with their publication loaded."""
    return list(
        publication.published_skills(event)
        .select_related("publication", "event", "event__programme")
        .order_by("code")
    )


# ------------------------------------------------------------------ rankings


@dataclass(frozen=True)
class RankingLine:
    entry_id: int
    rank: int | None
    competitor_no: str
    names: str
    delegation_code: str
    delegation_name: str
    final_score: Decimal | None
    scale_score: int | None
    award: str
    title: str
    status: str  # Entry.Status

    @property
    def award_kind(self) -> str:
        """gold / silver / … for the page's colours (the award is printed in Chinese)."""
        return _KIND_OF_NAME.get(self.award, "")


_KIND_OF_NAME = {name: kind for kind, name in policies.CHINESE_NAMES.items()}


def ranking_lines(
    skill: Skill,
    rows: Sequence[ResultRow],
    names: dict[int, str],
    award_cols: dict[int, tuple[str, str]],
) -> list[RankingLine]:
    lines = []
    for r in rows:
        award, title = award_cols.get(r.entry_id, ("", ""))
        lines.append(
            RankingLine(
                entry_id=r.entry_id,
                rank=r.rank,
                competitor_no=r.entry.competitor_no,
                names=names.get(r.entry_id, ""),
                delegation_code=r.entry.delegation.code,
                delegation_name=r.entry.delegation.name,
                final_score=r.final_score,
                scale_score=r.scale_score,
                award=award,
                title=title,
                status=r.entry.status,
            )
        )
    return lines


def skill_rankings(skill: Skill) -> list[RankingLine]:
    """The public ranking of one skill. The caller has checked it is published."""
    rows = published_results([skill])[skill.pk]
    return ranking_lines(
        skill, rows, names_by_entry(r.entry_id for r in rows), award_columns_for([skill])
    )


# ------------------------------------------------------------------ medal table


def published_medal_table(event: Event) -> MedalTableView:
    """The medal table over the published skills only (``awards.medals``,
    the one computation every page and workbook uses)."""
    return event_medal_table(event)


def medal_chart(lines: Sequence[MedalLine], limit: int | None = None) -> MedalChart:
    """The chart of the medal table by place: a lane per kind (awards.charts)."""
    return charts.medal_chart(
        lines, code=lambda m: m.delegation_code, name=lambda m: m.delegation_name, limit=limit
    )


# ------------------------------------------------------------------ public pages


@dataclass(frozen=True)
class PublishedSkill:
    skill: Skill
    published_at: dt.datetime | None


def events_with_results() -> list[Event]:
    """Events with at least one published skill, latest first."""
    ids = publication.published_skills().values("event_id")
    return list(Event.objects.filter(pk__in=ids).select_related("programme"))


def published_skill_rows(event: Event) -> list[PublishedSkill]:
    return [
        PublishedSkill(s, s.publication.published_at if s.publication else None)
        for s in published_skill_list(event)
    ]


def published_skill(event: Event, code: str) -> Skill | None:
    """The skill with this code if its results are public, else None (the
    page then answers 404, as for a skill that does not exist)."""
    return (
        publication.published_skills(event)
        .select_related("event", "publication")
        .filter(code=code)
        .first()
    )


@dataclass(frozen=True)
class ScoreboardSkill:
    skill: Skill
    published_at: dt.datetime | None
    podium: list[RankingLine]


@dataclass(frozen=True)
class Scoreboard:
    event: Event
    skills: list[ScoreboardSkill]  # every published skill, latest first
    medals: MedalTableView
    chart: MedalChart
    published_count: int
    updated_at: dt.datetime
    page_size: int = SCOREBOARD_PAGE

    @property
    def pages(self) -> list[list[ScoreboardSkill]]:
        """The skills in screens of ``page_size``; the screen rotates through
        them, so every published skill counted in the header is shown."""
        n = self.page_size
        return [self.skills[i : i + n] for i in range(0, len(self.skills), n)]


def scoreboard(event: Event, *, page_size: int = SCOREBOARD_PAGE) -> Scoreboard:
    """The ceremony screen: every published skill with its podium, latest
    first, and the medal table of the published skills."""
    latest = list(
        publication.published_skills(event)
        .select_related("publication")
        .order_by("-publication__published_at", "code")
    )
    rows = published_results(latest)
    podium_rows = {
        s.pk: [r for r in rows[s.pk] if r.rank is not None and r.rank <= SCOREBOARD_PODIUM]
        for s in latest
    }
    names = names_by_entry(r.entry_id for rs in podium_rows.values() for r in rs)
    cols = award_columns_for(latest)
    skills = [
        ScoreboardSkill(
            skill=s,
            published_at=s.publication.published_at,
            podium=ranking_lines(s, podium_rows[s.pk], names, cols),
        )
        for s in latest
    ]
    medals = published_medal_table(event)
    return Scoreboard(
        event=event,
        skills=skills,
        medals=medals,
        chart=medal_chart(medals.lines, limit=SCOREBOARD_MEDAL_ROWS),
        published_count=len(skills),
        updated_at=timezone.now(),
        page_size=max(1, page_size),
    )


def scoreboard_version(event: Event) -> str:
    """Changes whenever what the scoreboard shows may have changed: a skill
    published or withdrawn, or awards recomputed. The live fragment carries
    it so the screen can skip a swap that would change nothing."""
    last_log = PublicationLog.objects.filter(skill__event=event).aggregate(
        at=Max("at"), n=Count("pk")
    )
    last_award = Award.objects.filter(skill__event=event).aggregate(at=Max("computed_at"))["at"]
    parts = [last_log["at"], last_log["n"], last_award]
    return "-".join(str(p.timestamp() if isinstance(p, dt.datetime) else p) for p in parts)


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
    whole event is public."""
    entries = list(
        Entry.objects.filter(skill__event=event, delegation=delegation)
        .select_related("skill", "skill__publication")
        .order_by("skill__code", "competitor_no")
    )
    statuses = publishing.entry_statuses(entries)
    published_ids = set(
        publication.published_skills(event)
        .filter(pk__in={e.skill_id for e in entries})
        .values_list("pk", flat=True)
    )
    results = {
        r.entry_id: r
        for r in EntryResult.objects.filter(
            entry__in=[e for e in entries if e.skill_id in published_ids]
        )
    }
    skills_by_id = {e.skill_id: e.skill for e in entries}
    won_skills = set(
        Award.objects.filter(skill_id__in=published_ids, entry__delegation=delegation).values_list(
            "skill_id", flat=True
        )
    )
    cols = award_columns_for(skills_by_id[sid] for sid in sorted(won_skills))
    names = names_by_entry(e.pk for e in entries)
    grouped: dict[int, list[LeadEntry]] = defaultdict(list)
    for e in sorted(entries, key=lambda e: (e.skill.code, natural_key(e.competitor_no))):
        published = e.skill_id in published_ids
        award, title = cols.get(e.pk, ("", "")) if published else ("", "")
        grouped[e.skill_id].append(
            LeadEntry(
                entry=e,
                names=names.get(e.pk, ""),
                status=statuses[e.pk],
                result=results.get(e.pk) if published else None,
                award=award,
                title=title,
            )
        )
    skills = []
    for sid, lead_entries in grouped.items():
        skill = skills_by_id[sid]
        pub = getattr(skill, "publication", None) if sid in published_ids else None
        skills.append(
            LeadSkill(
                skill=skill,
                published=sid in published_ids,
                published_at=pub.published_at if pub else None,
                entries=lead_entries,
            )
        )
    medals = published_medal_table(event)
    medal_line = next((m for m in medals.lines if m.delegation_code == delegation.code), None)
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
        medal_line=medal_line,
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
    marks_expected: int
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

    @property
    def percent(self) -> int:
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


@dataclass(frozen=True)
class EventDashboard:
    event: Event
    skills: list[SkillProgress]

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.skills)

    @property
    def totals(self) -> dict[str, int]:
        names = (
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
        return {n: self.total(n) for n in names}


def event_dashboard(event: Event) -> EventDashboard:
    """Per skill: marking progress, open discrepancies, sign-off, publication,
    open appeals, awards and certificates — in a fixed number of queries.

    Signed-off skills are complete with no open discrepancy (sign-off refuses
    otherwise), so only the skills still marking are computed from their
    marks (``compute_skills``: a handful of queries for all of them)."""
    skills = list(
        Skill.objects.filter(event=event)
        .select_related("marking", "publication")
        .annotate(
            ranked=Count("entries", filter=Q(entries__status=Entry.Status.REGISTERED)),
        )
        .order_by("code")
    )
    published = set(publication.published_skills(event).values_list("pk", flat=True))
    signed = {s.pk for s in skills if (sm := _marking(s)) is not None and sm.is_signed_off}
    open_ids = [s.pk for s in skills if s.pk not in signed]
    computed = compute_skills(open_ids) if open_ids else {}
    schemes = scheme_states(open_ids)
    # Counted for the skills still marking only: a signed-off skill is complete.
    given = dict(
        Mark.objects.filter(skill_id__in=open_ids, entry__status=Entry.Status.REGISTERED)
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    acknowledged = set(
        DiscrepancyAcknowledgement.objects.filter(entry__skill_id__in=open_ids).values_list(
            "entry_id", "aspect_id"
        )
    )
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
    certs: dict[int, tuple[int, int]] = {
        sid: (n, g)
        for sid, n, g in Certificate.objects.filter(event=event, revoked=False)
        .values("entry__skill_id")
        .annotate(n=Count("pk"), g=Count("pk", filter=~Q(file="")))
        .values_list("entry__skill_id", "n", "g")
    }
    rows = []
    for s in skills:
        marking = _marking(s)
        pub = _publication(s)
        n_given = given.get(s.pk, 0)
        scheme_ok = s.pk in signed or schemes[s.pk].ok
        if s.pk in computed and not scheme_ok:
            res = computed[s.pk]
            complete, missing, discrepancies = 0, res.missing_count, 0
        elif s.pk in computed:
            res = computed[s.pk]
            complete = sum(1 for e in res.entries if e.ranked and e.complete)
            missing = res.missing_count
            discrepancies = sum(1 for pair in res.discrepancies if pair not in acknowledged)
        else:
            complete, missing, discrepancies = s.ranked, 0, 0
        cert_n, cert_g = certs.get(s.pk, (0, 0))
        rows.append(
            SkillProgress(
                skill=s,
                ranked=s.ranked,
                complete=complete,
                marks_given=n_given,
                marks_expected=n_given + missing,
                discrepancies_open=discrepancies,
                signed_off=s.pk in signed,
                signed_off_at=marking.signed_off_at if marking else None,
                published=s.pk in published,
                published_at=pub.published_at if pub and s.pk in published else None,
                appeals_open=appeals_open.get(s.pk, 0),
                awards=award_counts.get(s.pk, 0),
                certificates=cert_n,
                certificates_generated=cert_g,
                scheme_ok=scheme_ok,
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


# ------------------------------------------------------------------ workbooks


def may_export_rankings(user) -> bool:
    """``results.export_rankings`` (results/permissions.py): the full
    published rankings, for delegation leads and organisers."""
    return rules.has_perm("results.export_rankings", user)


def may_download(job: ExportJob, user) -> bool:
    """``results.download_export`` (results/permissions.py): generated files
    go to whoever asked for them, and to organisers."""
    return rules.has_perm("results.download_export", user, job)


@file_rules.rule(EXPORT_RULE)
def may_download_export_file(generated: GeneratedFile, user) -> bool:
    """The download rule of a workbook's file (files.permissions): the job's."""
    job = ExportJob.objects.filter(generated=generated).first()
    return job is not None and may_download(job, user)


ProgressCallback = Callable[[int, int], None]


def rankings_export_job(event: Event, user) -> tuple[ExportJob, bool]:
    """The job that writes the full published rankings for ``user``, and
    whether it is new (then ``tasks.request_rankings_export`` queues it).

    A job of the same user and event that is still running, or done, not
    expired and newer than the event's last publication change, is returned
    instead of writing the same workbook again."""
    now = timezone.now()
    last_change = PublicationLog.objects.filter(skill__event=event).aggregate(at=Max("at"))["at"]
    reusable = ExportJob.objects.filter(
        kind=ExportJob.Kind.RANKINGS,
        event=event,
        requested_by=user,
        generated__expires_at__gt=now,
        generated__status__in=[
            GeneratedFile.Status.PENDING,
            GeneratedFile.Status.RUNNING,
            GeneratedFile.Status.DONE,
        ],
    )
    if last_change is not None:
        reusable = reusable.filter(created_at__gt=last_change)
    job = reusable.select_related("generated").order_by("-created_at").first()
    if job is not None:
        return job, False
    generated = file_services.create(
        "results.rankings", EXPORT_RULE, owner=user, ttl=EXPORT_TTL, content_type=XLSX
    )
    job = ExportJob.objects.create(
        kind=ExportJob.Kind.RANKINGS,
        event=event,
        delegation=roles.lead_delegation(user),
        requested_by=user,
        generated=generated,
    )
    return job, True
