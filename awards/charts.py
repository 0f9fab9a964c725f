"""The medal chart: one row per delegation in medal-table order, and in each
row one lane per kind — gold, silver, bronze, then excellence — each bar
scaled to the largest count of its own kind among the rows shown.

A single bar sized by the total count would make a delegation with many
bronze medals look ahead of one with a gold; lanes keep the table's order
readable (the longest gold bar is the leader) and every lane carries its
count as text. Display only: the numbers come from the medal table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

KINDS = ("gold", "silver", "bronze", "excellence")


@dataclass(frozen=True)
class Lane:
    kind: str
    count: int
    percent: str  # of the lane's width, for an SVG attribute ("0" … "100")


@dataclass(frozen=True)
class ChartRow:
    place: int
    code: str
    name: str
    lanes: list[Lane]


@dataclass(frozen=True)
class MedalChart:
    rows: list[ChartRow]
    kinds: tuple[str, ...]  # the lanes shown, in order

    def __bool__(self) -> bool:
        return bool(self.rows)


def _percent(count: int, widest: int) -> str:
    if not widest:
        return "0"
    value = Fraction(100 * count, widest)
    return f"{float(round(value, 1)):g}"


def medal_chart(
    rows: Iterable[Any],
    *,
    code: Callable[[Any], str],
    name: Callable[[Any], str],
    limit: int | None = None,
) -> MedalChart:
    """``rows`` have ``place``, ``gold``, ``silver``, ``bronze`` and
    ``excellence``; ``code``/``name`` read the delegation's. Rows are shown
    by place (then code), the first ``limit`` of them."""
    ordered = sorted(rows, key=lambda r: (r.place, code(r)))
    if limit:
        ordered = ordered[:limit]
    widest = {k: max((getattr(r, k) for r in ordered), default=0) for k in KINDS}
    # Excellence is a lane only where someone has one; medals always are.
    kinds = tuple(k for k in KINDS if k != "excellence" or widest[k])
    return MedalChart(
        rows=[
            ChartRow(
                place=r.place,
                code=code(r),
                name=name(r),
                lanes=[Lane(k, getattr(r, k), _percent(getattr(r, k), widest[k])) for k in kinds],
            )
            for r in ordered
        ],
        kinds=kinds,
    )
