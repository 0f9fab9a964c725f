"""What the awards app gives the results workbook (docs/formats.md).

``event_award_columns(event)`` fills the rankings sheet's ``award`` and
``title`` columns (pass it as ``RankingsExporter(event, awards=...)``), and
``MedalTableExporter(event)`` is the ``medal_table`` sheet:

    write_workbook(
        [RankingsExporter(event, awards=event_award_columns(event)), MedalTableExporter(event)],
        output,
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from competitions.models import Event
from portal.exporters import INTEGER, TEXT, Column, SheetExporter

from . import awarding, medals


def event_award_columns(event: Event) -> dict[int, tuple[str, str]]:
    """Entry id → (award, title) in Chinese, for every skill of the event."""
    out: dict[int, tuple[str, str]] = {}
    for skill in event.skills.all():
        out.update(awarding.award_columns(skill))
    return out


class MedalTableExporter(SheetExporter):
    sheet_name = "medal_table"
    allow_title_row = False  # docs/formats.md: the keys are row 1
    columns = (
        Column("place", "名次", INTEGER),
        Column("delegation_code", "代表团代码", TEXT),
        Column("gold", "金牌", INTEGER),
        Column("silver", "银牌", INTEGER),
        Column("bronze", "铜牌", INTEGER),
        Column("excellence", "优胜奖", INTEGER),
        # After the documented keys, so readers by key or position still work.
        Column("delegation_name", "代表团", TEXT, width=16),
    )

    def __init__(self, event: Event, table: medals.MedalTableView | None = None) -> None:
        self.event = event
        # The interchange workbook is the organisers': every signed-off skill
        # counts. The people's workbooks pass the published table (results).
        self.table = table or medals.event_medal_table(event, include_unpublished=True)

    def rows(self) -> Iterable[Sequence[object]]:
        for row in medals.medal_table_rows(self.table.lines):
            yield tuple(row[c.key] for c in self.columns)
