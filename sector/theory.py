"""Theory exams from a computer-based exam system (docs/rewards.md, "理论考试").

Sheet (the first sheet, or one named ``theory``), keys on the first row (a
Chinese title row above them is accepted): ``skill_code``, ``competitor_no``
and/or ``id_number`` (one of the two per row), ``score``, ``out_of``;
optionally ``criterion`` (a criterion code).

* The criterion: the row's ``criterion`` code, else the skill's only
  criterion whose code or name contains "理论" or "theory" (any case). All
  its aspects must be measurement (M) aspects.
* C = the sum of that criterion's aspect max marks.
  mark = score × C ÷ out_of, rounded half up to 2 decimal places.
* Spread over the criterion's aspects a_1 … a_k (ordered by sub-criterion
  order and code, then aspect order and code) with max marks m_i and
  cumulative maxima M_i = m_1 + … + m_i: the running total
  T_i = half_up_2(mark × M_i ÷ C), and aspect i gets T_i − T_(i−1). So
  T_k = mark (the criterion's marks add up to the converted mark exactly),
  every aspect gets between 0 and its max, and the spread is proportional
  to the max marks.
* The marks go through ``scoring.services.write_marks`` (same checks as
  every mark), one batch per skill, with source "import", the uploading
  organiser as actor and, as the judge of record, the skill's chief judge —
  or, where recusal (回避) or a marking group forbids the chief, the first
  judge of the panel (by code) the rules allow for that entry.
* All or nothing: any problem anywhere (sheet, row, column) and nothing is
  written.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from competitions.models import Event, Skill
from portal import spreadsheets
from portal.problems import CellProblem
from scoring import panels, services
from scoring.models import Aspect, AspectKind, Criterion
from teams import idnumbers, roles
from teams.models import Entry, Judge, JudgeAssignment

KEYS = ("skill_code", "competitor_no", "id_number", "score", "out_of", "criterion")
REQUIRED_KEYS = ("skill_code", "score", "out_of")
MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024
HEADER_SEARCH_ROWS = 5
CENT = Decimal("0.01")
IMPORT_REASON = "theory exam import"
THEORY_WORDS = ("理论", "theory")


def half_up_2(value: Fraction) -> Decimal:
    """An exact non-negative number rounded half up to 2 decimal places."""
    if value < 0:
        raise ValueError("negative")
    hundredths = int(value * 100 + Fraction(1, 2))  # floor(100x + 1/2)
    return (Decimal(hundredths) / 100).quantize(CENT)


def converted_mark(score: Decimal, out_of: Decimal, criterion_max: Decimal) -> Decimal:
    """score × C ÷ out_of, rounded half up to 2 places (exact arithmetic)."""
    return half_up_2(Fraction(score) * Fraction(criterion_max) / Fraction(out_of))


def spread(mark: Decimal, maxima: list[Decimal]) -> list[Decimal]:
    """The converted mark spread over aspects of the given max marks (see the module)."""
    total = sum(maxima, Decimal(0))
    if total <= 0:
        raise ValueError("a criterion needs aspects")
    out, previous, cumulative = [], Decimal(0), Decimal(0)
    for m in maxima:
        cumulative += m
        running = half_up_2(Fraction(mark) * Fraction(cumulative) / Fraction(total))
        out.append(running - previous)
        previous = running
    return out


@dataclass
class TheoryReport:
    errors: list[CellProblem] = field(default_factory=list)
    marks_written: int = 0
    marks_unchanged: int = 0
    rows: int = 0
    skills: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Refused(Exception):
    pass


@dataclass
class _Sheet:
    name: str
    letters: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _read(source: IO[bytes] | str, report: TheoryReport) -> _Sheet | None:
    def fail(message, **params) -> None:
        report.errors.append(CellProblem(None, None, None, None, message, params))

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        fail(_("This is not an Excel workbook (.xlsx)."))
        return None
    try:
        ws = book["theory"] if "theory" in book.sheetnames else book.worksheets[0]
        numbered = enumerate(ws.iter_rows(values_only=True), start=1)
        header = spreadsheets.find_header(numbered, ["skill_code"], HEADER_SEARCH_ROWS)
        if header is None:
            fail(
                _("No row of column keys (skill_code, score, out_of …) in sheet %(sheet)s."),
                sheet=ws.title,
            )
            return None
        header_row, found = header
        index = {k: i for k, i in found.items() if k in KEYS}
        letters = {k: get_column_letter(i + 1) for k, i in index.items()}
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, values in numbered:
            if all(v is None or _text(v) == "" for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                fail(_("At most %(n)d rows per file."), n=MAX_ROWS)
                return None
            cells = {key: values[i] if i < len(values) else None for key, i in index.items()}
            rows.append((number, cells))
        missing = [k for k in REQUIRED_KEYS if k not in letters]
        if "competitor_no" not in letters and "id_number" not in letters:
            missing.append("competitor_no / id_number")
        if missing:
            report.errors.append(
                CellProblem(
                    ws.title,
                    header_row,
                    None,
                    None,
                    _("Missing columns: %(keys)s."),
                    {"keys": ", ".join(missing)},
                )
            )
            return None
        return _Sheet(ws.title, letters, rows)
    finally:
        book.close()


def _number(raw: Any) -> Decimal | None:
    if raw is None or _text(raw) == "":
        return None
    try:
        # A float cell is taken as the shortest text that reads back as it
        # (what the exam system wrote), never as its binary expansion.
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(_text(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass
class _SkillFacts:
    skill: Skill
    aspects: list[Aspect]
    maximum: Decimal
    by_number: dict[str, Entry]
    by_id: dict[str, Entry]
    judges: list[Judge]


def _theory_criterion(skill: Skill, code: str) -> Criterion | str:
    criteria = list(Criterion.objects.filter(skill=skill))
    if code:
        found = [c for c in criteria if c.code == code]
        return found[0] if found else "unknown"
    found = [
        c for c in criteria if any(w in c.name.lower() or w in c.code.lower() for w in THEORY_WORDS)
    ]
    return found[0] if len(found) == 1 else ("none" if not found else "several")


def _skill_facts(skill: Skill, criterion: Criterion) -> _SkillFacts | str:
    aspects = list(
        Aspect.objects.filter(sub_criterion__criterion=criterion).order_by(
            "sub_criterion__order", "sub_criterion__code", "order", "code"
        )
    )
    if not aspects:
        return "empty"
    if any(a.kind != AspectKind.MEASUREMENT for a in aspects):
        return "judgement"
    entries = list(Entry.objects.filter(skill=skill).prefetch_related("members__athlete"))
    by_id = {}
    for e in entries:
        for m in e.members.all():
            if m.athlete.id_number:
                by_id[m.athlete.id_number] = e
    judges = [
        a.judge
        for a in JudgeAssignment.objects.filter(skill=skill)
        .select_related("judge")
        .order_by("role", "judge__code")  # "chief" sorts before "judge"
    ]
    return _SkillFacts(
        skill=skill,
        aspects=aspects,
        maximum=sum((a.max_mark for a in aspects), Decimal(0)),
        by_number={e.competitor_no: e for e in entries},
        by_id=by_id,
        judges=judges,
    )


SKILL_PROBLEMS = {
    "unknown": _("Skill %(skill)s has no criterion %(code)s."),
    "none": _("Skill %(skill)s has no theory criterion (a criterion named 理论 or theory)."),
    "several": _("Skill %(skill)s has several theory criteria; name one in a criterion column."),
    "empty": _("The theory criterion of %(skill)s has no aspects."),
    "judgement": _(
        "The theory criterion of %(skill)s has judgement aspects; only M aspects can "
        "take exam scores."
    ),
    "team": _("Skill %(skill)s is a team skill; theory exams are per person."),
}


def _check_rows(event: Event, sheet: _Sheet, report: TheoryReport) -> dict[int, list]:
    """Every row checked; returns skill id → [(row, facts, entry, mark)]."""

    def err(at: int, column: str | None, message, **params) -> None:
        report.errors.append(
            CellProblem(sheet.name, at, column, sheet.letters.get(column or ""), message, params)
        )

    facts_cache: dict[tuple[str, str], _SkillFacts | str] = {}
    skills = {s.code: s for s in Skill.objects.filter(event=event)}
    planned: dict[int, list] = defaultdict(list)
    seen: dict[tuple[int, int], int] = {}
    for number, cells in sheet.rows:
        report.rows += 1
        code = _text(cells.get("skill_code"))
        skill = skills.get(code)
        if skill is None:
            err(number, "skill_code", _("Unknown skill code %(code)s in this event."), code=code)
            continue
        crit_code = _text(cells.get("criterion"))
        key = (code, crit_code)
        if key not in facts_cache:
            if skill.is_team:
                facts_cache[key] = "team"
            else:
                criterion = _theory_criterion(skill, crit_code)
                facts_cache[key] = (
                    criterion if isinstance(criterion, str) else _skill_facts(skill, criterion)
                )
        facts = facts_cache[key]
        if isinstance(facts, str):
            column = "criterion" if crit_code else "skill_code"
            err(number, column, SKILL_PROBLEMS[facts], skill=code, code=crit_code)
            continue
        entry = _find_entry(facts, cells, number, err)
        score, out_of = _number(cells.get("score")), _number(cells.get("out_of"))
        good = entry is not None
        if out_of is None or out_of <= 0:
            err(
                number,
                "out_of",
                _("out_of must be a number above 0 (got “%(value)s”)."),
                value=_text(cells.get("out_of")),
            )
            good = False
        if score is None or score < 0 or (out_of is not None and out_of > 0 and score > out_of):
            err(
                number,
                "score",
                _("score must be a number from 0 to out_of (got “%(value)s”)."),
                value=_text(cells.get("score")),
            )
            good = False
        if not good or entry is None or score is None or out_of is None:
            continue  # reported above (the None checks narrow the types)
        if (skill.pk, entry.pk) in seen:
            err(
                number,
                "competitor_no",
                _("This entry already has a score on row %(row)s."),
                row=seen[(skill.pk, entry.pk)],
            )
            continue
        seen[(skill.pk, entry.pk)] = number
        mark = converted_mark(score, out_of, facts.maximum)
        planned[skill.pk].append((number, facts, entry, mark))
        report.skills.add(code)
    return planned


def _find_entry(facts: _SkillFacts, cells: dict, number: int, err) -> Entry | None:
    competitor_no = _text(cells.get("competitor_no"))
    id_number = idnumbers.normalise(_text(cells.get("id_number")))
    if not competitor_no and not id_number:
        err(number, "competitor_no", _("Give the competitor number or the ID number."))
        return None
    by_no = facts.by_number.get(competitor_no) if competitor_no else None
    by_id = facts.by_id.get(id_number) if id_number else None
    if competitor_no and by_no is None:
        err(
            number,
            "competitor_no",
            _("No entry %(no)s in %(skill)s."),
            no=competitor_no,
            skill=facts.skill.code,
        )
        return None
    if id_number and by_id is None:
        err(
            number,
            "id_number",
            _("No athlete with this ID number is entered in %(skill)s."),
            skill=facts.skill.code,
        )
        return None
    if by_no is not None and by_id is not None and by_no.pk != by_id.pk:
        err(
            number,
            "id_number",
            _("The ID number belongs to another entry than %(no)s."),
            no=competitor_no,
        )
        return None
    return by_no or by_id


def _writes(
    planned: list, report: TheoryReport, sheet: _Sheet
) -> tuple[list[services.MarkWrite], list[int]]:
    """MarkWrites of one skill, the judge of record chosen per entry."""
    writes, where = [], []
    panel = panels.load_panel(planned[0][1].skill.pk)
    for number, facts, entry, mark in planned:
        judge = next(
            (
                j
                for j in facts.judges
                if all(
                    panel.check(j.pk, entry.pk, entry.delegation_id, a.pk, a.kind) is None
                    for a in facts.aspects
                )
            ),
            None,
        )
        if judge is None:
            report.errors.append(
                CellProblem(
                    sheet.name,
                    number,
                    "skill_code",
                    sheet.letters.get("skill_code"),
                    _(
                        "No judge of %(skill)s may record marks for this entry (recusal or "
                        "marking groups): assign one first."
                    ),
                    {"skill": facts.skill.code},
                )
            )
            continue
        for aspect, value in zip(
            facts.aspects, spread(mark, [a.max_mark for a in facts.aspects]), strict=True
        ):
            writes.append(services.MarkWrite(entry=entry, aspect=aspect, judge=judge, value=value))
            where.append(number)
    return writes, where


def import_theory(
    event: Event, source: IO[bytes] | str, user, *, dry_run: bool = False
) -> TheoryReport:
    """Check every row, then write every mark, or nothing (see the module docstring)."""
    if user is not None and not roles.is_organiser(user):
        raise PermissionDenied
    report = TheoryReport()
    sheet = _read(source, report)
    if sheet is None:
        return report
    try:
        with transaction.atomic():
            planned = _check_rows(event, sheet, report)
            for _skill_id, items in sorted(planned.items()):
                writes, where = _writes(items, report, sheet)
                if report.errors or dry_run:
                    continue
                skill = items[0][1].skill
                try:
                    results = services.write_marks(
                        skill, writes, actor=user, reason=IMPORT_REASON, source="import"
                    )
                except services.BatchRefused as exc:
                    for index, refusal in sorted(exc.refusals.items()):
                        report.errors.append(
                            CellProblem(
                                sheet.name,
                                where[index],
                                "competitor_no",
                                sheet.letters.get("competitor_no"),
                                refusal.message,
                            )
                        )
                    continue
                except services.MarkRefused as exc:
                    report.errors.append(
                        CellProblem(
                            sheet.name,
                            items[0][0],
                            "skill_code",
                            sheet.letters.get("skill_code"),
                            exc.message,
                        )
                    )
                    continue
                for r in results:
                    if r.created or r.changed:
                        report.marks_written += 1
                    else:
                        report.marks_unchanged += 1
            if report.errors or dry_run:
                raise _Refused
    except _Refused:
        report.marks_written = report.marks_unchanged = 0
    return report
