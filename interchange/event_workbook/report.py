"""What an event-workbook import reports: counts per sheet, errors, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from portal.problems import CellProblem

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

UNKNOWN_DELEGATION = _(
    "Unknown delegation code %(code)s: not in the delegations sheet nor in the portal."
)
UNKNOWN_SKILL = _("Unknown skill code %(code)s: not in the skills sheet nor in this event.")


WorkbookError = CellProblem


@dataclass
class SheetStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    event_code: str
    dry_run: bool = False
    event_created: bool = False
    programme_created: bool = False
    committed: bool = False
    sheets: dict[str, SheetStats] = field(default_factory=dict)
    errors: list[WorkbookError] = field(default_factory=list)
    warnings: list[WorkbookError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {CREATED: s.created, UPDATED: s.updated, UNCHANGED: s.unchanged}
            for name, s in self.sheets.items()
        }
