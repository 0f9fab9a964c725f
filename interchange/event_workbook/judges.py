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
from .references import codes_known
from .report import CREATED, UNCHANGED, UPDATED


def import_judges(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One row per (judge, skill); judge codes are global; one chief per skill."""
    checks = _JudgeChecks(ctx, sheet)
    good: list[tuple[SheetRow, dict]] = []
    for row, data, ok in cleaned_rows(sheet, ctx):
        ok = codes_known(ctx, sheet, row, data) and ok
        ok = checks.same_judge(row, data) and ok
        ok = checks.pair_once(row, data) and ok
        ok = checks.one_chief(row, data) and ok
        if ok:
            good.append((row, data))
    checks.chiefs_in_portal()
    if ctx.writable:
        _write_judges(ctx, sheet, good)


class _JudgeChecks:
    """The rules across the rows of the judges sheet; each check reports its
    problems and says whether the row passed."""

    def __init__(self, ctx: ImportContext, sheet: ParsedSheet) -> None:
        self.ctx = ctx
        self.sheet = sheet
        self.first_of_judge: dict[str, tuple[SheetRow, dict]] = {}
        self.seen_pairs: dict[tuple[str, str], int] = {}
        self.chief_rows: dict[str, tuple[SheetRow, dict]] = {}

    def same_judge(self, row: SheetRow, data: dict) -> bool:
        """A judge listed again has the same name and delegation."""
        code = data.get("code")
        if not code:
            return True
        if code not in self.first_of_judge:
            self.first_of_judge[code] = (row, data)
            return True
        ok = True
        first_row, first = self.first_of_judge[code]
        for column in ("name", "delegation_code"):
            if data.get(column) and first.get(column) and data[column] != first[column]:
                self.ctx.error(
                    self.sheet,
                    row,
                    column,
                    _("Judge %(code)s has %(value)s here but %(other)s in row %(first)s."),
                    code=code,
                    value=data[column],
                    other=first[column],
                    first=first_row.number,
                )
                ok = False
        return ok

    def pair_once(self, row: SheetRow, data: dict) -> bool:
        """A (judge, skill) pair is listed once."""
        code, skill_code = data.get("code"), data.get("skill_code")
        if not (code and skill_code):
            return True
        label = f"{code} / {skill_code}"
        key = (code, skill_code)
        return check_duplicate(self.ctx, self.sheet, row, self.seen_pairs, key, "code", label)

    def one_chief(self, row: SheetRow, data: dict) -> bool:
        """A skill has one chief judge in the sheet."""
        skill_code = data.get("skill_code")
        if not skill_code or data.get("role") != JudgeAssignment.Role.CHIEF:
            return True
        if skill_code not in self.chief_rows:
            self.chief_rows[skill_code] = (row, data)
            return True
        other_row, other = self.chief_rows[skill_code]
        self.ctx.error(
            self.sheet,
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
        return False

    def chiefs_in_portal(self) -> None:
        """A chief already in the portal who is not re-listed for that skill stays chief."""
        if not self.ctx.event.pk or not self.chief_rows:
            return
        for a in JudgeAssignment.objects.filter(
            skill__event=self.ctx.event,
            skill__code__in=self.chief_rows,
            role=JudgeAssignment.Role.CHIEF,
        ).select_related("judge", "skill"):
            if (a.judge.code, a.skill.code) in self.seen_pairs:
                continue
            row, _data = self.chief_rows[a.skill.code]
            self.ctx.error(
                self.sheet,
                row,
                "role",
                _(
                    "Skill %(skill)s already has chief judge %(judge)s in the portal; "
                    "list that judge in this sheet with role judge to hand over."
                ),
                skill=a.skill.code,
                judge=a.judge.code,
            )


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
