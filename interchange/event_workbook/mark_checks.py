"""The checks of one ``marks`` row before anything is written, by the mark
service's rules and in its order, and the service's refusals as located
problems."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from competitions.resources import cell_text
from interchange.cis.messages import BAD_SCORE, NOT_A_NUMBER
from scoring import panels, schemes, services
from scoring.models import AspectKind
from teams.models import Entry

from .context import SheetRow
from .grouped import GroupedProblems
from .mark_facts import EventFacts
from .mark_messages import (
    CHIEF_JUDGEMENT,
    DUPLICATE_MARK,
    JUDGE_REQUIRED,
    LOCKED,
    MARK_OUT_OF_RANGE,
    NO_IMPORTER,
    NOT_ASSIGNED,
    NOT_RANKED,
    OUTSIDE_GROUP,
    RECUSAL,
    REFUSED,
    SCHEME_INCOMPLETE,
    TOO_MANY_DECIMALS,
    UNKNOWN_ASPECT,
    UNKNOWN_ENTRY,
    UNKNOWN_JUDGE,
    UNKNOWN_SKILL_ROWS,
)


@dataclass
class MarkRow:
    row: SheetRow
    skill: str
    number: str
    aspect: str
    judge: str
    value: Decimal
    kind: str


class MarkChecks:
    """The checks of the ``marks`` rows before anything is written: each row
    against the file so far (its aspect, a mark listed twice) and against
    ``facts``, the event as it will be, by the mark service's rules in its
    order. Problems go to ``problems``; rows of a signed-off skill that
    change nothing are counted in ``unchanged``."""

    def __init__(self, facts: EventFacts, problems: GroupedProblems, *, has_actor: bool) -> None:
        self.facts = facts
        self.problems = problems
        self.has_actor = has_actor  # an M row without a judge is the importing organiser's
        self.seen: dict[tuple, int] = {}
        self.unchanged = 0

    def check(self, row: SheetRow, d: dict[str, Any]) -> MarkRow | None:
        """The row as a mark to write, or None: a problem was recorded, or
        there is nothing to write."""
        skill, number, aspect_code, judge = (
            d["skill_code"],
            d["competitor_no"],
            d["aspect_code"],
            d["judge_code"],
        )
        aspect = self._aspect(row.number, skill, aspect_code, judge)
        if aspect is None:
            return None
        kind, max_mark = aspect
        key = (skill, number, aspect_code, judge if kind == AspectKind.JUDGEMENT else None)
        if not self._first_of(row.number, key, kind):
            return None
        value = self._value(row.number, d["score"], skill, aspect_code, kind, max_mark)
        mark = MarkRow(row, skill, number, aspect_code, judge, value or Decimal(0), kind)
        if not self._service_accepts(mark, value):
            return None
        return mark if value is not None else None

    def _aspect(
        self, n: int, skill: str, aspect_code: str, judge: str
    ) -> tuple[str, Decimal] | None:
        """The (kind, max mark) of the row's aspect, or None when the row cannot be a mark."""
        if skill not in self.facts.skills:
            self.problems.add_grouped(
                ("skill", skill), n, "skill_code", UNKNOWN_SKILL_ROWS, code=skill
            )
            return None
        aspect = self.facts.aspects_of(skill).get(aspect_code)
        if aspect is None:
            self.problems.add_grouped(
                ("aspect", skill, aspect_code),
                n,
                "aspect_code",
                UNKNOWN_ASPECT,
                code=aspect_code,
                skill=skill,
            )
            return None
        kind, max_mark = aspect
        if kind not in AspectKind.values or max_mark is None:
            return None  # the aspects sheet reports the bad type or max mark
        if not judge and kind == AspectKind.JUDGEMENT:
            self.problems.add(n, "judge_code", JUDGE_REQUIRED, aspect=aspect_code)
            return None
        if not judge and not self.has_actor:
            self.problems.add_grouped(("no_actor",), n, "judge_code", NO_IMPORTER)
            return None
        return kind, max_mark

    def _first_of(self, n: int, key: tuple, kind: str) -> bool:
        """Whether the row is the first to give this mark (a second is an error)."""
        if key in self.seen:
            label = " / ".join(p for p in key if p)
            self.problems.add(
                n,
                "judge_code" if kind == AspectKind.JUDGEMENT else "aspect_code",
                DUPLICATE_MARK,
                mark=label,
                first=self.seen[key],
                second=n,
            )
            return False
        self.seen[key] = n
        return True

    def _value(
        self, n: int, raw: Any, skill: str, aspect_code: str, kind: str, max_mark: Decimal
    ) -> Decimal | None:
        """The mark the cell holds, parsed as the mark service parses it."""
        try:
            return services.parse_value(
                score_input(raw), self.facts.stand_in(skill, aspect_code, kind, max_mark)
            )
        except services.OutOfRange as exc:
            range_problem(self.problems, n, exc, raw, aspect_code, kind, max_mark)
            return None

    def _service_accepts(self, m: MarkRow, value: Decimal | None) -> bool:
        """The mark service's checks, in its order: locked, not ranked,
        scheme, panel (the value was parsed already)."""
        facts, problems, n = self.facts, self.problems, m.row.number
        if m.skill in facts.signed_off:
            # Rows that change nothing need no writing, so they pass a lock.
            judge = m.judge if m.kind == AspectKind.JUDGEMENT else None
            stored = facts.stored_marks(m.skill).get((m.number, m.aspect, judge))
            if value is not None and stored == value:
                self.unchanged += 1
                return False
            problems.add_grouped(("locked", m.skill), n, "skill_code", LOCKED, skill=m.skill)
            return False
        entry = facts.entries.get((m.skill, m.number))
        if entry is None:
            problems.add_grouped(
                ("entry", m.skill, m.number),
                n,
                "competitor_no",
                UNKNOWN_ENTRY,
                number=m.number,
                skill=m.skill,
            )
            return False
        delegation, status = entry
        if status != Entry.Status.REGISTERED:
            problems.add_grouped(
                ("not_ranked", m.skill, m.number),
                n,
                "competitor_no",
                NOT_RANKED,
                number=m.number,
                skill=m.skill,
            )
            return False
        scheme = facts.scheme_problems(m.skill)
        if scheme:
            problems.add_grouped(
                ("scheme", m.skill),
                n,
                "skill_code",
                SCHEME_INCOMPLETE,
                skill=m.skill,
                problems=" ".join(scheme),
            )
            return False
        if not m.judge:  # an M row without a judge is the importing organiser's
            return True
        if m.judge not in facts.judges:
            problems.add_grouped(("judge", m.judge), n, "judge_code", UNKNOWN_JUDGE, code=m.judge)
            return False
        refusal = facts.panel(m.skill).check(m.judge, 0, delegation, 0, m.kind)
        if refusal is not None:
            panel_problem(problems, refusal.code, m, delegation, m.aspect)
            return False
        return True


def score_input(raw: Any) -> Any:
    """What the mark service parses: Excel hands numbers over as floats, and
    the service takes no float; ``repr`` is the number as it was typed."""
    if isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, int | Decimal | str) and not isinstance(raw, bool):
        return raw
    return cell_text(raw)


def range_problem(
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


def panel_problem(
    problems: GroupedProblems, code: str, m: MarkRow, delegation: str, aspect_code: str
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


def refusal_problem(
    problems: GroupedProblems, refusal: services.MarkRefused, m: MarkRow, w: services.MarkWrite
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
        range_problem(problems, n, refusal, m.value, m.aspect, m.kind, w.aspect.max_mark)
    elif isinstance(refusal, services.NotAllowed):
        delegation = w.entry.delegation.code if refusal.code == panels.OWN_DELEGATION else ""
        panel_problem(problems, refusal.code, m, delegation, m.aspect)
    else:
        problems.add(n, None, REFUSED, reason=refusal.message)
