"""One problem found in an uploaded workbook, located as precisely as known.

Every importer (event workbook, marking schemes) reports with this class, so
the pages and commands show all problems alike: sheet, Excel row, column key
and letter, and the message in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import translation


@dataclass
class CellProblem:
    sheet: str | None
    row: int | None
    column: str | None  # the column key, e.g. "max_mark"
    column_letter: str | None
    message: Any  # a lazy translatable string; params are applied when rendered
    params: dict[str, Any] = field(default_factory=dict)
    warning: bool = False

    def render(self, language: str | None = None) -> str:
        if language is None:
            text = str(self.message)
        else:
            with translation.override(language):
                text = str(self.message)
        return text % self.params if self.params else text

    @property
    def message_zh(self) -> str:
        return self.render("zh-hans")

    @property
    def message_en(self) -> str:
        return self.render("en")

    @property
    def cell(self) -> str:
        """Excel's name of the cell, e.g. 'C5', when both parts are known."""
        if self.column_letter and self.row:
            return f"{self.column_letter}{self.row}"
        return ""

    def __str__(self) -> str:
        where = " ".join(str(p) for p in (self.sheet, self.cell or self.row, self.column) if p)
        return f"{where}: {self.message_en}" if where else self.message_en
