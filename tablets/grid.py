"""The chief judge's progress grid: entries × judges (docs/chief-board.md).

A cell a judge is not expected to score does not say why: recusal would name
the entry's delegation, and a marking group looks the same."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count

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
    and marking groups applied) and measurement marks entered per entry.

    Worked out per entry, not per (entry, judge, aspect): the expected
    judges come from ``panels.expected_by_entry`` (no refusal is built), and
    the marks are counted by the database per (entry, judge). Only the J
    scores of judges whose groups list aspects are read one by one. Seven
    or eight queries whatever the size of the skill, returning rows per
    entry and judge, not per mark."""
    panel = panels.load_panel(skill)
    markers = panel.markers()
    judges = list(Judge.objects.filter(pk__in=markers).order_by("code").only("id", "code"))
    entries = list(
        Entry.objects.filter(skill=skill, status=Entry.Status.REGISTERED)
        .order_by("competitor_no")
        .values_list("id", "competitor_no", "delegation_id")
    )
    aspects = list(Aspect.objects.filter(skill=skill).values_list("id", "kind"))
    j_aspects = [a for a, k in aspects if k == AspectKind.JUDGEMENT]
    m_total = len(aspects) - len(j_aspects)
    expected = panels.expected_by_entry(panel, j_aspects, [(e, d) for e, _no, d in entries])
    j_done, m_done = _mark_counts(skill)
    scored = _scores_of_partial_judges(skill, expected)
    remarks = dict(
        RemarkRequest.objects.filter(entry__skill=skill, resolved_at__isnull=True)
        .order_by()
        .values_list("entry_id")
        .annotate(n=Count("id"))
    )
    judge_ids = [j.pk for j in judges]
    rows = []
    for entry_id, competitor_no, _delegation in entries:
        cells = _cells(entry_id, judge_ids, expected[entry_id], len(j_aspects), j_done, scored)
        measurement = GridCell(m_done.get(entry_id, 0), m_total)
        rows.append(GridRow(entry_id, competitor_no, cells, measurement, remarks.get(entry_id, 0)))
    return Grid(judges, rows)


def _cells(
    entry_id: int,
    judge_ids: list[int],
    expected: panels.ExpectedJudges,
    j_count: int,
    j_done: dict[tuple[int, int], int],
    scored: dict[tuple[int, int], set[int]],
) -> list[GridCell]:
    """One row's judge cells. A judge in ``expected.common`` is expected on
    every J aspect, so their count of J scores is the cell; a judge expected
    on some aspects only (``expected.extra``) is counted on those. Anyone
    else — recused or outside their groups — gets the same empty cell."""
    partial: dict[int, set[int]] = defaultdict(set)
    for aspect_id, extra_judges in expected.extra.items():
        for judge_id in extra_judges:
            partial[judge_id].add(aspect_id)
    cells = []
    for judge_id in judge_ids:
        if judge_id in expected.common:
            cells.append(GridCell(j_done.get((entry_id, judge_id), 0), j_count))
        elif judge_id in partial:
            mine = partial[judge_id]
            done = len(mine & scored.get((entry_id, judge_id), set()))
            cells.append(GridCell(done, len(mine)))
        else:
            cells.append(GridCell())
    return cells


def _mark_counts(skill: Skill) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """J scores per (entry, judge) and M marks per entry, in one aggregate."""
    j_done: dict[tuple[int, int], int] = {}
    m_done: dict[int, int] = defaultdict(int)
    for entry_id, judge_id, kind, n in (
        Mark.objects.filter(skill=skill)
        .order_by()
        .values_list("entry_id", "judge_id", "kind")
        .annotate(n=Count("id"))
    ):
        if kind == AspectKind.JUDGEMENT:
            j_done[(entry_id, judge_id)] = n
        else:
            m_done[entry_id] += n
    return j_done, m_done


def _scores_of_partial_judges(
    skill: Skill, expected: dict[int, panels.ExpectedJudges]
) -> dict[tuple[int, int], set[int]]:
    """(entry, judge) → J aspects scored, for the judges some entry expects
    on some aspects only (groups listing aspects); none in most skills."""
    judge_ids = {j for e in expected.values() for js in e.extra.values() for j in js}
    scored: dict[tuple[int, int], set[int]] = defaultdict(set)
    if judge_ids:
        for entry_id, judge_id, aspect_id in Mark.objects.filter(
            skill=skill, kind=AspectKind.JUDGEMENT, judge_id__in=judge_ids
        ).values_list("entry_id", "judge_id", "aspect_id"):
            scored[(entry_id, judge_id)].add(aspect_id)
    return scored
