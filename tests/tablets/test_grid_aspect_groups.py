"""The progress grid when a marking group lists aspects: the judge's cell
counts only the judgement aspects their group covers, scores outside it do
not fill it, and an entry outside the group shows the same "not expected"
cell as recusal."""

from __future__ import annotations

import re

from django.test import Client

from scoring.models import MarkingGroup


def row_cells(grid: str, no: str) -> list[tuple[str, str]]:
    row = grid[grid.index(f">{no}</th>") :]
    row = row[: row.index("</tr>")]
    return re.findall(r"<td class=\"num ([a-z]+)\"[^>]*>(.*?)</td>", row)


def test_cell_counts_the_aspects_of_the_judges_group(world, tablet, post_mark):
    group = MarkingGroup.objects.create(skill=world.skill, name="J1 组")
    group.judges.add(world.jc)
    group.entries.add(world.entries["101"], world.entries["102"])
    group.aspects.add(world.aspect("J1"), world.aspect("J2"))
    jc, _ = tablet(world.jc)
    post_mark(jc, world.entries["102"], world.aspect("J1"), "2", "k-j1", ev=0)
    chief = Client()
    chief.force_login(world.chief.user)
    grid = chief.get(f"/tablet/board/{world.skill.pk}/grid/").content.decode()
    # Columns: measurement, then JA01, JB02, JC03 (the re-mark cell is not "num").
    assert row_cells(grid, "102")[3] == ("part", "1/2")
    assert row_cells(grid, "101")[3] == ("none", "0/2")
    outside, recused = row_cells(grid, "104")[3], row_cells(grid, "101")[1]
    assert outside == recused == ("na", "不需评分")
    # JB02 has no group: all three J aspects everywhere but its own delegation.
    assert row_cells(grid, "101")[2] == ("none", "0/3")
