"""The ``entries`` sheet: one row per athlete; rows sharing a competitor
number form one entry. Quotas are enforced where the organisers set one,
with the lead pages' rule (``teams.services.quota_problem``).
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from competitions.resources import cell_text
from teams import services as team_services
from teams.models import Entry, EntryMember, Quota

from .athletes import EntryRow, athlete_identity, check_id_matches, match_athletes
from .context import ImportContext, ParsedSheet, cleaned_rows
from .entry_writer import write_entries
from .references import codes_known
from .skills import skill_sizes


def import_entries(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per athlete; rows sharing (skill_code, competitor_no) form one
    entry. Every check first, in the order of its errors; then the writes."""
    sizes = skill_sizes(ctx)
    items, incomplete = _checked_rows(ctx, sheet)
    groups: dict[tuple[str, str], list[EntryRow]] = defaultdict(list)
    for item in items:
        groups[(item.data["skill_code"], item.data["competitor_no"])].append(item)
    _check_team_sizes(ctx, sheet, groups, sizes, incomplete)
    _check_one_delegation(ctx, sheet, groups)
    match_athletes(ctx, sheet, items)
    _check_listed_once(ctx, sheet, items)
    _check_not_in_other_entries(ctx, sheet, items, groups)
    _check_quotas(ctx, sheet, groups)
    if ctx.writable:
        write_entries(ctx, sheet, groups)


def _checked_rows(
    ctx: ImportContext, sheet: ParsedSheet
) -> tuple[list[EntryRow], set[tuple[str, str]]]:
    """The good rows, and the (skill, number) of entries with a bad row."""
    items: list[EntryRow] = []
    incomplete: set[tuple[str, str]] = set()
    for row, data, ok in cleaned_rows(sheet, ctx):
        ok = codes_known(ctx, sheet, row, data) and ok
        item = EntryRow(row, data)
        if ok:
            ok = check_id_matches(ctx, sheet, item)
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
    return items, incomplete


def _check_team_sizes(
    ctx: ImportContext,
    sheet: ParsedSheet,
    groups: dict[tuple[str, str], list[EntryRow]],
    sizes: dict[str, int | None],
    incomplete: set[tuple[str, str]],
) -> None:
    """Each entry has as many rows as its skill's team size."""
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


def _check_one_delegation(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[EntryRow]]
) -> None:
    """The members of an entry are of one delegation."""
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


def _check_listed_once(ctx: ImportContext, sheet: ParsedSheet, items: list[EntryRow]) -> None:
    """An athlete once per event, within the file."""
    seen: dict[tuple, int] = {}
    for item in items:
        key = athlete_identity(item)
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


def _check_not_in_other_entries(
    ctx: ImportContext,
    sheet: ParsedSheet,
    items: list[EntryRow],
    groups: dict[tuple[str, str], list[EntryRow]],
) -> None:
    """An athlete once per event, against the entries the file does not list."""
    if not ctx.event.pk:
        return
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


def _check_quotas(
    ctx: ImportContext, sheet: ParsedSheet, groups: dict[tuple[str, str], list[EntryRow]]
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
    counts: dict[tuple[str, str], list[EntryRow | None]] = defaultdict(list)
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
