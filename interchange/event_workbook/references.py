"""Whether the skill and delegation codes of a row exist: defined earlier in
the file or already in the portal (the entries and judges sheets)."""

from __future__ import annotations

from .context import ImportContext, ParsedSheet, SheetRow
from .delegations import delegation_exists
from .report import UNKNOWN_DELEGATION, UNKNOWN_SKILL
from .skills import skill_sizes


def codes_known(ctx: ImportContext, sheet: ParsedSheet, row: SheetRow, data: dict) -> bool:
    """Report an unknown skill or delegation code on its cell; True when both are known."""
    ok = True
    skill_code = data.get("skill_code")
    if skill_code and skill_code not in skill_sizes(ctx):
        ctx.error(sheet, row, "skill_code", UNKNOWN_SKILL, code=skill_code)
        ok = False
    delegation = data.get("delegation_code")
    if delegation and not delegation_exists(ctx, delegation):
        ctx.error(sheet, row, "delegation_code", UNKNOWN_DELEGATION, code=delegation)
        ok = False
    return ok
