"""The chief judge's progress grid: entries × judges (docs/chief-board.md).

A cell a judge is not expected to score does not say why: recusal would name
the entry's delegation, and a marking group looks the same."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scoring import panels
from scoring.models import Aspect, AspectKind, Mark
from teams.models import Entry, Judge

from .models import RemarkRequest

if TYPE_CHECKING:
    from competitions.models import Skill


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
