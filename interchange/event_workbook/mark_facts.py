"""What the ``marks`` sheet's rows are checked against: the event as it will
be once the earlier sheets of the file are written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from competitions.resources import cell_text
from scoring import panels, schemes
from scoring.models import Aspect, AspectKind, Mark, SkillMarking
from teams.models import Entry, Judge, JudgeAssignment
from teams.resources import JudgeAssignmentResource

from .aspects import scheme_aspects
from .context import ImportContext
from .skills import skill_sizes


class EventFacts:
    """The event as it will be once the earlier sheets are written: what the
    ``marks`` sheet's rows are checked against."""

    def __init__(self, ctx: ImportContext, judge_codes: set[str]) -> None:
        event = ctx.event
        self.skills = skill_sizes(ctx)
        self.file_aspects = scheme_aspects(ctx)
        self.skill_ids: dict[str, int] = (
            dict(event.skills.values_list("code", "pk")) if event.pk else {}
        )
        self.db_aspects = _stored_aspects(ctx)
        self.entries = _entries(ctx)
        self.judges, self.roles = _judges_and_roles(ctx, judge_codes)
        self.signed_off: set[str] = set(
            SkillMarking.objects.filter(
                skill__event=event, status=SkillMarking.Status.SIGNED_OFF
            ).values_list("skill__code", flat=True)
            if event.pk
            else []
        )
        self._panels: dict[str, panels.Panel[str]] = {}
        self._scheme_problems: dict[str, list[str]] = {}
        self._stored: dict[str, dict[tuple, Decimal]] = {}
        self.stand_ins: dict[tuple[str, str], Aspect] = {}

    def aspects_of(self, skill: str) -> dict[str, tuple[str, Decimal | None]]:
        if skill in self.file_aspects:
            return self.file_aspects[skill]
        return self.db_aspects.get(skill, {})

    def panel(self, skill: str) -> panels.Panel:
        """The skill's panel by codes (judge code → delegation code), so
        ``Panel.check`` applies the service's rules, in its order, to judges
        and entries that may not exist yet. Marking groups live in the portal
        only; the mark service checks them when writing."""
        found = self._panels.get(skill)
        if found is None:
            assigned = {j: role for (s, j), role in self.roles.items() if s == skill}
            found = self._panels[skill] = panels.Panel(
                skill_id=0,
                judges={j: self.judges.get(j, "") for j in assigned},
                chiefs=frozenset(
                    j for j, role in assigned.items() if role == JudgeAssignment.Role.CHIEF
                ),
            )
        return found

    def scheme_problems(self, skill: str) -> list[str]:
        """Problems of a stored scheme the aspects sheet does not replace."""
        if skill in self.file_aspects or skill not in self.skill_ids:
            return []  # the aspects sheet reports its own problems
        if skill not in self._scheme_problems:
            self._scheme_problems[skill] = schemes.scheme_problems(self.skill_ids[skill])
        return self._scheme_problems[skill]

    def stored_marks(self, skill: str) -> dict[tuple, Decimal]:
        """(number, aspect, judge or None) → value of a skill's stored marks."""
        if skill not in self._stored:
            self._stored[skill] = {
                (number, aspect, judge if kind == AspectKind.JUDGEMENT else None): value
                for number, aspect, judge, kind, value in Mark.objects.filter(
                    skill_id=self.skill_ids[skill]
                ).values_list(
                    "entry__competitor_no", "aspect__code", "judge__code", "kind", "value"
                )
            }
        return self._stored[skill]

    def stand_in(self, skill: str, code: str, kind: str, max_mark: Decimal) -> Aspect:
        """An unsaved Aspect for ``services.parse_value`` (the aspect may not exist yet)."""
        key = (skill, code)
        if key not in self.stand_ins:
            self.stand_ins[key] = Aspect(code=code, kind=kind, max_mark=max_mark)
        return self.stand_ins[key]


def sheet_values(ctx: ImportContext, name: str) -> Iterable[dict[str, Any]]:
    sheet = ctx.sheets.get(name)
    return (r.values for r in sheet.rows) if sheet is not None else ()


def _stored_aspects(ctx: ImportContext) -> dict[str, dict[str, tuple[str, Decimal | None]]]:
    """Skill code → aspect code → (kind, max mark) of the portal's aspects
    (for the skills the aspects sheet does not list)."""
    found: dict[str, dict[str, tuple[str, Decimal | None]]] = defaultdict(dict)
    if ctx.event.pk:
        for skill, code, kind, max_mark in Aspect.objects.filter(
            skill__event=ctx.event
        ).values_list("skill__code", "code", "kind", "max_mark"):
            found[skill][code] = (kind, max_mark)
    return found


def _entries(ctx: ImportContext) -> dict[tuple[str, str], list[str]]:
    """(skill, number) → [delegation code, status]: the portal's entries,
    with the entries sheet's on top."""
    entries: dict[tuple[str, str], list[str]] = {}
    if ctx.event.pk:
        for skill, number, delegation, status in Entry.objects.filter(
            skill__event=ctx.event
        ).values_list("skill__code", "competitor_no", "delegation__code", "status"):
            entries[(skill, number)] = [delegation, status]
    for values in sheet_values(ctx, "entries"):
        key = (cell_text(values.get("skill_code")), cell_text(values.get("competitor_no")))
        delegation = cell_text(values.get("delegation_code"))
        if key in entries:
            entries[key][0] = delegation or entries[key][0]
        else:
            entries[key] = [delegation, Entry.Status.REGISTERED]
    return entries


def _judges_and_roles(
    ctx: ImportContext, judge_codes: set[str]
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Judge code → delegation code, and (skill, judge) → role: the portal's,
    with the judges sheet's on top."""
    judges: dict[str, str] = dict(
        Judge.objects.filter(code__in=judge_codes).values_list("code", "delegation__code")
    )
    roles: dict[tuple[str, str], str] = {}
    if ctx.event.pk:
        for skill, judge, role in JudgeAssignment.objects.filter(
            skill__event=ctx.event
        ).values_list("skill__code", "judge__code", "role"):
            roles[(skill, judge)] = role
    role_widget = JudgeAssignmentResource().column_fields()["role"].widget
    for values in sheet_values(ctx, "judges"):
        code = cell_text(values.get("code"))
        if values.get("delegation_code") is not None:
            judges[code] = cell_text(values.get("delegation_code"))
        try:
            role = role_widget.clean(values.get("role"))
        except ValidationError:  # the judges sheet reports its bad cells itself
            role = ""
        roles[(cell_text(values.get("skill_code")), code)] = role or JudgeAssignment.Role.JUDGE
    return judges, roles
