"""The ``skills`` sheet: the event's skills and their team sizes."""

from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill
from competitions.resources import cell_text

from .context import (
    ImportContext,
    ParsedSheet,
    SheetRow,
    check_duplicate,
    cleaned_rows,
    update_changed,
)
from .report import CREATED, UNCHANGED, UPDATED


def skill_sizes(ctx: ImportContext) -> dict[str, int | None]:
    """Skill code → team size, as the event will be after this import
    (None when the skills sheet's team_size cell is bad)."""
    if "skill_sizes" not in ctx.state:
        ctx.state["skill_sizes"] = (
            dict(ctx.event.skills.values_list("code", "team_size")) if ctx.event.pk else {}
        )
    return ctx.state["skill_sizes"]


def _listed_entry_keys(ctx: ImportContext) -> set[tuple[str, str]]:
    """(skill_code, competitor_no) of the entries sheet, read raw: the skills
    sheet needs them before the entries sheet is checked."""
    sheet = ctx.sheets.get("entries")
    if sheet is None:
        return set()
    return {
        (cell_text(r.values.get("skill_code")), cell_text(r.values.get("competitor_no")))
        for r in sheet.rows
    }


def import_skills(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """Unique by (event, code): create or update the event's skills."""
    sizes = skill_sizes(ctx)
    existing = {s.code: s for s in ctx.event.skills.all()} if ctx.event.pk else {}
    good: list[tuple[SheetRow, dict]] = []
    seen: dict[str, int] = {}
    for row, data, ok in cleaned_rows(sheet, ctx):
        code = data.get("code")
        if code:
            ok = check_duplicate(ctx, sheet, row, seen, code, "code", code) and ok
            # None: the size is unreadable, so entries cannot be counted against it.
            sizes[code] = data.get("team_size")
        old = existing.get(code or "")
        if old is not None and data.get("team_size") and data["team_size"] != old.team_size:
            # Entries not re-listed in this file would keep the old number of members.
            listed = _listed_entry_keys(ctx)
            stale = [
                e.competitor_no
                for e in old.entries.annotate(n=Count("members")).exclude(n=data["team_size"])
                if (code, e.competitor_no) not in listed
            ]
            if stale:
                ctx.error(
                    sheet,
                    row,
                    "team_size",
                    _(
                        "Skill %(code)s already has entries of another size (%(numbers)s); "
                        "list them in the entries sheet with %(size)s members each."
                    ),
                    code=code,
                    numbers=", ".join(stale[:10]),
                    size=data["team_size"],
                )
                ok = False
        if ok:
            good.append((row, data))
    if not ctx.writable:
        return
    for _row, data in good:
        values = {
            k: data[k] for k in ("name", "team_size", "award_policy", "judgement_aggregation")
        }
        obj = existing.get(data["code"])
        if obj is None:
            Skill.objects.create(event=ctx.event, code=data["code"], **values)
            ctx.count(sheet, CREATED)
        else:
            ctx.count(sheet, UPDATED if update_changed(obj, values) else UNCHANGED)
