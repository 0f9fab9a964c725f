"""Problems of a sheet collected, grouped when many rows share one, and
reported in row order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import ImportContext, ParsedSheet

ROWS_SHOWN = 10  # row numbers listed in a message about many rows


@dataclass
class _Grouped:
    """One problem shared by many rows: reported once, at its first row."""

    row: int
    column: str
    message: Any
    params: dict[str, Any]
    rows: list[int] = field(default_factory=list)


class GroupedProblems:
    """The problems of one sheet, collected, then reported in row order."""

    def __init__(self, ctx: ImportContext, sheet: ParsedSheet) -> None:
        self.ctx = ctx
        self.sheet = sheet
        self.single: list[tuple[int, str | None, Any, dict[str, Any]]] = []
        self.grouped: dict[tuple, _Grouped] = {}
        # Errors the driver's cell cleaning reports meanwhile join these in row order.
        self.start = len(ctx.report.errors)

    def add(self, row: int, column: str | None, message: Any, **params: Any) -> None:
        self.single.append((row, column, message, params))

    def add_grouped(self, key: tuple, row: int, column: str, message: Any, **params: Any) -> None:
        found = self.grouped.get(key)
        if found is None:
            found = self.grouped[key] = _Grouped(row, column, message, params)
        found.rows.append(row)

    def flush(self) -> None:
        found = [(row, column, message, params) for row, column, message, params in self.single]
        for g in self.grouped.values():
            shown = ", ".join(str(r) for r in g.rows[:ROWS_SHOWN])
            if len(g.rows) > ROWS_SHOWN:
                shown += " …"
            found.append(
                (g.row, g.column, g.message, {**g.params, "count": len(g.rows), "rows": shown})
            )
        for row, column, message, params in found:
            self.ctx.error(self.sheet, row, column, message, **params)
        order = {k: i for i, k in enumerate(self.sheet.letters)}
        errors = self.ctx.report.errors
        errors[self.start :] = sorted(
            errors[self.start :], key=lambda e: (e.row or 0, order.get(e.column or "", -1))
        )
