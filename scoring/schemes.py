"""Is a skill's marking scheme complete?

Marking opens only when ``scheme_problems(skill)`` is empty: ``write_mark``
refuses otherwise. Problems:

- the skill has no aspects;
- the aspects' max marks do not total exactly 100 (the message shows the sum
  and the difference);
- a criterion with a stated ``max_mark`` differs from the sum of its aspects;
- an aspect hangs under a sub-criterion of another skill.

Warnings (shown, never blocking): a judgement aspect without its four
descriptors 0–3. Imported CIS schemes carry them; hand-made schemes may not.

Three queries per call, exact Decimal sums.

``write_mark`` does not call ``scheme_problems`` on every write: it asks the
database the same question as one boolean, ``scheme_has_problem_sql``,
inside the statement that locks the skill (no extra round trip), and only
when that says "problem" does it call ``scheme_problems`` for the message.
Nothing is cached, so no edit of the scheme (admin, import, raw SQL) can be
missed. The two definitions must agree; ``tests/scoring/test_write_mark_queries.py``
checks them against each other on every kind of problem.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, cast

from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext as _

from .models import Aspect, AspectKind, Criterion, SubCriterion

if TYPE_CHECKING:
    from competitions.models import Skill

SCHEME_TOTAL = Decimal("100.00")
CENT = Decimal("0.01")


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


@dataclass
class SchemeSummary:
    total: Decimal = Decimal("0.00")
    aspect_count: int = 0
    measurement_count: int = 0
    judgement_count: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        """Total − 100 (negative when marks are missing)."""
        return self.total - SCHEME_TOTAL

    @property
    def ok(self) -> bool:
        return not self.problems


def scheme_summary(skill: Skill | int) -> SchemeSummary:
    skill_id = skill if isinstance(skill, int) else skill.pk
    aspects = list(
        Aspect.objects.filter(skill_id=skill_id)
        .annotate(n_descriptors=Count("descriptors"))
        .values_list(
            "code",
            "kind",
            "max_mark",
            "sub_criterion__criterion_id",
            "sub_criterion__criterion__skill_id",
            "n_descriptors",
        )
        .order_by("order", "code")
    )
    summary = SchemeSummary()
    if not aspects:
        summary.problems.append(_("The marking scheme has no aspects yet."))
        return summary

    by_criterion: dict[int, Decimal] = defaultdict(Decimal)
    for code, kind, max_mark, criterion_id, criterion_skill_id, n_descriptors in aspects:
        summary.total += max_mark
        summary.aspect_count += 1
        by_criterion[criterion_id] += max_mark
        if criterion_skill_id != skill_id:
            summary.problems.append(
                _("Aspect %(code)s is filed under a criterion of another skill.") % {"code": code}
            )
        if kind == AspectKind.JUDGEMENT:
            summary.judgement_count += 1
            if n_descriptors < 4:
                summary.warnings.append(
                    _("Judgement aspect %(code)s has %(n)d of its 4 descriptors (scores 0–3).")
                    % {"code": code, "n": n_descriptors}
                )
        else:
            summary.measurement_count += 1

    if summary.total != SCHEME_TOTAL:
        diff = summary.total - SCHEME_TOTAL
        if diff < 0:
            msg = _("The aspects' max marks total %(total)s, not 100: %(diff)s marks are missing.")
        else:
            msg = _("The aspects' max marks total %(total)s, not 100: %(diff)s marks too many.")
        summary.problems.append(msg % {"total": _fmt(summary.total), "diff": _fmt(abs(diff))})

    for code, stated, criterion_id in Criterion.objects.filter(
        skill_id=skill_id, max_mark__isnull=False
    ).values_list("code", "max_mark", "id"):
        max_mark = cast(Decimal, stated)  # the filter excludes None
        found = by_criterion.get(criterion_id, Decimal("0"))
        if found != max_mark:
            summary.problems.append(
                _(
                    "Criterion %(code)s is worth %(stated)s but its aspects total %(found)s "
                    "(difference %(diff)s)."
                )
                % {
                    "code": code,
                    "stated": _fmt(max_mark),
                    "found": _fmt(found),
                    "diff": _fmt(found - max_mark),
                }
            )
    return summary


def scheme_problems(skill: Skill | int) -> list[str]:
    """What keeps marking closed; empty when the scheme is complete."""
    return scheme_summary(skill).problems


def scheme_warnings(skill: Skill | int) -> list[str]:
    """What the organiser should look at but does not block marking."""
    return scheme_summary(skill).warnings


@cache
def scheme_has_problem_sql() -> str:
    """A SQL boolean expression true when ``scheme_problems`` would not be
    empty; its one parameter is named ``skill`` (``%(skill)s``).

    The same rules as ``scheme_summary``: no aspects; aspects not totalling
    exactly 100; an aspect filed under a criterion of another skill; a
    criterion with a stated ``max_mark`` other than the sum of its aspects
    (of this skill). Warnings are not problems. Sums are exact on PostgreSQL
    (numeric); on SQLite they are floats, where a sum of two-decimal marks
    cannot land exactly on 100 when the exact sum does not, so at worst the
    caller takes the slow path (``scheme_problems``) for nothing.
    """
    qn = connection.ops.quote_name
    aspect, sub, crit = Aspect._meta, SubCriterion._meta, Criterion._meta

    def col(meta, name: str) -> str:
        return qn(meta.get_field(name).column)

    a_t, s_t, c_t = qn(aspect.db_table), qn(sub.db_table), qn(crit.db_table)
    a_skill, a_max, a_sub = (
        col(aspect, "skill"),
        col(aspect, "max_mark"),
        col(aspect, "sub_criterion"),
    )
    s_pk, s_crit = col(sub, "id"), col(sub, "criterion")
    c_pk, c_skill, c_max = col(crit, "id"), col(crit, "skill"), col(crit, "max_mark")
    sql = (
        f"(NOT EXISTS (SELECT 1 FROM {a_t} a WHERE a.{a_skill} = %(skill)s)"
        f" OR (SELECT SUM(a.{a_max}) FROM {a_t} a WHERE a.{a_skill} = %(skill)s) <> {SCHEME_TOTAL}"
        f" OR EXISTS (SELECT 1 FROM {a_t} a JOIN {s_t} s ON s.{s_pk} = a.{a_sub}"
        f" JOIN {c_t} c ON c.{c_pk} = s.{s_crit}"
        f" WHERE a.{a_skill} = %(skill)s AND c.{c_skill} <> %(skill)s)"
        f" OR EXISTS (SELECT 1 FROM {c_t} c WHERE c.{c_skill} = %(skill)s AND c.{c_max} IS NOT NULL"
        f" AND c.{c_max} <> COALESCE((SELECT SUM(a.{a_max}) FROM {a_t} a"
        f" JOIN {s_t} s ON s.{s_pk} = a.{a_sub}"
        f" WHERE s.{s_crit} = c.{c_pk} AND a.{a_skill} = %(skill)s), 0)))"
    )
    return sql


def scheme_has_problem(skill: Skill | int) -> bool:
    """``scheme_has_problem_sql`` on its own (one query): for tests and checks."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {scheme_has_problem_sql()}", {"skill": skill_id})
        return bool(cursor.fetchone()[0])
