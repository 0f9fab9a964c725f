"""The ``marks`` sheet: one mark per row, through the mark service."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from competitions.models import Event
from competitions.resources import cell_text
from interchange.cis.messages import BAD_SCORE, NOT_A_NUMBER
from scoring import panels, schemes, services
from scoring.models import Aspect, AspectKind, Mark, SkillMarking
from teams.models import Entry, Judge, JudgeAssignment
from teams.resources import JudgeAssignmentResource

from .aspects import scheme_aspects
from .context import ImportContext, ParsedSheet, SheetRow
from .grouped import GroupedProblems
from .report import CREATED, UNCHANGED, UPDATED
from .resources import MarkRowResource
from .skills import skill_sizes

IMPORT_REASON = "event workbook import"  # stored in the ledger as is (it is hashed)
IMPORT_SOURCE = "import"

# --------------------------------------------------------------------------- messages

UNKNOWN_ASPECT = _(
    "Unknown aspect code %(code)s for skill %(skill)s: not in the aspects sheet nor in the "
    "portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_ENTRY = _(
    "Unknown competitor number %(number)s in skill %(skill)s: not in the entries sheet nor in "
    "the portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_JUDGE = _(
    "Unknown judge code %(code)s: not in the judges sheet nor in the portal "
    "(%(count)s row(s): %(rows)s)."
)
UNKNOWN_SKILL_ROWS = _(
    "Unknown skill code %(code)s: not in the skills sheet nor in this event "
    "(%(count)s row(s): %(rows)s)."
)
NOT_ASSIGNED = _(
    "Judge %(judge)s is not assigned to skill %(skill)s, so may not mark it: list the judge "
    "for the skill in the judges sheet (%(count)s row(s): %(rows)s)."
)
RECUSAL = _(
    "Recusal (回避): judge %(judge)s belongs to delegation %(delegation)s, as does entry "
    "%(number)s, and may not mark it (%(count)s row(s): %(rows)s)."
)
CHIEF_JUDGEMENT = _(
    "Judge %(judge)s is the chief judge of skill %(skill)s; the chief judge does not give "
    "judgement scores (%(count)s row(s): %(rows)s)."
)
OUTSIDE_GROUP = _(
    "Aspect %(aspect)s of entry %(number)s is outside the marking groups of judge %(judge)s."
)
NOT_RANKED = _(
    "Entry %(number)s of skill %(skill)s is absent or withdrawn and is not marked "
    "(%(count)s row(s): %(rows)s)."
)
LOCKED = _(
    "Marks of skill %(skill)s are signed off and locked; the chief judge must reopen them "
    "before this sheet can change them (%(count)s row(s): %(rows)s)."
)
SCHEME_INCOMPLETE = _(
    "The marking scheme of skill %(skill)s is not complete, so it cannot be marked yet: "
    "%(problems)s"
)
MARK_OUT_OF_RANGE = _("The mark %(value)s is out of range: aspect %(aspect)s allows 0 to %(max)s.")
TOO_MANY_DECIMALS = _("A mark has at most 2 decimals (got “%(value)s”).")
JUDGE_REQUIRED = _(
    "Aspect %(aspect)s is a judgement aspect: each score needs the judge_code of the judge "
    "who gave it."
)
NO_IMPORTER = _(
    "Marks without a judge_code are recorded as written by the organiser who imports them, "
    "and this import names none (manage.py import_event: add --user USERNAME) "
    "(%(count)s row(s): %(rows)s)."
)
DUPLICATE_MARK = _(
    "The mark %(mark)s is listed twice, in rows %(first)s and %(second)s; keep one of them."
)
REFUSED = _("The mark service refused this mark: %(reason)s")
# --------------------------------------------------------------------------- marks


@dataclass
class _MarkRow:
    row: SheetRow
    skill: str
    number: str
    aspect: str
    judge: str
    value: Decimal
    kind: str


class _EventFacts:
    """The event as it will be once the earlier sheets are written: what the
    ``marks`` sheet's rows are checked against."""

    def __init__(self, ctx: ImportContext, judge_codes: set[str]) -> None:
        event = ctx.event
        self.skills = skill_sizes(ctx)
        self.file_aspects = scheme_aspects(ctx)
        self.skill_ids: dict[str, int] = (
            dict(event.skills.values_list("code", "pk")) if event.pk else {}
        )
        # Aspects of skills the aspects sheet does not list: the portal's.
        self.db_aspects: dict[str, dict[str, tuple[str, Decimal | None]]] = defaultdict(dict)
        if event.pk:
            for skill, code, kind, max_mark in Aspect.objects.filter(
                skill__event=event
            ).values_list("skill__code", "code", "kind", "max_mark"):
                self.db_aspects[skill][code] = (kind, max_mark)
        # Entries: (skill, number) → [delegation code, status]
        self.entries: dict[tuple[str, str], list[str]] = {}
        if event.pk:
            for skill, number, delegation, status in Entry.objects.filter(
                skill__event=event
            ).values_list("skill__code", "competitor_no", "delegation__code", "status"):
                self.entries[(skill, number)] = [delegation, status]
        for values in _sheet_values(ctx, "entries"):
            key = (cell_text(values.get("skill_code")), cell_text(values.get("competitor_no")))
            delegation = cell_text(values.get("delegation_code"))
            if key in self.entries:
                self.entries[key][0] = delegation or self.entries[key][0]
            else:
                self.entries[key] = [delegation, Entry.Status.REGISTERED]
        # Judges: code → delegation code; assignments: (skill, judge) → role.
        self.judges: dict[str, str] = dict(
            Judge.objects.filter(code__in=judge_codes).values_list("code", "delegation__code")
        )
        self.roles: dict[tuple[str, str], str] = {}
        if event.pk:
            for skill, judge, role in JudgeAssignment.objects.filter(
                skill__event=event
            ).values_list("skill__code", "judge__code", "role"):
                self.roles[(skill, judge)] = role
        role_widget = JudgeAssignmentResource().column_fields()["role"].widget
        for values in _sheet_values(ctx, "judges"):
            code = cell_text(values.get("code"))
            if values.get("delegation_code") is not None:
                self.judges[code] = cell_text(values.get("delegation_code"))
            try:
                role = role_widget.clean(values.get("role"))
            except ValidationError:  # the judges sheet reports its bad cells itself
                role = ""
            self.roles[(cell_text(values.get("skill_code")), code)] = (
                role or JudgeAssignment.Role.JUDGE
            )
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


def _sheet_values(ctx: ImportContext, name: str) -> Iterable[dict[str, Any]]:
    sheet = ctx.sheets.get(name)
    return (r.values for r in sheet.rows) if sheet is not None else ()


def _score_input(raw: Any) -> Any:
    """What the mark service parses: Excel hands numbers over as floats, and
    the service takes no float; ``repr`` is the number as it was typed."""
    if isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, int | Decimal | str) and not isinstance(raw, bool):
        return raw
    return cell_text(raw)


def _range_problem(
    problems: GroupedProblems,
    row: int,
    exc: services.OutOfRange,
    raw: Any,
    aspect: str,
    kind: str,
    max_mark: Decimal,
) -> None:
    value = cell_text(raw)
    if exc.code == "not_a_number":
        problems.add(row, "score", NOT_A_NUMBER, value=value)
    elif exc.code == "too_many_decimals":
        problems.add(row, "score", TOO_MANY_DECIMALS, value=value)
    elif kind == AspectKind.JUDGEMENT:
        problems.add(row, "score", BAD_SCORE, value=value)
    else:
        problems.add(
            row,
            "score",
            MARK_OUT_OF_RANGE,
            value=value,
            aspect=aspect,
            max=f"{Decimal(max_mark).quantize(Decimal('0.01')):f}",
        )


def _panel_problem(
    problems: GroupedProblems, code: str, m: _MarkRow, delegation: str, aspect_code: str
) -> None:
    """A panel refusal (by its stable code) as a located, bilingual problem."""
    row = m.row.number
    if code == panels.NOT_ASSIGNED:
        problems.add_grouped(
            ("not_assigned", m.skill, m.judge),
            row,
            "judge_code",
            NOT_ASSIGNED,
            judge=m.judge,
            skill=m.skill,
        )
    elif code == panels.OWN_DELEGATION:
        problems.add_grouped(
            ("recusal", m.skill, m.judge, m.number),
            row,
            "judge_code",
            RECUSAL,
            judge=m.judge,
            delegation=delegation,
            number=m.number,
        )
    elif code == panels.CHIEF_JUDGEMENT:
        problems.add_grouped(
            ("chief", m.skill, m.judge),
            row,
            "judge_code",
            CHIEF_JUDGEMENT,
            judge=m.judge,
            skill=m.skill,
        )
    elif code == panels.OUTSIDE_GROUP:
        problems.add(
            row, "judge_code", OUTSIDE_GROUP, aspect=aspect_code, number=m.number, judge=m.judge
        )
    else:
        problems.add(row, "judge_code", REFUSED, reason=code)


def import_marks(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One mark per row; see the module docstring."""
    problems = GroupedProblems(ctx, sheet)
    cleaned: list[tuple[SheetRow, dict[str, Any]]] = []
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        if ok:
            cleaned.append((row, data))
    facts = _EventFacts(ctx, {d["judge_code"] for _r, d in cleaned})

    good: list[_MarkRow] = []
    seen: dict[tuple, int] = {}
    unchanged = 0
    for row, d in cleaned:
        n = row.number
        skill, number, aspect_code, judge = (
            d["skill_code"],
            d["competitor_no"],
            d["aspect_code"],
            d["judge_code"],
        )
        if skill not in facts.skills:
            problems.add_grouped(("skill", skill), n, "skill_code", UNKNOWN_SKILL_ROWS, code=skill)
            continue
        aspect = facts.aspects_of(skill).get(aspect_code)
        if aspect is None:
            problems.add_grouped(
                ("aspect", skill, aspect_code),
                n,
                "aspect_code",
                UNKNOWN_ASPECT,
                code=aspect_code,
                skill=skill,
            )
            continue
        kind, max_mark = aspect
        if kind not in AspectKind.values or max_mark is None:
            continue  # the aspects sheet reports the bad type or max mark
        if not judge and kind == AspectKind.JUDGEMENT:
            problems.add(n, "judge_code", JUDGE_REQUIRED, aspect=aspect_code)
            continue
        if not judge and ctx.state.get("actor") is None:
            problems.add_grouped(("no_actor",), n, "judge_code", NO_IMPORTER)
            continue
        key = (skill, number, aspect_code, judge if kind == AspectKind.JUDGEMENT else None)
        if key in seen:
            label = " / ".join(p for p in key if p)
            problems.add(
                n,
                "judge_code" if kind == AspectKind.JUDGEMENT else "aspect_code",
                DUPLICATE_MARK,
                mark=label,
                first=seen[key],
                second=n,
            )
            continue
        seen[key] = n
        try:
            value = services.parse_value(
                _score_input(d["score"]), facts.stand_in(skill, aspect_code, kind, max_mark)
            )
        except services.OutOfRange as exc:
            value = None
            _range_problem(problems, n, exc, d["score"], aspect_code, kind, max_mark)

        # The mark service's order: locked, not ranked, scheme, panel, value.
        if skill in facts.signed_off:
            # Rows that change nothing need no writing, so they pass a lock.
            stored = facts.stored_marks(skill).get(key[1:])
            if value is not None and stored == value:
                unchanged += 1
                continue
            problems.add_grouped(("locked", skill), n, "skill_code", LOCKED, skill=skill)
            continue
        entry = facts.entries.get((skill, number))
        if entry is None:
            problems.add_grouped(
                ("entry", skill, number),
                n,
                "competitor_no",
                UNKNOWN_ENTRY,
                number=number,
                skill=skill,
            )
            continue
        delegation, status = entry
        if status != Entry.Status.REGISTERED:
            problems.add_grouped(
                ("not_ranked", skill, number),
                n,
                "competitor_no",
                NOT_RANKED,
                number=number,
                skill=skill,
            )
            continue
        scheme = facts.scheme_problems(skill)
        if scheme:
            problems.add_grouped(
                ("scheme", skill),
                n,
                "skill_code",
                SCHEME_INCOMPLETE,
                skill=skill,
                problems=" ".join(scheme),
            )
            continue
        mark = _MarkRow(row, skill, number, aspect_code, judge, value or Decimal(0), kind)
        if judge:  # an M row without a judge is the importing organiser's
            if judge not in facts.judges:
                problems.add_grouped(("judge", judge), n, "judge_code", UNKNOWN_JUDGE, code=judge)
                continue
            refusal = facts.panel(skill).check(judge, 0, delegation, 0, kind)
            if refusal is not None:
                _panel_problem(problems, refusal.code, mark, delegation, aspect_code)
                continue
        if value is not None:
            good.append(mark)
    problems.flush()

    if not ctx.writable:
        return
    for _i in range(unchanged):
        ctx.count(sheet, UNCHANGED)
    _write_marks(ctx, sheet, good)


def _write_marks(ctx: ImportContext, sheet: ParsedSheet, good: list[_MarkRow]) -> None:
    """One ``services.write_marks`` batch per skill; refusals become row errors."""
    by_skill: dict[str, list[_MarkRow]] = defaultdict(list)
    for m in good:
        by_skill[m.skill].append(m)
    if not by_skill:
        return
    skills = {s.code: s for s in ctx.event.skills.filter(code__in=by_skill)}
    entries = {
        (e.skill_id, e.competitor_no): e
        for e in Entry.objects.filter(skill__in=skills.values()).only(
            "pk", "skill_id", "delegation_id", "competitor_no", "status"
        )
    }
    aspects = {(a.skill_id, a.code): a for a in Aspect.objects.filter(skill__in=skills.values())}
    judges = {j.code: j for j in Judge.objects.filter(code__in={m.judge for m in good})}
    actor = ctx.state.get("actor")  # the importing user, when the caller names one
    problems = GroupedProblems(ctx, sheet)
    for code, rows in by_skill.items():
        skill = skills[code]
        writes = [
            services.MarkWrite(
                entry=entries[(skill.pk, m.number)],
                aspect=aspects[(skill.pk, m.aspect)],
                judge=judges[m.judge] if m.judge else None,
                value=m.value,
            )
            for m in rows
        ]
        try:
            results = services.write_marks(
                skill, writes, actor=actor, reason=IMPORT_REASON, source=IMPORT_SOURCE
            )
        except services.BatchRefused as exc:
            for index, refusal in exc.refusals.items():
                _refusal_problem(problems, refusal, rows[index], writes[index])
            continue
        for result in results:
            ctx.count(
                sheet, CREATED if result.created else UPDATED if result.changed else UNCHANGED
            )
    problems.flush()


def _refusal_problem(
    problems: GroupedProblems, refusal: services.MarkRefused, m: _MarkRow, w: services.MarkWrite
) -> None:
    """What the service refused at write time, located on its row. The
    checks before writing catch these already; this covers what only the
    portal knows (marking groups) and changes made meanwhile."""
    n = m.row.number
    if isinstance(refusal, services.Locked):
        problems.add_grouped(("locked", m.skill), n, "skill_code", LOCKED, skill=m.skill)
    elif isinstance(refusal, services.NotRanked):
        problems.add_grouped(
            ("not_ranked", m.skill, m.number),
            n,
            "competitor_no",
            NOT_RANKED,
            number=m.number,
            skill=m.skill,
        )
    elif isinstance(refusal, services.SchemeIncomplete):
        problems.add_grouped(
            ("scheme", m.skill),
            n,
            "skill_code",
            SCHEME_INCOMPLETE,
            skill=m.skill,
            problems=" ".join(schemes.scheme_problems(w.aspect.skill_id)),
        )
    elif isinstance(refusal, services.OutOfRange):
        _range_problem(problems, n, refusal, m.value, m.aspect, m.kind, w.aspect.max_mark)
    elif isinstance(refusal, services.NotAllowed):
        delegation = w.entry.delegation.code if refusal.code == panels.OWN_DELEGATION else ""
        _panel_problem(problems, refusal.code, m, delegation, m.aspect)
    else:
        problems.add(n, None, REFUSED, reason=refusal.message)


def marks_queryset(event: Event) -> QuerySet[Mark]:
    return MarkRowResource().get_queryset().filter(skill__event=event)
