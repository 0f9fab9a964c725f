"""The ``entries`` sheet: one row per athlete; rows sharing a competitor
number form one entry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from competitions.resources import cell_text
from teams import idnumbers
from teams import services as team_services
from teams.models import Athlete, Delegation, Entry, EntryMember, Quota
from teams.services import entry_rule_errors

from .context import ImportContext, ParsedSheet, SheetRow, cleaned_rows, update_changed
from .delegations import delegation_exists
from .report import CREATED, UNCHANGED, UNKNOWN_DELEGATION, UNKNOWN_SKILL, UPDATED
from .skills import skill_sizes

# --------------------------------------------------------------------------- entries


@dataclass
class _EntryRow:
    row: SheetRow
    data: dict[str, Any]
    athlete: Athlete | None = None  # matched existing athlete


def _matched(item: _EntryRow) -> Athlete:
    """The row's athlete, once the athletes sheet has been written."""
    assert item.athlete is not None, "entries are written after their athletes"
    return item.athlete


def _athlete_identity(item: _EntryRow) -> tuple:
    if item.athlete is not None:
        return ("pk", item.athlete.pk)
    d = item.data
    if d.get("id_number"):
        return ("id", d["id_number"])
    return ("name", d["delegation_code"], d["name"], d.get("birth_date"))


def _check_id_matches(ctx: ImportContext, sheet: ParsedSheet, item: _EntryRow) -> bool:
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


def _match_athletes(ctx: ImportContext, sheet: ParsedSheet, items: list[_EntryRow]) -> None:
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


def import_entries(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per athlete; rows sharing (skill_code, competitor_no) form one entry."""
    sizes = skill_sizes(ctx)
    items: list[_EntryRow] = []
    incomplete: set[tuple[str, str]] = set()
    for row, data, ok in cleaned_rows(sheet, ctx):
        if data.get("skill_code") and data["skill_code"] not in sizes:
            ctx.error(
                sheet,
                row,
                "skill_code",
                UNKNOWN_SKILL,
                code=data["skill_code"],
            )
            ok = False
        if data.get("delegation_code") and not delegation_exists(ctx, data["delegation_code"]):
            ctx.error(
                sheet,
                row,
                "delegation_code",
                UNKNOWN_DELEGATION,
                code=data["delegation_code"],
            )
            ok = False
        item = _EntryRow(row, data)
        if ok:
            ok = _check_id_matches(ctx, sheet, item)
        if ok:
            items.append(item)
        else:
            # Its entry cannot be counted against the team size: a row is missing.
            incomplete.add(
                (
                    cell_text(row.values.get("skill_code")),
                    cell_text(row.values.get("competitor_no")),
                )
            )

    # Group rows into entries; check team size and one delegation per entry.
    groups: dict[tuple[str, str], list[_EntryRow]] = defaultdict(list)
    for item in items:
        groups[(item.data["skill_code"], item.data["competitor_no"])].append(item)
    for (skill_code, number), members in groups.items():
        size = sizes[skill_code]
        if size is not None and len(members) != size and (skill_code, number) not in incomplete:
            ctx.error(
                sheet,
                members[0].row,
                "competitor_no",
                _(
                    "Competitor number %(number)s of skill %(skill)s has %(count)s rows "
                    "(rows %(rows)s) but the skill's team size is %(size)s."
                ),
                number=number,
                skill=skill_code,
                count=len(members),
                rows=", ".join(str(m.row.number) for m in members),
                size=size,
            )
    for (_skill, number), members in groups.items():
        first = members[0]
        for m in members[1:]:
            if m.data["delegation_code"] != first.data["delegation_code"]:
                ctx.error(
                    sheet,
                    m.row,
                    "delegation_code",
                    _(
                        "All members of entry %(number)s must have the same delegation_code "
                        "(row %(first)s has %(code)s)."
                    ),
                    number=number,
                    first=first.row.number,
                    code=first.data["delegation_code"],
                )

    _match_athletes(ctx, sheet, items)

    # An athlete once per event: within the file, and against entries not in the file.
    seen: dict[tuple, int] = {}
    for item in items:
        key = _athlete_identity(item)
        if key in seen:
            ctx.error(
                sheet,
                item.row,
                "id_number" if key[0] == "id" else "name",
                _(
                    "%(name)s is already listed in row %(first)s; an athlete can be in "
                    "only one entry of an event."
                ),
                name=item.data["name"],
                first=seen[key],
            )
        else:
            seen[key] = item.row.number
    if ctx.event.pk:
        matched = {i.athlete.pk: i for i in items if i.athlete is not None}
        for member in EntryMember.objects.filter(
            event=ctx.event, athlete_id__in=matched
        ).select_related("entry__skill"):
            entry_key = (member.entry.skill.code, member.entry.competitor_no)
            if entry_key not in groups:
                item = matched[member.athlete_id]
                ctx.error(
                    sheet,
                    item.row,
                    "name",
                    _(
                        "%(name)s is already in entry %(skill)s #%(number)s of this event; "
                        "an athlete can be in only one entry of an event."
                    ),
                    name=item.data["name"],
                    skill=entry_key[0],
                    number=entry_key[1],
                )

    _check_quotas(ctx, sheet, groups)
    if ctx.writable:
        _write_entries(ctx, sheet, groups)


def _check_quotas(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[_EntryRow]]
) -> None:
    """Entries per delegation and skill, as they will be after this import,
    within the quota where the organisers set one (``teams.services.quota_problem``,
    the lead pages' rule). A skill or delegation without a quota row is not
    limited: the workbook sets events up, quotas come later or not at all."""
    if not ctx.event.pk or not groups:
        return
    quotas = {
        (skill, delegation): limit
        for skill, delegation, limit in Quota.objects.filter(skill__event=ctx.event).values_list(
            "skill__code", "delegation__code", "max_entries"
        )
    }
    if not quotas:
        return
    counts: dict[tuple[str, str], list[_EntryRow | None]] = defaultdict(list)
    for (skill, _number), members in groups.items():
        counts[(skill, members[0].data["delegation_code"])].append(members[0])
    # Entries in the portal that this file does not list keep their places.
    for skill, number, delegation in Entry.objects.filter(skill__event=ctx.event).values_list(
        "skill__code", "competitor_no", "delegation__code"
    ):
        if (skill, number) not in groups and (skill, delegation) in counts:
            counts[(skill, delegation)].append(None)
    for (skill, delegation), firsts in counts.items():
        quota = quotas.get((skill, delegation))
        if quota is None or team_services.quota_problem(quota, len(firsts)) is None:
            continue
        listed = [m for m in firsts if m is not None]
        over = listed[-1] if listed else None
        ctx.error(
            sheet,
            over.row if over else None,
            "delegation_code",
            _(
                "Delegation %(delegation)s would have %(count)s entries in skill %(skill)s; "
                "its quota is %(quota)s (rows %(rows)s)."
            ),
            delegation=delegation,
            count=len(firsts),
            skill=skill,
            quota=quota,
            rows=", ".join(str(m.row.number) for m in listed[:10]),
        )


def _write_entries(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[_EntryRow]]
) -> None:
    skills = {s.code: s for s in ctx.event.skills.all()}
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(
            code__in={m.data["delegation_code"] for ms in groups.values() for m in ms}
        )
    }
    existing = {
        (e.skill.code, e.competitor_no): e
        for e in Entry.objects.filter(skill__event=ctx.event)
        .select_related("skill")
        .prefetch_related("members")
    }
    outcomes: dict[int, str] = {}  # Excel row → outcome

    # 1. athletes
    for members in groups.values():
        for m in members:
            d = m.data
            wanted = {"name": d["name"]}
            if d.get("gender"):
                wanted["gender"] = d["gender"]
            if d.get("birth_date"):
                wanted["birth_date"] = d["birth_date"]
            if d.get("id_number"):
                wanted["id_number"] = d["id_number"]
            if m.athlete is None:
                m.athlete = Athlete.objects.create(
                    delegation=delegations[d["delegation_code"]], **wanted
                )
                outcomes[m.row.number] = CREATED
            elif update_changed(m.athlete, wanted):
                outcomes[m.row.number] = UPDATED

    # 2. entries, and members leaving them (all removals before any addition,
    #    so an athlete moving between two listed entries never sits in both).
    entries: dict[tuple[str, str], Entry] = {}
    to_add: list[tuple[Entry, _EntryRow]] = []
    for key, members in groups.items():
        delegation = delegations[members[0].data["delegation_code"]]
        entry = existing.get(key)
        entry_changed = False
        if entry is None:
            entry = Entry.objects.create(
                skill=skills[key[0]], delegation=delegation, competitor_no=key[1]
            )
        else:
            entry_changed = update_changed(entry, {"delegation_id": delegation.pk})
        entries[key] = entry
        current = {em.athlete_id: em for em in entry.members.all()} if key in existing else {}
        wanted_ids = {_matched(m).pk for m in members}
        leaving = [em.pk for aid, em in current.items() if aid not in wanted_ids]
        if leaving:
            EntryMember.objects.filter(pk__in=leaving).delete()
            entry_changed = True
        for m in members:
            if _matched(m).pk not in current:
                to_add.append((entry, m))
                outcomes[m.row.number] = CREATED
            elif entry_changed:
                outcomes.setdefault(m.row.number, UPDATED)
    for entry, m in to_add:
        EntryMember.objects.create(entry=entry, athlete=_matched(m), event=ctx.event)
    # The rules every entry obeys, whoever writes it; quotas are the leads'
    # limit, not the organisers' (see the module docstring).
    for key, members in groups.items():
        for problem in entry_rule_errors(
            skills[key[0]],
            delegations[members[0].data["delegation_code"]],
            [_matched(m) for m in members],
            entry=entries[key],
            enforce_quota=False,
        ):
            ctx.validation_error(sheet, members[0].row, "competitor_no", problem)

    for members in groups.values():
        for m in members:
            ctx.count(sheet, outcomes.get(m.row.number, UNCHANGED))
