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
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import rules
from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from awards import charts, policies
from awards.charts import MedalChart
from awards.medals import MedalLine, MedalTableView, event_medal_table
from awards.models import Award, AwardSettings
from competitions import publication
from competitions.models import Event, PublicationLog, Skill
from files import permissions as file_rules
from files import services as file_services
from files.models import GeneratedFile
from scoring.models import EntryResult, SkillMarking
from scoring.results import results_for
from teams import roles
from teams.models import Delegation, Entry, EntryMember

from .models import ExportJob

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


def names_by_entry(
    entry_ids: Iterable[int] = (), *, skills: Iterable[Skill] | None = None
) -> dict[int, str]:
    """Entry id → its athletes' names joined as on the rankings sheet; of
    the entries ``entry_ids``, or of every entry of ``skills`` (a filter on
    a hundred skill ids, not on four thousand entry ids)."""
    members = EntryMember.objects.all()
    if skills is not None:
        members = members.filter(entry__skill_id__in=[s.pk for s in skills])
    else:
        members = members.filter(entry_id__in=list(entry_ids))
    names: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in members.order_by("entry_id", "id").values_list(
        "entry_id", "athlete__name"
    ):
        names[entry_id].append(name)
    return {k: NAME_SEPARATOR.join(v) for k, v in names.items()}


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


def fresh_skills(skills: Sequence[Skill]) -> set[int]:
    """The ids of the skills whose stored results are current, checked in the
    database in three queries whatever the number of rows: signed off, the
    results stored after the sign-off, a row for every entry and none of
    another, and every row still matching its entry's status (the row-level
    half of ``scoring.results._stale``: no rank for an entry withdrawn or
    absent since, no complete-looking empty row for one registered again)."""
    ids = [s.pk for s in skills]
    stamped = set(
        SkillMarking.objects.filter(
            skill_id__in=ids,
            status=SkillMarking.Status.SIGNED_OFF,
            signed_off_at__isnull=False,
            results_computed_at__gte=F("signed_off_at"),
        ).values_list("skill_id", flat=True)
    )
    registered = Q(entry__status=Entry.Status.REGISTERED)
    stale_row = (Q(rank__isnull=False) & ~registered) | (
        registered & Q(complete=False, missing_marks=0)
    )
    stored = {
        sid: (n, bad)
        for sid, n, bad in EntryResult.objects.filter(
            skill_id__in=stamped, entry__skill_id=F("skill_id")
        )
        .values("skill_id")
        .annotate(n=Count("pk"), bad=Count("pk", filter=stale_row))
        .values_list("skill_id", "n", "bad")
    }
    rows = dict(
        EntryResult.objects.filter(skill_id__in=stamped)
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    entries = dict(
        Entry.objects.filter(skill_id__in=stamped)
        .values("skill_id")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "n")
    )
    return {
        sid
        for sid in stamped
        if stored.get(sid, (0, 0)) == (entries.get(sid, 0), 0)
        and rows.get(sid, 0) == entries.get(sid, 0)
    }


def published_results(
    skills: Sequence[Skill], entry_ids: Iterable[int] | None = None
) -> dict[int, Sequence[ResultRow]]:
    """Skill id → stored results in display order, for published skills;
    only the rows of ``entry_ids`` when given (a lead's own entries).

    A few queries for any number of skills (:func:`fresh_skills`); a skill
    whose rows may be stale (computed before its sign-off, an entry added or
    its status changed) goes through ``results_for``, which recomputes it."""
    if not skills:
        return {}
    fresh = fresh_skills(skills)
    wanted = None if entry_ids is None else set(entry_ids)
    query = EntryResult.objects.filter(skill_id__in=fresh)
    if wanted is not None:
        query = query.filter(entry_id__in=wanted)
    # Plain rows, not model instances: building 4,000 EntryResult + Entry
    # objects cost as much as writing the whole workbook. Delegations are few.
    delegations = {d.pk: d for d in Delegation.objects.only("id", "code", "name")}
    rows: dict[int, list[StoredResult]] = defaultdict(list)
    for (
        eid,
        sid,
        rank,
        final,
        scale,
        complete,
        missing,
        no,
        status,
        did,
    ) in query.order_by().values_list(
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
    ):
        ref = EntryRef(no, status, delegations[did])
        rows[sid].append(StoredResult(eid, sid, rank, final, scale, complete, missing, ref))
    out: dict[int, Sequence[ResultRow]] = {}
    for skill in skills:
        if skill.pk in fresh:
            out[skill.pk] = sorted(rows.get(skill.pk, []), key=_result_order)
        else:
            out[skill.pk] = [
                r for r in results_for(skill) if wanted is None or r.entry_id in wanted
            ]
    return out


def award_columns_for(
    skills: Iterable[Skill], entry_ids: Iterable[int] | None = None
) -> dict[int, tuple[str, str]]:
    """Entry id → (award, title) as printed, over many skills in four queries;
    only of ``entry_ids`` when given (a lead's own entries).

    The same answer as ``awards.awarding.award_columns`` skill by skill (a
    test holds them equal), which costs three queries per skill: 300-odd for
    a national final's workbook, a third of its time. The awards app may
    take this over as a bulk ``award_columns``; it owns the wording."""
    ids = [s.pk for s in skills]
    if not ids:
        return {}
    won = Award.objects.filter(skill_id__in=ids)
    if entry_ids is not None:
        won = won.filter(entry_id__in=list(entry_ids))
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
    for award in won.only("entry_id", "skill_id", "kind", "title", "title_kind"):
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
    raw = "-".join(str(p.timestamp() if isinstance(p, dt.datetime) else p) for p in parts)
    # Opaque: the page shows it, and a timestamp's digits could read like a score.
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


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
