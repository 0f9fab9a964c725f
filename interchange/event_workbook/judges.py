"""The ``judges`` sheet: one row per (judge, skill); one chief per skill."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from teams.models import Delegation, Judge, JudgeAssignment

from .context import (
    ImportContext,
    ParsedSheet,
    SheetRow,
    check_duplicate,
    cleaned_rows,
    update_changed,
)
from .delegations import delegation_exists
from .report import CREATED, UNCHANGED, UNKNOWN_DELEGATION, UNKNOWN_SKILL, UPDATED
from .skills import skill_sizes

# --------------------------------------------------------------------------- judges


def import_judges(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per (judge, skill); judge codes are global; one chief per skill."""
    sizes = skill_sizes(ctx)
    good: list[tuple[SheetRow, dict]] = []
    first_of_judge: dict[str, tuple[SheetRow, dict]] = {}
    seen_pairs: dict[tuple[str, str], int] = {}
    chief_rows: dict[str, tuple[SheetRow, dict]] = {}
    for row, data, ok in cleaned_rows(sheet, ctx):
        code, skill_code = data.get("code"), data.get("skill_code")
        if skill_code and skill_code not in sizes:
            ctx.error(
                sheet,
                row,
                "skill_code",
                UNKNOWN_SKILL,
                code=skill_code,
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
        if code and code in first_of_judge:
            first_row, first = first_of_judge[code]
            for column in ("name", "delegation_code"):
                if data.get(column) and first.get(column) and data[column] != first[column]:
                    ctx.error(
                        sheet,
                        row,
                        column,
                        _("Judge %(code)s has %(value)s here but %(other)s in row %(first)s."),
                        code=code,
                        value=data[column],
                        other=first[column],
                        first=first_row.number,
                    )
                    ok = False
        elif code:
            first_of_judge[code] = (row, data)
        if code and skill_code:
            label = f"{code} / {skill_code}"
            ok = (
                check_duplicate(ctx, sheet, row, seen_pairs, (code, skill_code), "code", label)
                and ok
            )
        if skill_code and data.get("role") == JudgeAssignment.Role.CHIEF:
            if skill_code in chief_rows:
                other_row, other = chief_rows[skill_code]
                ctx.error(
                    sheet,
                    row,
                    "role",
                    _(
                        "Skill %(skill)s already has chief judge %(judge)s (row %(first)s); "
                        "a skill has one chief judge."
                    ),
                    skill=skill_code,
                    judge=other["code"],
                    first=other_row.number,
                )
                ok = False
            else:
                chief_rows[skill_code] = (row, data)
        if ok:
            good.append((row, data))

    # A chief already in the portal who is not re-listed for that skill stays chief.
    if ctx.event.pk and chief_rows:
        for a in JudgeAssignment.objects.filter(
            skill__event=ctx.event,
            skill__code__in=chief_rows,
            role=JudgeAssignment.Role.CHIEF,
        ).select_related("judge", "skill"):
            if (a.judge.code, a.skill.code) in seen_pairs:
                continue
            row, data = chief_rows[a.skill.code]
            ctx.error(
                sheet,
                row,
                "role",
                _(
                    "Skill %(skill)s already has chief judge %(judge)s in the portal; "
                    "list that judge in this sheet with role judge to hand over."
                ),
                skill=a.skill.code,
                judge=a.judge.code,
            )

    if ctx.writable:
        _write_judges(ctx, sheet, good)


def _write_judges(
    ctx: ImportContext, sheet: ParsedSheet, good: list[tuple[SheetRow, dict]]
) -> None:
    skills = {s.code: s for s in ctx.event.skills.all()}
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(code__in={d["delegation_code"] for _r, d in good})
    }
    judges = {j.code: j for j in Judge.objects.filter(code__in={d["code"] for _r, d in good})}
    assignments = {
        (a.judge.code, a.skill.code): a
        for a in JudgeAssignment.objects.filter(skill__event=ctx.event).select_related(
            "judge", "skill"
        )
    }
    judge_updated: set[str] = set()
    for _row, d in good:
        delegation = delegations[d["delegation_code"]]
        judge = judges.get(d["code"])
        if judge is None:
            judges[d["code"]] = Judge.objects.create(
                code=d["code"], name=d["name"], delegation=delegation
            )
        elif update_changed(judge, {"name": d["name"], "delegation_id": delegation.pk}):
            judge_updated.add(d["code"])
    outcomes: dict[int, str] = {}
    # Demotions before promotions, so handing the chief role over never
    # holds two chiefs for a moment (the database forbids it).
    ordered = sorted(good, key=lambda rd: rd[1]["role"] == JudgeAssignment.Role.CHIEF)
    for row, d in ordered:
        assignment = assignments.get((d["code"], d["skill_code"]))
        if assignment is None:
            JudgeAssignment.objects.create(
                judge=judges[d["code"]], skill=skills[d["skill_code"]], role=d["role"]
            )
            outcomes[row.number] = CREATED
        elif update_changed(assignment, {"role": d["role"]}) or d["code"] in judge_updated:
            outcomes[row.number] = UPDATED
        else:
            outcomes[row.number] = UNCHANGED
    for row, _d in good:
        ctx.count(sheet, outcomes[row.number])
