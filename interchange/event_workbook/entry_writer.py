"""Writing the ``entries`` sheet once every row is checked: athletes, then
entries and their members, then the rules every entry obeys."""

from __future__ import annotations

from competitions.models import Skill
from teams.models import Athlete, Delegation, Entry, EntryMember
from teams.services import entry_rule_errors

from .athletes import EntryRow, matched
from .context import ImportContext, ParsedSheet, update_changed
from .report import CREATED, UNCHANGED, UPDATED

Groups = dict[tuple[str, str], list[EntryRow]]  # (skill, number) → the entry's rows


def write_entries(ctx: ImportContext, sheet: ParsedSheet, groups: Groups) -> None:
    """Write the checked entries; count one outcome per row."""
    skills = {s.code: s for s in ctx.event.skills.all()}
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(
            code__in={m.data["delegation_code"] for ms in groups.values() for m in ms}
        )
    }
    outcomes: dict[int, str] = {}  # Excel row → outcome
    _write_athletes(groups, delegations, outcomes)
    entries = _write_entries_and_members(ctx, groups, skills, delegations, outcomes)
    # The rules every entry obeys, whoever writes it; quotas are the leads'
    # limit, not the organisers' (docs/integrity.md).
    for key, members in groups.items():
        for problem in entry_rule_errors(
            skills[key[0]],
            delegations[members[0].data["delegation_code"]],
            [matched(m) for m in members],
            entry=entries[key],
            enforce_quota=False,
        ):
            ctx.validation_error(sheet, members[0].row, "competitor_no", problem)
    for members in groups.values():
        for m in members:
            ctx.count(sheet, outcomes.get(m.row.number, UNCHANGED))


def _write_athletes(
    groups: Groups, delegations: dict[str, Delegation], outcomes: dict[int, str]
) -> None:
    """Create the new athletes, bring the matched ones up to date."""
    for members in groups.values():
        for m in members:
            d = m.data
            wanted = {"name": d["name"]}
            for key in ("gender", "birth_date", "id_number"):
                if d.get(key):
                    wanted[key] = d[key]
            if m.athlete is None:
                m.athlete = Athlete.objects.create(
                    delegation=delegations[d["delegation_code"]], **wanted
                )
                outcomes[m.row.number] = CREATED
            elif update_changed(m.athlete, wanted):
                outcomes[m.row.number] = UPDATED


def _write_entries_and_members(
    ctx: ImportContext,
    groups: Groups,
    skills: dict[str, Skill],
    delegations: dict[str, Delegation],
    outcomes: dict[int, str],
) -> dict[tuple[str, str], Entry]:
    """Entries, and members leaving them: all removals before any addition,
    so an athlete moving between two listed entries never sits in both."""
    existing = {
        (e.skill.code, e.competitor_no): e
        for e in Entry.objects.filter(skill__event=ctx.event)
        .select_related("skill")
        .prefetch_related("members")
    }
    entries: dict[tuple[str, str], Entry] = {}
    to_add: list[tuple[Entry, EntryRow]] = []
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
        wanted_ids = {matched(m).pk for m in members}
        leaving = [em.pk for aid, em in current.items() if aid not in wanted_ids]
        if leaving:
            EntryMember.objects.filter(pk__in=leaving).delete()
            entry_changed = True
        for m in members:
            if matched(m).pk not in current:
                to_add.append((entry, m))
                outcomes[m.row.number] = CREATED
            elif entry_changed:
                outcomes.setdefault(m.row.number, UPDATED)
    for entry, m in to_add:
        EntryMember.objects.create(entry=entry, athlete=matched(m), event=ctx.event)
    return entries
