"""The results workbook's ``rankings`` sheet (docs/formats.md).

Columns: skill_code, rank, competitor_no, delegation_code, names,
final_score, scale_score, award, title — then delegation_name, after the
documented keys so a program reading them by key or position is unaffected
(docs/exports.md). Per skill (by skill code): ranked
entries by rank, then registered entries still incomplete (no rank, no final
score: see ``scoring.results``), then absent and withdrawn entries — every
entry appears once, with empty cells where the rules give nothing.

``award`` and ``title`` are empty until the awards issue fills them: pass
``awards`` (entry id → (award, title)) or override ``award_and_title``. The
``medal_table`` sheet will be a second ``SheetExporter`` of the same workbook.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

from competitions.models import Event
from portal.exporters import INTEGER, TEXT, TWO_PLACES, Column, SheetExporter
from teams.models import EntryMember

from .models import EntryResult
from .results import results_for

NAME_SEPARATOR = "、"


class RankingsExporter(SheetExporter):
    sheet_name = "rankings"
    allow_title_row = False  # docs/formats.md: the keys are row 1
    autofilter = True
    columns: ClassVar[Sequence[Column]] = (
        Column("skill_code", "赛项代码", TEXT),
        Column("rank", "名次", INTEGER),
        Column("competitor_no", "参赛号", TEXT),
        Column("delegation_code", "代表团代码", TEXT),
        Column("names", "姓名", TEXT, width=24),
        Column("final_score", "成绩", TWO_PLACES),
        Column("scale_score", "标准分", INTEGER),
        Column("award", "奖项", TEXT),
        Column("title", "称号", TEXT),
        Column("delegation_name", "代表团", TEXT, width=16),
    )

    def __init__(self, event: Event, awards: Mapping[int, tuple[str, str]] | None = None) -> None:
        self.event = event
        self.awards = awards or {}

    def award_and_title(self, result: EntryResult) -> tuple[str, str]:
        """Hook for the awards issue: (award, title) of an entry, "" when none."""
        return self.awards.get(result.entry_id, ("", ""))

    def rows(self) -> Iterable[Sequence[object]]:
        skills = list(self.event.skills.order_by("code"))
        names: dict[int, list[str]] = defaultdict(list)
        for entry_id, name in (
            EntryMember.objects.filter(entry__skill__event=self.event)
            .order_by("entry_id", "id")
            .values_list("entry_id", "athlete__name")
        ):
            names[entry_id].append(name)
        for skill in skills:
            for r in results_for(skill):  # stored rows, recomputed when stale
                award, title = self.award_and_title(r)
                yield (
                    skill.code,
                    r.rank,
                    r.entry.competitor_no,
                    r.entry.delegation.code,
                    NAME_SEPARATOR.join(names.get(r.entry_id, [])),
                    r.final_score,
                    r.scale_score,
                    award,
                    title,
                    r.entry.delegation.name,
                )
