"""Which athlete a row of the ``entries`` sheet is: matched by ID number,
else by delegation, name and birth date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from teams import idnumbers
from teams.models import Athlete

from .context import ImportContext, ParsedSheet, SheetRow


@dataclass
class EntryRow:
    row: SheetRow
    data: dict[str, Any]
    athlete: Athlete | None = None  # matched existing athlete


def matched(item: EntryRow) -> Athlete:
    """The row's athlete, once the athletes sheet has been written."""
    assert item.athlete is not None, "entries are written after their athletes"
    return item.athlete


def athlete_identity(item: EntryRow) -> tuple:
    if item.athlete is not None:
        return ("pk", item.athlete.pk)
    d = item.data
    if d.get("id_number"):
        return ("id", d["id_number"])
    return ("name", d["delegation_code"], d["name"], d.get("birth_date"))


def check_id_matches(ctx: ImportContext, sheet: ParsedSheet, item: EntryRow) -> bool:
    d = item.data
    if not d.get("id_number"):
        return True
    try:
        idnumbers.validate_matches(d["id_number"], d.get("birth_date"), d.get("gender") or None)
    except ValidationError as exc:
        ctx.validation_error(sheet, item.row, "id_number", exc)
        return False
    # Blank birth date or gender: the ID number says what they are.
    d["birth_date"] = d.get("birth_date") or idnumbers.birth_date_of(d["id_number"])
    d["gender"] = d.get("gender") or idnumbers.gender_of(d["id_number"])
    return True


def match_athletes(ctx: ImportContext, sheet: ParsedSheet, items: list[EntryRow]) -> None:
    """Find each row's existing athlete: by ID number when given, else by
    (delegation, name, birth date). Ambiguity and foreign IDs are errors."""
    ids = [i.data["id_number"] for i in items if i.data.get("id_number")]
    by_id = {
        a.id_number: a
        for a in Athlete.objects.filter(id_number__in=ids).select_related("delegation")
    }
    by_name: dict[tuple, list[Athlete]] = defaultdict(list)
    for a in Athlete.objects.filter(
        delegation__code__in={i.data["delegation_code"] for i in items},
        name__in={i.data["name"] for i in items},
    ).select_related("delegation"):
        by_name[(a.delegation.code, a.name, a.birth_date)].append(a)
    for item in items:
        d = item.data
        if d.get("id_number") and d["id_number"] in by_id:
            athlete = by_id[d["id_number"]]
            if athlete.delegation.code != d["delegation_code"]:
                ctx.error(
                    sheet,
                    item.row,
                    "id_number",
                    _(
                        "This ID number belongs to %(name)s of delegation %(code)s; "
                        "an athlete cannot change delegation by import."
                    ),
                    name=athlete.name,
                    code=athlete.delegation.code,
                )
                continue
            item.athlete = athlete
            continue
        candidates = by_name.get((d["delegation_code"], d["name"], d.get("birth_date")), [])
        if d.get("id_number"):
            # A known athlete registered without an ID number gets it now.
            candidates = [a for a in candidates if not a.id_number]
        if len(candidates) == 1:
            item.athlete = candidates[0]
        elif len(candidates) > 1:
            ctx.error(
                sheet,
                item.row,
                "name",
                _(
                    "Several athletes of delegation %(code)s are called %(name)s with this "
                    "birth date; add their id_number to tell them apart."
                ),
                code=d["delegation_code"],
                name=d["name"],
            )
