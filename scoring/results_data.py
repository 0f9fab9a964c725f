"""What a skill's results are computed from: its settings, aspects, entries
and a summary of each entry's marks (docs/scoring.md), loaded in a fixed
number of statements whatever the size or number of skills.

On PostgreSQL one statement (``_LOAD_SQL``) returns all of it: the settings,
aspects and entries as one JSON document in its first row, then one row per
entry with marks summarising them. Elsewhere (SQLite: tests, the quick
start) four ORM queries and Python give the same ``SkillData``; a test
compares the two.

The summary of an entry (``EntryMarks``): the M marks' count and sum; per
judgement (entry, aspect) the count/sum/min/max of its scores reduced to the
rules' kept total and count (mean, or trimmed mean from ``TRIM_FROM`` scores
on) and the discrepancy flag, summed per entry as integers over a common
denominator; the number of J scores; and, when every J aspect was scored by
the same judges, those judges. Everything is an integer: marks have two
places and J scores are 0–3, so ×100 and the casts are exact, and the
database's sums of integers are exact. Python makes one Fraction per entry.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection

from competitions.models import Event, Programme, Skill
from teams.models import Entry, Judge, JudgeAssignment

from . import panels, rules
from .models import Aspect, Criterion, Mark, MarkingGroup, SubCriterion

# J marks are summed over this common denominator (every kept count up to
# 20 divides it); an aspect kept over another count is summed on its own.
LCM = math.lcm(*range(1, 21))


@dataclass(frozen=True, slots=True)
class SkillSettings:
    aggregation: str
    tolerance: int
    median_const: int
    spread: int


@dataclass(slots=True)
class EntryMarks:
    """What the rules need of one entry's marks, summed per entry.

    A J mark is max_mark × kept_total / (3 × kept_count) (kept_total /
    kept_count being the mean or trimmed mean of its scores), so the J part
    of the total is Σ over divisors d of ``j_parts[d]`` / (300 d), where
    ``j_parts[d]`` sums max_mark_cents × kept_total × (d / kept_count) over
    the aspects whose kept count divides d.
    """

    m_aspects: int = 0  # M aspects with a mark
    m_cents: int = 0  # their sum, in hundredths
    j_aspects: int = 0  # J aspects with at least one score
    j_scores: int = 0  # J scores in all
    # The judges who scored every J aspect when each was scored by exactly
    # the same judges; None when they differ (or no J score at all).
    j_judges: frozenset[int] | None = None
    j_parts: dict[int, int] = field(default_factory=dict)
    flagged: list[int] = field(default_factory=list)  # discrepant J aspects

    def total(self) -> Fraction | None:
        """The exact sum of the marks given (None: no mark at all); the
        same value as ``rules.entry_total_cents`` of the same marks."""
        if not (self.m_aspects or self.j_aspects):
            return None
        parts = self.j_parts
        if not parts:
            return Fraction(self.m_cents, 100)
        if len(parts) == 1:
            ((divisor, part),) = parts.items()
            return Fraction(self.m_cents * 3 * divisor + part, 300 * divisor)
        lcm = math.lcm(*parts)
        numerator = self.m_cents * 3 * lcm
        for divisor, part in parts.items():
            numerator += part * (lcm // divisor)
        return Fraction(numerator, 300 * lcm)


NO_MARKS = EntryMarks()  # shared, read only: an entry without marks


@dataclass
class SkillData:
    """Everything ``results.compute_skills`` reads, for some skills."""

    settings: dict[int, SkillSettings]
    aspects: dict[int, rules.AspectRule]
    aspect_order: dict[int, list[int]]  # skill → aspect ids in scheme order
    entries: dict[int, tuple[int, str, int, str]]  # id → (skill, no, delegation, status)
    by_skill: dict[int, list[int]]  # skill → entry ids
    marks: dict[int, EntryMarks]  # entry id → summary (entries with marks)
    panels: dict[int, panels.Panel] | None = None  # None: ``panels.load_panels``


def load(skill_ids: list[int]) -> SkillData:
    """The data of the skills: one statement on PostgreSQL, else the ORM."""
    if connection.vendor == "postgresql":
        return _load_postgresql(skill_ids)
    return _load_orm(skill_ids)


# -- PostgreSQL: one statement ----------------------------------------------------------

# The marks are read in (skill, entry) index order and sorted per entry by
# (aspect, judge) — M marks all under aspect 0 — so each entry's ~120 marks
# are grouped without a hash table or a sort of the whole skill, and the
# per-entry totals follow in the same order: max marks, aggregations and
# tolerances are looked up in arrays indexed by id (``mx``, ``conf``) rather
# than joined, because a hash join loses that order and the per-entry
# aggregate then hashed 4,000 groups whose arrays the planner sizes at 8 kB
# each, spilling to disk at the default work_mem. Nothing is held in memory
# beyond one entry, whatever the size. Each J aspect's judges come out
# in judge order: two aspects scored by the same judges have equal arrays,
# and MIN = MAX of the arrays says every J aspect of the entry was. Should a
# plan deliver another order, the arrays differ and the entry is merely
# read mark by mark (``results``); nothing depends on it for correctness.
# Summary rows: (NULL, entry, M aspects, M cents, J aspects, J scores,
# numerator over LCM, [kept counts not dividing LCM], [their numerators],
# [flagged aspects], [judges if uniform]). 'M' and 'J' are the stored values
# of AspectKind.
_LOAD_SQL = """
WITH dense AS (
    SELECT (SELECT min(id) FROM {aspect} WHERE skill_id = ANY(%(skills)s)) AS a0,
           (SELECT max(id) FROM {aspect} WHERE skill_id = ANY(%(skills)s)) AS a1,
           (SELECT min(id) FROM {skill} WHERE id = ANY(%(skills)s)) AS s0,
           (SELECT max(id) FROM {skill} WHERE id = ANY(%(skills)s)) AS s1
), mx AS (
    SELECT array_agg(COALESCE((a.max_mark * 100)::bigint, 0) ORDER BY i) AS v
    FROM dense, generate_series(dense.a0, dense.a1) i
    LEFT JOIN (SELECT id, max_mark FROM {aspect} WHERE skill_id = ANY(%(skills)s)) a ON a.id = i
), conf AS (
    SELECT array_agg(COALESCE(s.judgement_aggregation = 'trimmed', false) ORDER BY i) AS trimmed,
           array_agg(COALESCE(s.discrepancy_tolerance, 0) ORDER BY i) AS tolerance
    FROM dense, generate_series(dense.s0, dense.s1) i
    LEFT JOIN (SELECT * FROM {skill} WHERE id = ANY(%(skills)s)) s ON s.id = i
), g AS (
    SELECT skill_id, entry_id, a, COUNT(*)::int AS c,
           SUM(CASE WHEN a = 0 THEN (value * 100)::int ELSE value::int END) AS s,
           MIN(value::int) AS lo, MAX(value::int) AS hi,
           array_agg(judge_id) FILTER (WHERE a <> 0) AS judges
    FROM (SELECT skill_id, entry_id, CASE WHEN kind = 'M' THEN 0 ELSE aspect_id END AS a,
                 judge_id, value
          FROM {mark} WHERE skill_id = ANY(%(skills)s)
          ORDER BY skill_id, entry_id, a, judge_id) m
    GROUP BY skill_id, entry_id, a
), k AS (
    SELECT skill_id, entry_id, a, c, s, lo, hi, judges,
           CASE WHEN a = 0 THEN 0 ELSE (SELECT v FROM mx)[a - (SELECT a0 FROM dense) + 1] END
               AS mx,
           (SELECT trimmed FROM conf)[skill_id - (SELECT s0 FROM dense) + 1]
               AND c >= %(trim_from)s AS trim,
           a <> 0 AND hi - lo > (SELECT tolerance FROM conf)[skill_id - (SELECT s0 FROM dense) + 1]
               AS flagged
    FROM g
), kept AS (
    SELECT skill_id, entry_id, a, c, s, judges, mx, flagged,
           CASE WHEN trim THEN c - 2 ELSE c END AS d,
           CASE WHEN trim THEN s - lo - hi ELSE s END AS kt
    FROM k
)
SELECT NULL::text, entry_id,
       COALESCE(MAX(c) FILTER (WHERE a = 0), 0), COALESCE(MAX(s) FILTER (WHERE a = 0), 0),
       (COUNT(*) FILTER (WHERE a <> 0))::int, COALESCE(SUM(c) FILTER (WHERE a <> 0), 0),
       COALESCE(SUM(mx * kt * (%(lcm)s / d)) FILTER (WHERE a <> 0 AND %(lcm)s %% d = 0), 0),
       array_agg(d) FILTER (WHERE a <> 0 AND %(lcm)s %% d <> 0),
       array_agg(mx * kt) FILTER (WHERE a <> 0 AND %(lcm)s %% d <> 0),
       array_agg(a) FILTER (WHERE flagged),
       CASE WHEN MIN(judges) = MAX(judges) THEN MIN(judges) END
FROM kept GROUP BY skill_id, entry_id
UNION ALL
SELECT json_build_object(
    's', (SELECT json_agg(json_build_array(s.id, s.judgement_aggregation,
                                           s.discrepancy_tolerance, p.scale_median,
                                           p.scale_spread))
          FROM {skill} s JOIN {event} e ON e.id = s.event_id
          JOIN {programme} p ON p.id = e.programme_id WHERE s.id = ANY(%(skills)s)),
    'a', (SELECT json_agg(json_build_array(a.id, a.skill_id, a.code, a.kind, a.max_mark::text)
                          ORDER BY a.skill_id, c.{order}, c.code, sc.{order}, sc.code,
                                   a.{order}, a.code)
          FROM {aspect} a JOIN {sub} sc ON sc.id = a.sub_criterion_id
          JOIN {criterion} c ON c.id = sc.criterion_id WHERE a.skill_id = ANY(%(skills)s)),
    'e', (SELECT json_agg(json_build_array(id, skill_id, competitor_no, delegation_id, status))
          FROM {entry} WHERE skill_id = ANY(%(skills)s)),
    'j', (SELECT json_agg(json_build_array(
                      ja.skill_id, ja.judge_id,
                      (SELECT j.delegation_id FROM {judge} j WHERE j.id = ja.judge_id), ja.role))
          FROM {assignment} ja WHERE ja.skill_id = ANY(%(skills)s)),
    'g', (SELECT json_agg(json_build_array(what, grp, x, y)) FROM (
            SELECT 0 AS what, t.markinggroup_id AS grp, g.skill_id AS x, t.judge_id AS y
            FROM {group_judges} t JOIN {group} g ON g.id = t.markinggroup_id
            WHERE g.skill_id = ANY(%(skills)s)
            UNION ALL
            SELECT 1, t.markinggroup_id, t.entry_id, 0
            FROM {group_entries} t JOIN {group} g ON g.id = t.markinggroup_id
            WHERE g.skill_id = ANY(%(skills)s)
            UNION ALL
            SELECT 2, t.markinggroup_id, t.aspect_id, 0
            FROM {group_aspects} t JOIN {group} g ON g.id = t.markinggroup_id
            WHERE g.skill_id = ANY(%(skills)s)) r)
)::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
"""


def _load_sql() -> str:
    qn = connection.ops.quote_name
    return _LOAD_SQL.format(
        skill=qn(Skill._meta.db_table),
        event=qn(Event._meta.db_table),
        programme=qn(Programme._meta.db_table),
        mark=qn(Mark._meta.db_table),
        aspect=qn(Aspect._meta.db_table),
        sub=qn(SubCriterion._meta.db_table),
        criterion=qn(Criterion._meta.db_table),
        entry=qn(Entry._meta.db_table),
        order=qn("order"),
        assignment=qn(JudgeAssignment._meta.db_table),
        judge=qn(Judge._meta.db_table),
        group=qn(MarkingGroup._meta.db_table),
        group_judges=qn(MarkingGroup.judges.through._meta.db_table),
        group_entries=qn(MarkingGroup.entries.through._meta.db_table),
        group_aspects=qn(MarkingGroup.aspects.through._meta.db_table),
    )


def _load_postgresql(skill_ids: list[int]) -> SkillData:
    with connection.cursor() as cursor:
        cursor.execute(
            _load_sql(),
            {"skills": skill_ids, "trim_from": rules.TRIM_FROM, "lcm": LCM},
        )
        rows = cursor.fetchall()
    # The document is the one row with a first column (UNION ALL promises no order).
    document = next((row[0] for row in rows if row[0] is not None), None)
    data = _from_document(json.loads(document) if document else {})
    marks = data.marks
    for row in rows:
        if row[0] is not None:
            continue
        (_, entry_id, m_aspects, m_cents, j_aspects, j_scores, part) = row[:7]
        odd_d, odd_n, flagged, judges = row[7:]
        parts: dict[int, int] = {LCM: int(part)} if part else {}
        if odd_d:
            for d, n in zip(odd_d, odd_n, strict=True):
                parts[d] = parts.get(d, 0) + n
        marks[entry_id] = EntryMarks(
            m_aspects=m_aspects,
            m_cents=int(m_cents),
            j_aspects=j_aspects,
            j_scores=int(j_scores),
            j_judges=frozenset(judges) if judges else None,
            j_parts=parts,
            flagged=flagged or [],
        )
    return data


def _from_document(doc: dict[str, Any]) -> SkillData:
    settings = {
        sid: SkillSettings(agg, tol, med, spread)
        for sid, agg, tol, med, spread in doc.get("s") or ()
    }
    aspects: dict[int, rules.AspectRule] = {}
    aspect_order: dict[int, list[int]] = defaultdict(list)
    for aid, sid, code, kind, max_mark in doc.get("a") or ():
        aspects[aid] = rules.AspectRule(aid, code, kind, Decimal(max_mark))
        aspect_order[sid].append(aid)
    entries: dict[int, tuple[int, str, int, str]] = {}
    by_skill: dict[int, list[int]] = defaultdict(list)
    for eid, sid, no, did, status in doc.get("e") or ():
        entries[eid] = (sid, no, did, status)
        by_skill[sid].append(eid)
    skill_panels = panels.panels_from_rows(settings, doc.get("j") or (), doc.get("g") or ())
    return SkillData(settings, aspects, aspect_order, entries, by_skill, {}, skill_panels)


# -- elsewhere: the ORM and Python ---------------------------------------------------------


def _load_orm(skill_ids: list[int]) -> SkillData:
    settings = {
        sid: SkillSettings(agg, tol, med, spread)
        for sid, agg, tol, med, spread in Skill.objects.filter(pk__in=skill_ids).values_list(
            "id",
            "judgement_aggregation",
            "discrepancy_tolerance",
            "event__programme__scale_median",
            "event__programme__scale_spread",
        )
    }
    aspects: dict[int, rules.AspectRule] = {}
    aspect_order: dict[int, list[int]] = defaultdict(list)
    for aid, sid, code, kind, max_mark in (
        Aspect.objects.filter(skill_id__in=skill_ids)
        .order_by(
            "skill_id",
            "sub_criterion__criterion__order",
            "sub_criterion__criterion__code",
            "sub_criterion__order",
            "sub_criterion__code",
            "order",
            "code",
        )
        .values_list("id", "skill_id", "code", "kind", "max_mark")
    ):
        aspects[aid] = rules.AspectRule(aid, code, kind, max_mark)
        aspect_order[sid].append(aid)
    entries: dict[int, tuple[int, str, int, str]] = {}
    by_skill: dict[int, list[int]] = defaultdict(list)
    for eid, sid, no, did, status in (
        Entry.objects.filter(skill_id__in=skill_ids)
        .order_by()
        .values_list("id", "skill_id", "competitor_no", "delegation_id", "status")
    ):
        entries[eid] = (sid, no, did, status)
        by_skill[sid].append(eid)
    marks = summarise(
        Mark.objects.filter(skill_id__in=skill_ids)
        .order_by()
        .values_list("entry_id", "aspect_id", "judge_id", "skill_id", "value"),
        settings,
        aspects,
    )
    return SkillData(settings, aspects, aspect_order, entries, by_skill, marks)


def summarise(
    rows: Iterable[tuple[int, int, int | None, int, Decimal]],
    settings: dict[int, SkillSettings],
    aspects: dict[int, rules.AspectRule],
) -> dict[int, EntryMarks]:
    """Entry id → ``EntryMarks`` from the marks themselves (entry, aspect,
    judge, skill, value), with the rules' own ``JudgementScores``: what the
    PostgreSQL statement computes, the plain way."""
    m_cents: dict[int, dict[int, int]] = defaultdict(dict)
    scores: dict[tuple[int, int], dict[int | None, int]] = defaultdict(dict)
    skill_of: dict[int, int] = {}
    for entry_id, aspect_id, judge_id, skill_id, value in rows:
        skill_of[entry_id] = skill_id
        if aspects[aspect_id].kind == rules.MEASUREMENT:
            m_cents[entry_id][aspect_id] = rules.cents(value)
        else:
            scores[(entry_id, aspect_id)][judge_id] = int(value)
    out: dict[int, EntryMarks] = {}
    for entry_id in skill_of:
        given = m_cents.get(entry_id, {})
        out[entry_id] = EntryMarks(m_aspects=len(given), m_cents=sum(given.values()))
    scorers: dict[int, set[frozenset]] = defaultdict(set)
    for (entry_id, aspect_id), by_judge in scores.items():
        marks, conf = out[entry_id], settings[skill_of[entry_id]]
        summary = rules.JudgementScores.of(by_judge.values())
        if conf.aggregation == rules.TRIMMED and summary.count >= rules.TRIM_FROM:
            kept_total, kept_count = summary.total - summary.low - summary.high, summary.count - 2
        else:
            kept_total, kept_count = summary.total, summary.count
        marks.j_aspects += 1
        marks.j_scores += summary.count
        part = rules.cents(aspects[aspect_id].max_mark) * kept_total
        marks.j_parts[kept_count] = marks.j_parts.get(kept_count, 0) + part
        if rules.is_discrepant(summary, conf.tolerance):
            marks.flagged.append(aspect_id)
        scorers[entry_id].add(frozenset(by_judge))
    for entry_id, sets in scorers.items():
        if len(sets) == 1:
            out[entry_id].j_judges = next(iter(sets))
    return out
