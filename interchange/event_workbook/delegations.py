"""The ``delegations`` sheet: global by code."""

from __future__ import annotations

from teams.models import Delegation

from .context import (
    ImportContext,
    ParsedSheet,
    SheetRow,
    check_duplicate,
    cleaned_rows,
    update_changed,
)
from .report import CREATED, UNCHANGED, UPDATED


def known_delegation_codes(ctx: ImportContext) -> set[str]:
    return ctx.state.setdefault("delegation_codes", set())


def delegation_exists(ctx: ImportContext, code: str) -> bool:
    if code in known_delegation_codes(ctx):
        return True
    cache: dict[str, bool] = ctx.state.setdefault("delegation_in_db", {})
    if code not in cache:
        cache[code] = Delegation.objects.filter(code=code).exists()
    return cache[code]


def import_delegations(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """Global by code: create new codes, rename existing ones."""
    good: list[tuple[SheetRow, dict]] = []
    seen: dict[str, int] = {}
    for row, data, ok in cleaned_rows(sheet, ctx):
        code = data.get("code")
        if code:
            known_delegation_codes(ctx).add(code)
            ok = check_duplicate(ctx, sheet, row, seen, code, "code", code) and ok
        if ok:
            good.append((row, data))
    if not ctx.writable:
        return
    existing = {
        d.code: d for d in Delegation.objects.filter(code__in=[d["code"] for _r, d in good])
    }
    for _row, data in good:
        obj = existing.get(data["code"])
        if obj is None:
            Delegation.objects.create(code=data["code"], name=data["name"])
            ctx.count(sheet, CREATED)
        else:
            ctx.count(sheet, UPDATED if update_changed(obj, {"name": data["name"]}) else UNCHANGED)
