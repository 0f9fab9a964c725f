"""The result workbooks people download.

They are *presentations* (``portal.exporters.Presentation``) of the sheet
definitions the interchange workbook uses: every ranking sheet here is a
``scoring.exporters.RankingsExporter`` — same columns, keys, Chinese titles,
number formats and row layout as ``export_results`` — fed with the rows of
one published skill (a sheet per skill) or of one delegation. The medal table
sheet is ``awards.exporters.MedalTableExporter``'s definition fed with the
published skills' tally.

Only published skills' scores are loaded: for (a) the lead's own entries of
unpublished skills get a status and empty score cells, and (b) has no sheet
for an unpublished skill at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from awards import policies
from awards.exporters import MedalTableExporter
from awards.medals import MedalTableView
from awards.models import Award
from competitions import publication
from competitions.models import Event, Skill
from portal.exporters import INTEGER, TEXT, TWO_PLACES, Column, SheetExporter, safe_sheet_name
from scoring import ledger
from scoring.exporters import RankingsExporter
from teams.models import Delegation, Entry

from . import publishing, services
from .services import ProgressCallback, ResultRow

DATETIME = "yyyy-mm-dd hh:mm"


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # openpyxl refuses aware datetimes; the workbook shows local (Asia/Shanghai) time.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def ranking_row(
    skill: Skill, r: ResultRow, names: dict[int, str], awards: Mapping[int, tuple[str, str]]
) -> tuple:
    """One row of ``RankingsExporter.columns``, as ``RankingsExporter.rows`` builds it."""
    award, title = awards.get(r.entry_id, ("", ""))
    return (
        skill.code,
        r.rank,
        r.entry.competitor_no,
        r.entry.delegation.code,
        names.get(r.entry_id, ""),
        r.final_score,
        r.scale_score,
        award,
        title,
        r.entry.delegation.name,
    )


class SkillRankingsSheet(RankingsExporter):
    """The rankings sheet of docs/formats.md for one published skill."""

    def __init__(
        self,
        skill: Skill,
        results: Sequence[ResultRow],
        names: dict[int, str],
        awards: dict[int, tuple[str, str]],
        *,
        sheet_name: str,
        on_done: ProgressCallback | None = None,
        position: tuple[int, int] = (0, 0),
        ledger_head: str = "",
    ) -> None:
        super().__init__(skill.event, awards=awards)
        self.skill = skill
        self.results = results
        self.names = names
        self.sheet_name = sheet_name
        self.on_done = on_done
        self.position = position
        published = getattr(getattr(skill, "publication", None), "published_at", None)
        when = _local(published)
        self.caption = " · ".join(
            p
            for p in (
                f"{skill.code} {skill.name}",
                _("Rankings"),
                _("published %(at)s") % {"at": when.strftime("%Y-%m-%d %H:%M")} if when else "",
                _("ledger chain head %(head)s") % {"head": ledger_head} if ledger_head else "",
            )
            if p
        )

    def rows(self) -> Iterable[Sequence[object]]:
        for r in self.results:
            yield ranking_row(self.skill, r, self.names, self.awards)
        if self.on_done is not None:
            self.on_done(*self.position)


class PublishedMedalTableSheet(MedalTableExporter):
    """The ``medal_table`` definition over the published skills only."""

    def __init__(self, event: Event, table: MedalTableView) -> None:
        super().__init__(event, table)
        self.sheet_name = _("Medal table")
        self.caption = _("Medal table · %(n)d of %(m)d skills published") % {
            "n": table.published,
            "m": table.skills,
        }


class SummarySheet(SheetExporter):
    """One line per published skill: sizes, best score, awards given."""

    columns = (
        Column("skill_code", "赛项代码", TEXT),
        Column("skill_name", "赛项名称", TEXT, width=22),
        Column("team_size", "每队人数", INTEGER),
        Column("entries", "参赛单元", INTEGER),
        Column("ranked", "排名单元", INTEGER),
        Column("top_score", "最高分", TWO_PLACES),
        Column("gold", "金牌", INTEGER),
        Column("silver", "银牌", INTEGER),
        Column("bronze", "铜牌", INTEGER),
        Column("excellence", "优胜奖", INTEGER),
        Column("first", "一等奖", INTEGER),
        Column("second", "二等奖", INTEGER),
        Column("third", "三等奖", INTEGER),
        Column("titles", "技术能手", INTEGER),
        Column("published_at", "发布时间", DATETIME, width=16),
        # The ledger chain head recorded at sign-off (docs/integrity.md).
        Column("ledger_head", "成绩链头", TEXT, width=66),
    )

    def __init__(
        self,
        event: Event,
        skills: Sequence[Skill],
        results: Mapping[int, Sequence[ResultRow]],
        award_kinds: dict[int, list[tuple[str | None, bool]]],
        heads: dict[int, str] | None = None,
    ) -> None:
        self.event = event
        self.skills = skills
        self.results = results
        self.award_kinds = award_kinds
        self.heads = heads or {}
        self.sheet_name = _("Summary of skills")
        self.caption = _("%(event)s · published rankings · %(n)d skills") % {
            "event": event.name,
            "n": len(skills),
        }

    def rows(self) -> Iterable[Sequence[object]]:
        kinds = (
            policies.GOLD,
            policies.SILVER,
            policies.BRONZE,
            policies.EXCELLENCE,
            policies.FIRST,
            policies.SECOND,
            policies.THIRD,
        )
        for skill in self.skills:
            rows = self.results.get(skill.pk, [])
            scores = [r.final_score for r in rows if r.final_score is not None]
            won = self.award_kinds.get(skill.pk, [])
            counts = [sum(1 for k, _t in won if k == kind) for kind in kinds]
            pub = getattr(skill, "publication", None)
            yield (
                skill.code,
                skill.name,
                skill.team_size,
                len(rows),
                sum(1 for r in rows if r.rank is not None),
                max(scores) if scores else None,
                *counts,
                sum(1 for _k, t in won if t),
                _local(pub.published_at if pub else None),
                self.heads.get(skill.pk, ""),
            )


def rankings_sheets(
    event: Event, *, progress: ProgressCallback | None = None
) -> list[SheetExporter]:
    """(b) Summary, medal table, then one rankings sheet per published skill.

    Everything is loaded before the first row is written (a few queries for
    the whole event), so the workbook is one consistent picture."""
    skills = services.published_skill_list(event)
    results = services.published_results(skills)
    names = services.names_by_entry(skills=skills)
    awards = services.award_columns_for(skills)
    award_kinds: dict[int, list[tuple[str | None, bool]]] = {}
    for skill_id, kind, title in _award_rows(skills):
        award_kinds.setdefault(skill_id, []).append((kind, title))
    taken: set[str] = set()
    heads = ledger.signed_off_heads(s.pk for s in skills)
    summary = SummarySheet(event, skills, results, award_kinds, heads)
    summary.sheet_name = safe_sheet_name(summary.sheet_name, taken)
    medals = PublishedMedalTableSheet(event, services.published_medal_table(event))
    medals.sheet_name = safe_sheet_name(medals.sheet_name, taken)
    total = len(skills)
    if progress is not None:
        progress(0, total)
    sheets: list[SheetExporter] = [summary, medals]
    for i, skill in enumerate(skills, start=1):
        sheets.append(
            SkillRankingsSheet(
                skill,
                results.get(skill.pk, []),
                names,
                awards,
                sheet_name=safe_sheet_name(f"{skill.code} {skill.name}", taken),
                on_done=progress,
                position=(i, total),
                ledger_head=heads.get(skill.pk, ""),
            )
        )
    return sheets


def _award_rows(skills: Sequence[Skill]) -> list[tuple[int, str | None, bool]]:
    return list(
        Award.objects.filter(skill__in=[s.pk for s in skills]).values_list(
            "skill_id", "kind", "title"
        )
    )


_DOCUMENTED = 9  # skill_code … title: the rankings keys of docs/formats.md


class DelegationResultsSheet(RankingsExporter):
    """(a) A delegation's entries across the event: the rankings columns,
    then the skill's name and the entry's status. Scores, ranks, awards only
    for published skills."""

    # The nine documented keys, this sheet's two, then the delegation's name
    # (as on every ranking sheet, after the columns readers already know).
    columns = (
        *RankingsExporter.columns[:_DOCUMENTED],
        Column("skill_name", "赛项名称", TEXT, width=20),
        Column("status", "状态", TEXT),
        *RankingsExporter.columns[_DOCUMENTED:],
    )

    def __init__(self, event: Event, delegation: Delegation) -> None:
        super().__init__(event)
        self.delegation = delegation
        self.sheet_name = _("Our results")
        self.caption = f"{delegation.name} · {event.name}"

    def rows(self) -> Iterable[Sequence[object]]:
        entries = list(
            Entry.objects.filter(skill__event=self.event, delegation=self.delegation)
            .select_related("skill", "skill__event", "delegation")
            .order_by("skill__code")
        )
        entries.sort(key=lambda e: (e.skill.code, services.natural_key(e.competitor_no)))
        statuses = publishing.entry_statuses(entries)
        skills = {e.skill_id: e.skill for e in entries}
        published_ids = set(
            publication.published_skills(self.event)
            .filter(pk__in=list(skills))
            .values_list("pk", flat=True)
        )
        published = [skills[sid] for sid in sorted(published_ids, key=lambda s: skills[s].code)]
        own = [e.pk for e in entries if e.skill_id in published_ids]
        results = {
            r.entry_id: r
            for rows in services.published_results(published, own).values()
            for r in rows
        }
        awards = services.award_columns_for(published, own)
        names = services.names_by_entry(e.pk for e in entries)
        for e in entries:
            status = statuses[e.pk]
            result = results.get(e.pk) if e.skill_id in published_ids else None
            if result is not None:
                row = ranking_row(e.skill, result, names, awards)
            else:
                row = (e.skill.code, None, e.competitor_no, self.delegation.code,
                       names.get(e.pk, ""), None, None, "", "",
                       self.delegation.name)  # fmt: skip
            label = str(status.label)
            if e.status != Entry.Status.REGISTERED:
                label = f"{label} · {e.get_status_display()}"
            yield (*row[:_DOCUMENTED], e.skill.name, label, *row[_DOCUMENTED:])


def delegation_sheets(event: Event, delegation: Delegation) -> list[SheetExporter]:
    """(a) The delegation's results, and the published medal table."""
    taken: set[str] = set()
    own = DelegationResultsSheet(event, delegation)
    own.sheet_name = safe_sheet_name(own.sheet_name, taken)
    medals = PublishedMedalTableSheet(event, services.published_medal_table(event))
    medals.sheet_name = safe_sheet_name(medals.sheet_name, taken)
    return [own, medals]
