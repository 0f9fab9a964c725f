"""Results of a skill: totals, final scores, ranks, scale scores, what is
missing and which judgement aspects are flagged (docs/scoring.md).

The arithmetic is ``scoring.rules`` (pure, exact); this module only loads the
data with a fixed number of queries whatever the size or number of skills:

1. the skills' settings (aggregation, tolerance, the programme's constants);
2. their aspects;
3. their entries;
4. their marks, summarised per entry by one SQL statement on PostgreSQL
   (``_SUMMARY_SQL``; in Python elsewhere, same result): the M marks' count
   and sum, and per judgement (entry, aspect) the count/sum/min/max of the
   scores reduced in the database to the rules' kept total and count and the
   discrepancy flag, then summed per entry over each kept count; plus the
   number of J scores of the entry and the judges who gave them. About two
   integer rows per entry come back instead of one row per (entry, aspect);
5. the panels of all the skills (``panels.load_panels``, two queries), from
   which ``panels.expected_by_entry`` gives each ranked entry's expected
   judges: one set for all its J aspects, plus any aspect-specific extras;
6. only for entries whose gaps the summary cannot tell (some but not all
   marks of a kind in, or J aspects scored by different judges): their marks;
7. judge codes, only when some expected judge has not scored.

What is missing is decided from counts where they are exact: an entry with
every M aspect marked and every J aspect scored by the same set P of judges
(one score per judge and aspect, a database constraint, so "scores = |P| ×
aspects" proves it) misses, on aspect a, expected(a) − P. That is the case of
every complete entry, so a fully marked event never reads a mark row.

Decisions (documented here because pages, sign-off and awards rely on them):

* An entry is **ranked** when its status is ``registered``; absent and
  withdrawn entries get no final score, rank or scale score and are reported
  with their status (a partial ``raw_total`` of any marks they have is kept).
* An entry is **complete** when every M aspect has its mark and every
  expected judge has scored every J aspect (a J aspect with no expected judge
  and no score is missing too: nobody can mark it, a panel problem).
  An **incomplete** ranked entry gets no final score, rank or scale score —
  a rank on a partial total would mislead — but shows its partial exact
  ``raw_total`` and the list of what is missing (aspect code, judge code or
  None for an M mark). Ranks and scale scores are therefore computed over
  the complete ranked entries; once every mark is in, that is all of them.
* Ranks are on F, the final score rounded to 2 places (docs/scoring.md "rank on
  F"): entries whose F are equal share a rank even if their exact totals
  differ in the third decimal.
* The J aggregate uses every stored score of the (entry, aspect), including
  one from a judge no longer expected (the mark service refused writes from
  unassigned judges when they were made); such a score does not stand in
  for an expected judge's missing one.

Staleness: ``recompute_skill`` stores ``EntryResult`` rows and stamps
``SkillMarking.results_computed_at``. A mark write should clear that stamp
(or call ``recompute_skill`` in its transaction); ``results_for`` also
recomputes when a mark was updated after the stamp or when the stored rows no
longer match the entries' statuses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from competitions.models import Skill
from teams.models import Entry, Judge

from . import panels, rules
from .models import Aspect, EntryResult, Mark, SkillMarking

RAW_TOTAL_PLACES = 6  # EntryResult.raw_total keeps 6 places (audit display)


@dataclass(frozen=True, slots=True)
class Missing:
    """A mark not given yet: an M aspect (judge_code None), or one expected
    judge's score of a J aspect (judge_code None if nobody may score it)."""

    aspect_code: str
    judge_code: str | None

    def __str__(self) -> str:
        return f"{self.aspect_code}/{self.judge_code}" if self.judge_code else self.aspect_code


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    entry_id: int
    competitor_no: str
    delegation_id: int
    status: str
    raw_total: Fraction | None  # exact sum of the marks present (None: no marks at all)
    final_score: Decimal | None  # only for complete ranked entries
    rank: int | None
    scale_score: int | None
    complete: bool
    missing: tuple[Missing, ...] = ()
    discrepancies: tuple[int, ...] = ()  # aspect ids of flagged J aspects

    @property
    def ranked(self) -> bool:
        """Takes part in the ranking (registered, not absent or withdrawn)."""
        return self.status == Entry.Status.REGISTERED

    @property
    def raw_total_decimal(self) -> Decimal | None:
        """The exact total shown to 6 places (rounded half up), for audits."""
        if self.raw_total is None:
            return None
        return rules.round_half_up(self.raw_total, RAW_TOTAL_PLACES)


@dataclass(frozen=True)
class SkillResults:
    skill_id: int
    computed_at: datetime
    # Ranked by rank (then competitor number); then incomplete registered
    # entries; then absent / withdrawn ones.
    entries: tuple[EntryOutcome, ...]
    aspect_codes: dict[int, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every mark of every ranked entry is in (sign-off needs this)."""
        return all(e.complete for e in self.entries if e.ranked)

    @property
    def discrepancies(self) -> list[tuple[int, int]]:
        """(entry_id, aspect_id) of every flagged J aspect of a ranked entry."""
        return [(e.entry_id, a) for e in self.entries if e.ranked for a in e.discrepancies]

    @property
    def missing_count(self) -> int:
        return sum(len(e.missing) for e in self.entries if e.ranked)

    def by_entry(self) -> dict[int, EntryOutcome]:
        return {e.entry_id: e for e in self.entries}


# -- loading ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SkillSettings:
    aggregation: str
    tolerance: int
    median_const: int
    spread: int


@dataclass(slots=True)
class _EntryMarks:
    """What the rules need of one entry's marks, summed per entry.

    J marks are kept as integers over a few divisors: a J mark is
    max_mark × kept_total / (3 × kept_count) (kept_total / kept_count being
    the mean or trimmed mean of its scores), so the J part of the total is
    Σ over kept_count d of (Σ max_mark_cents × kept_total) / (300 d); the
    database sums each numerator, Python makes one Fraction per entry.
    """

    m_aspects: int = 0  # M aspects with a mark
    m_cents: int = 0  # their sum, in hundredths
    j_aspects: int = 0  # J aspects with at least one score
    j_scores: int = 0  # J scores in all
    j_judges: frozenset[int] = frozenset()  # judges who gave some J score
    by_divisor: dict[int, int] = field(default_factory=dict)
    flagged: list[int] = field(default_factory=list)  # discrepant J aspects

    def total(self) -> Fraction | None:
        """The exact sum of the marks given (None: no mark at all); the
        same value as ``rules.entry_total_cents`` of the same marks."""
        if not (self.m_aspects or self.j_aspects):
            return None
        lcm = math.lcm(*self.by_divisor) if self.by_divisor else 1
        numerator = self.m_cents * 3 * lcm
        for divisor, part in self.by_divisor.items():
            numerator += part * (lcm // divisor)
        return Fraction(numerator, 300 * lcm)

    def uniform_judges(self) -> bool:
        """Every J aspect with scores was scored by exactly ``j_judges``.

        Exact, from counts: one score per (entry, aspect, judge) (a database
        constraint), so each aspect has at most |j_judges| scores; the sum
        over the aspects reaches |j_judges| × aspects only if each has them all.
        """
        return self.j_scores == len(self.j_judges) * self.j_aspects


_NO_MARKS = _EntryMarks()  # shared, read only: an entry without marks

# The whole of it in one statement on PostgreSQL. Per judgement (entry,
# aspect): count, sum, min, max of the scores, from which the rules' kept
# total and count (mean, or trimmed mean from TRIM_FROM scores on) and the
# discrepancy flag; then summed per (entry, kept count). Per entry: the M
# marks' count and sum, the number of J scores and the judges who gave them.
# Integers throughout (marks have 2 places, J scores are 0–3: ×100 and the
# casts are exact). Returns ~2 rows per entry instead of one per (entry,
# aspect): moving and parsing 250,000 rows cost more than the aggregate.
# Rows: (entry_id, divisor, aspects, numerator, J scores, flagged, judges);
# divisor 0 is the entry's row (M aspects marked, M cents, J scores, judges):
# its count of M marks is the number of M aspects marked because there is one
# M mark per (entry, aspect), a database constraint. 'M' and 'J' are the
# stored values of AspectKind.
# Grouping by (skill, entry[, aspect]) rather than by entry lets PostgreSQL
# read the marks in the order of the (skill, entry) index and only sort each
# entry's ~120 marks, instead of sorting or hashing half a million rows.
_SUMMARY_SQL = """
WITH conf (skill_id, trimmed, tolerance) AS (
    SELECT * FROM unnest(%(skills)s::bigint[], %(trimmed)s::boolean[], %(tolerance)s::int[])
), j AS (
    SELECT skill_id, entry_id, aspect_id, COUNT(*)::int AS n, SUM(value)::int AS total,
           MIN(value)::int AS low, MAX(value)::int AS high
    FROM {mark} WHERE skill_id = ANY(%(skills)s) AND kind = 'J'
    GROUP BY skill_id, entry_id, aspect_id
), kept AS (
    SELECT j.skill_id, j.entry_id, j.aspect_id, (a.max_mark * 100)::bigint AS max_cents,
           CASE WHEN conf.trimmed AND j.n >= %(trim_from)s THEN j.n - 2 ELSE j.n END AS divisor,
           CASE WHEN conf.trimmed AND j.n >= %(trim_from)s THEN j.total - j.low - j.high
                ELSE j.total END AS kept_total,
           j.high - j.low > conf.tolerance AS flagged
    FROM j JOIN {aspect} a ON a.id = j.aspect_id JOIN conf ON conf.skill_id = j.skill_id
)
SELECT entry_id, divisor, COUNT(*)::int, SUM(max_cents * kept_total)::bigint, NULL::int,
       array_agg(aspect_id) FILTER (WHERE flagged), NULL::bigint[]
FROM kept GROUP BY skill_id, entry_id, divisor
UNION ALL
SELECT entry_id, 0, (COUNT(*) FILTER (WHERE kind = 'M'))::int,
       (COALESCE(SUM(value) FILTER (WHERE kind = 'M'), 0) * 100)::bigint,
       (COUNT(*) FILTER (WHERE kind = 'J'))::int, NULL,
       array_agg(DISTINCT judge_id) FILTER (WHERE kind = 'J')
FROM {mark} WHERE skill_id = ANY(%(skills)s) GROUP BY skill_id, entry_id
"""


def _kept(scores: rules.JudgementScores, aggregation: str) -> tuple[int, int]:
    """(kept total, kept count): the scores the (trimmed) mean divides."""
    if aggregation == rules.TRIMMED and scores.count >= rules.TRIM_FROM:
        return scores.total - scores.low - scores.high, scores.count - 2
    return scores.total, scores.count


def _summaries(
    skill_ids: list[int],
    settings: dict[int, _SkillSettings],
    aspects: dict[int, rules.AspectRule],
) -> dict[int, _EntryMarks]:
    """Entry id → ``_EntryMarks`` of every entry with marks in the skills."""
    if connection.vendor != "postgresql":
        return _summaries_in_python(skill_ids, settings, aspects)
    sql = _SUMMARY_SQL.format(
        mark=connection.ops.quote_name(Mark._meta.db_table),
        aspect=connection.ops.quote_name(Aspect._meta.db_table),
    )
    params: dict[str, Any] = {
        "skills": skill_ids,
        "trimmed": [settings[s].aggregation == rules.TRIMMED for s in skill_ids],
        "tolerance": [settings[s].tolerance for s in skill_ids],
        "trim_from": rules.TRIM_FROM,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out: dict[int, _EntryMarks] = {}
    for entry_id, divisor, n_aspects, numerator, j_scores, flagged, judges in rows:
        marks = out.get(entry_id)
        if marks is None:
            marks = out[entry_id] = _EntryMarks()
        if divisor == 0:
            marks.m_aspects, marks.m_cents, marks.j_scores = n_aspects, numerator, j_scores
            if judges:
                marks.j_judges = frozenset(judges)
        else:
            marks.j_aspects += n_aspects
            marks.by_divisor[divisor] = numerator
            if flagged:
                marks.flagged.extend(flagged)
    return out


def _summaries_in_python(
    skill_ids: list[int],
    settings: dict[int, _SkillSettings],
    aspects: dict[int, rules.AspectRule],
) -> dict[int, _EntryMarks]:
    """The same summaries from the marks themselves (the SQLite quick start;
    a test compares both), with the rules' own ``JudgementScores``."""
    m_cents: dict[int, dict[int, int]] = defaultdict(dict)
    scores: dict[tuple[int, int], list[int]] = defaultdict(list)
    judges: dict[int, set[int]] = defaultdict(set)
    skill_of: dict[int, int] = {}
    for entry_id, aspect_id, judge_id, skill_id, value in (
        Mark.objects.filter(skill_id__in=skill_ids)
        .order_by()
        .values_list("entry_id", "aspect_id", "judge_id", "skill_id", "value")
    ):
        skill_of[entry_id] = skill_id
        if aspects[aspect_id].kind == rules.MEASUREMENT:
            m_cents[entry_id][aspect_id] = rules.cents(value)
        else:
            scores[(entry_id, aspect_id)].append(int(value))
            judges[entry_id].add(judge_id)
    out: dict[int, _EntryMarks] = {}
    for entry_id in skill_of:
        given = m_cents.get(entry_id, {})
        out[entry_id] = _EntryMarks(
            m_aspects=len(given),
            m_cents=sum(given.values()),
            j_judges=frozenset(judges.get(entry_id, ())),
        )
    for (entry_id, aspect_id), values in scores.items():
        marks, conf = out[entry_id], settings[skill_of[entry_id]]
        summary = rules.JudgementScores.of(values)
        kept_total, kept_count = _kept(summary, conf.aggregation)
        marks.j_aspects += 1
        marks.j_scores += summary.count
        part = rules.cents(aspects[aspect_id].max_mark) * kept_total
        marks.by_divisor[kept_count] = marks.by_divisor.get(kept_count, 0) + part
        if rules.is_discrepant(summary, conf.tolerance):
            marks.flagged.append(aspect_id)
    return out


# What is missing of an entry, as (aspect id, judge id or None).
Gaps = list[tuple[int, int | None]]


def _gaps_from_counts(
    marks: _EntryMarks,
    expected: panels.ExpectedJudges,
    m_ids: list[int],
    j_ids: list[int],
) -> Gaps | None:
    """The entry's missing marks from its summary alone, or None when the
    counts cannot tell which marks are missing (then ``_gaps_from_marks``).

    They can when each kind is all there or all absent, and the J aspects
    were all scored by the same judges (``uniform_judges``): the case of
    every complete entry, so a complete event needs no per-mark detail."""
    gaps: Gaps = []
    if marks.m_aspects != len(m_ids):
        if marks.m_aspects:
            return None
        gaps.extend((a, None) for a in m_ids)
    if marks.j_aspects == len(j_ids) and marks.uniform_judges():
        present = marks.j_judges
        if not expected.extra:
            lacking = expected.common - present
            if lacking:
                gaps.extend((a, j) for a in j_ids for j in lacking)
        else:
            for a in j_ids:
                gaps.extend((a, j) for j in expected.for_aspect(a) - present)
    elif marks.j_aspects == 0:
        for a in j_ids:
            want = expected.for_aspect(a)
            if want:
                gaps.extend((a, j) for j in want)
            else:
                gaps.append((a, None))  # nobody may score it: a panel problem
    else:
        return None
    return gaps


def _gaps_from_marks(
    m_marked: set[int],
    j_scorers: dict[int, set[int]],
    expected: panels.ExpectedJudges,
    order: list[int],
    aspects: dict[int, rules.AspectRule],
) -> Gaps:
    """The entry's missing marks, aspect by aspect, from who marked what."""
    gaps: Gaps = []
    for aid in order:
        if aspects[aid].kind == rules.MEASUREMENT:
            if aid not in m_marked:
                gaps.append((aid, None))
            continue
        want = expected.for_aspect(aid)
        got = j_scorers.get(aid)
        if want:
            gaps.extend((aid, j) for j in (want.difference(got) if got else want))
        elif not got:
            gaps.append((aid, None))  # nobody may score it: a panel problem
    return gaps


def compute_skill(skill: Skill) -> SkillResults:
    """The results of one skill, computed now from its marks (nothing stored)."""
    return compute_skills([skill])[skill.pk]


def compute_skills(skills: Iterable[Skill | int]) -> dict[int, SkillResults]:
    """Results of several skills with the same handful of queries as one:
    settings, aspects, entries, panels (2–4), the marks' summary, and only
    when needed the marks of entries whose gaps the summary cannot tell and
    the codes of judges with a missing score."""
    skill_ids = sorted({s if isinstance(s, int) else s.pk for s in skills})
    if not skill_ids:
        return {}
    now = timezone.now()
    settings = _load_settings(skill_ids)
    aspects, aspect_order = _load_aspects(skill_ids)
    entries, by_skill = _load_entries(skill_ids)
    summaries = _summaries(skill_ids, settings, aspects)
    missing_ids = _missing_by_entry(skill_ids, aspects, aspect_order, entries, by_skill, summaries)
    wanted_judges = {j for gaps in missing_ids.values() for _a, j in gaps if j is not None}
    judge_codes: dict[int, str] = (
        dict(Judge.objects.filter(pk__in=wanted_judges).values_list("id", "code"))
        if wanted_judges
        else {}
    )
    position = {aid: i for ids in aspect_order.values() for i, aid in enumerate(ids)}
    return {
        sid: SkillResults(
            skill_id=sid,
            computed_at=now,
            entries=_skill_outcomes(
                [(eid, *entries[eid][1:]) for eid in by_skill.get(sid, ())],
                settings[sid],
                summaries,
                missing_ids,
                aspects,
                judge_codes,
                position,
            ),
            aspect_codes={aid: aspects[aid].code for aid in aspect_order.get(sid, ())},
        )
        for sid in skill_ids
    }


# An entry as the results read it: (id, competitor no, delegation id, status).
_EntryRow = tuple[int, str, int, str]


def _load_settings(skill_ids: list[int]) -> dict[int, _SkillSettings]:
    return {
        sid: _SkillSettings(agg, tol, med, spread)
        for sid, agg, tol, med, spread in Skill.objects.filter(pk__in=skill_ids).values_list(
            "id",
            "judgement_aggregation",
            "discrepancy_tolerance",
            "event__programme__scale_median",
            "event__programme__scale_spread",
        )
    }


def _load_aspects(
    skill_ids: list[int],
) -> tuple[dict[int, rules.AspectRule], dict[int, list[int]]]:
    """Every aspect's rule, and each skill's aspect ids in scheme order."""
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
    return aspects, aspect_order


def _load_entries(
    skill_ids: list[int],
) -> tuple[dict[int, tuple[int, str, int, str]], dict[int, list[int]]]:
    """id → (skill, no, delegation, status), and each skill's entry ids."""
    entries: dict[int, tuple[int, str, int, str]] = {}
    by_skill: dict[int, list[int]] = defaultdict(list)
    for eid, sid, no, did, status in (
        Entry.objects.filter(skill_id__in=skill_ids)
        .order_by()
        .values_list("id", "skill_id", "competitor_no", "delegation_id", "status")
    ):
        entries[eid] = (sid, no, did, status)
        by_skill[sid].append(eid)
    return entries, by_skill


def _missing_by_entry(
    skill_ids: list[int],
    aspects: dict[int, rules.AspectRule],
    aspect_order: dict[int, list[int]],
    entries: dict[int, tuple[int, str, int, str]],
    by_skill: dict[int, list[int]],
    summaries: dict[int, _EntryMarks],
) -> dict[int, Gaps]:
    """Missing marks, as (aspect id, judge id or None), of the ranked entries:
    from the summaries where they tell, else from the marks themselves."""
    skill_panels = panels.load_panels(skill_ids)
    missing_ids: dict[int, Gaps] = {}
    expected: dict[int, panels.ExpectedJudges] = {}
    unresolved: list[int] = []
    for sid in skill_ids:
        order = aspect_order.get(sid, [])
        m_ids = [a for a in order if aspects[a].kind == rules.MEASUREMENT]
        j_ids = [a for a in order if aspects[a].kind != rules.MEASUREMENT]
        ranked = [
            (eid, entries[eid][2])
            for eid in by_skill.get(sid, ())
            if entries[eid][3] == Entry.Status.REGISTERED
        ]
        expected.update(panels.expected_by_entry(skill_panels[sid], j_ids, ranked))
        for eid, _did in ranked:
            gaps = _gaps_from_counts(summaries.get(eid, _NO_MARKS), expected[eid], m_ids, j_ids)
            if gaps is None:
                unresolved.append(eid)
            else:
                missing_ids[eid] = gaps
    if not unresolved:
        return missing_ids
    m_marked: dict[int, set[int]] = defaultdict(set)
    j_scorers: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for eid, aid, jid, kind in (
        Mark.objects.filter(entry_id__in=unresolved)
        .order_by()
        .values_list("entry_id", "aspect_id", "judge_id", "kind")
    ):
        if kind == rules.MEASUREMENT:
            m_marked[eid].add(aid)
        else:
            j_scorers[eid][aid].add(jid)
    for eid in unresolved:
        missing_ids[eid] = _gaps_from_marks(
            m_marked.get(eid, set()),
            j_scorers.get(eid, {}),
            expected[eid],
            aspect_order.get(entries[eid][0], []),
            aspects,
        )
    return missing_ids


def _skill_outcomes(
    skill_entries: list[_EntryRow],
    conf: _SkillSettings,
    summaries: dict[int, _EntryMarks],
    missing_ids: dict[int, Gaps],
    aspects: dict[int, rules.AspectRule],
    judge_codes: dict[int, str],
    position: dict[int, int],
) -> tuple[EntryOutcome, ...]:
    """One skill's entries with their totals, F, ranks and scale scores, in display order."""
    registered = Entry.Status.REGISTERED
    # Per entry: (row, marks summary, exact total, gaps); F of the complete ones.
    rows: list[tuple[_EntryRow, _EntryMarks, Fraction | None, Gaps]] = []
    finals: dict[int, Decimal] = {}
    for row in skill_entries:
        eid, status = row[0], row[3]
        marks = summaries.get(eid, _NO_MARKS)
        total = marks.total()
        gaps = missing_ids.get(eid, [])
        if status == registered and not gaps:
            finals[eid] = rules.final_score(total if total is not None else Fraction(0))
        rows.append((row, marks, total, gaps))
    ranked_scores = rules.rank_skill(finals, conf.median_const, conf.spread)
    built = []
    for (eid, no, did, status), marks, total, gaps in rows:
        r = ranked_scores.get(eid)
        built.append(
            EntryOutcome(
                entry_id=eid,
                competitor_no=no,
                delegation_id=did,
                status=status,
                raw_total=total,
                final_score=r.final_score if r else None,
                rank=r.rank if r else None,
                scale_score=r.scale_score if r else None,
                complete=status == registered and not gaps,
                missing=_missing(gaps, aspects, judge_codes) if gaps else (),
                discrepancies=tuple(sorted(marks.flagged, key=position.__getitem__))
                if marks.flagged
                else (),
            )
        )
    built.sort(key=_display_order)
    return tuple(built)


def _missing(
    gaps: Gaps, aspects: dict[int, rules.AspectRule], judge_codes: dict[int, str]
) -> tuple[Missing, ...]:
    """The gaps for display: by aspect code, then judge code."""
    return tuple(
        sorted(
            (Missing(aspects[a].code, judge_codes.get(j) if j else None) for a, j in gaps),
            key=lambda m: (m.aspect_code, m.judge_code or ""),
        )
    )


def _display_order(e: EntryOutcome) -> tuple:
    group = 0 if e.rank is not None else (1 if e.ranked else 2)
    return (group, e.rank or 0, _natural(e.competitor_no))


def _natural(no: str) -> tuple:
    """Competitor numbers sort as numbers when they are numbers ("2" < "10")."""
    return (0, int(no), no) if no.isdigit() else (1, 0, no)


# -- storing ---------------------------------------------------------------------------


_STORED_FIELDS = [
    "skill",
    "raw_total",
    "final_score",
    "rank",
    "scale_score",
    "complete",
    "missing_marks",
    "discrepancies",
]


def recompute_skill(skill: Skill) -> SkillResults:
    """Compute the skill's results and store them (``EntryResult`` rows, one
    upsert) and the time in ``SkillMarking.results_computed_at``, all in one
    transaction. The skill's marking row is locked first, as the mark service
    does, so a concurrent mark write cannot slip between load and store."""
    with transaction.atomic():
        marking, _created = SkillMarking.objects.select_for_update().get_or_create(skill=skill)
        results = compute_skill(skill)
        rows = [
            EntryResult(
                entry_id=e.entry_id,
                skill_id=skill.pk,
                raw_total=e.raw_total_decimal,
                final_score=e.final_score,
                rank=e.rank,
                scale_score=e.scale_score,
                complete=e.complete,
                missing_marks=len(e.missing),
                discrepancies=len(e.discrepancies),
            )
            for e in results.entries
        ]
        if rows:
            EntryResult.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["entry"],
                update_fields=_STORED_FIELDS,
            )
        EntryResult.objects.filter(skill=skill).exclude(
            entry_id__in=[e.entry_id for e in results.entries]
        ).delete()
        marking.results_computed_at = results.computed_at
        marking.save(update_fields=["results_computed_at"])
    return results


def stored_results(skill: Skill) -> list[EntryResult]:
    """The stored rows, ranked first (by rank, then competitor number)."""
    rows = list(
        EntryResult.objects.filter(skill=skill)
        .select_related("entry", "entry__delegation")
        .order_by(F("rank").asc(nulls_last=True), "entry__competitor_no")
    )
    rows.sort(
        key=lambda r: (
            0 if r.rank is not None else (1 if r.entry.is_ranked else 2),
            r.rank or 0,
            _natural(r.entry.competitor_no),
        )
    )
    return rows


def _stale(skill: Skill, rows: list[EntryResult]) -> bool:
    computed_at = (
        SkillMarking.objects.filter(skill=skill)
        .values_list("results_computed_at", flat=True)
        .first()
    )
    if computed_at is None:
        return True
    if Mark.objects.filter(skill=skill, updated_at__gt=computed_at).exists():
        return True
    statuses = dict(Entry.objects.filter(skill=skill).values_list("id", "status"))
    if set(statuses) != {r.entry_id for r in rows}:
        return True
    for r in rows:
        registered = statuses[r.entry_id] == Entry.Status.REGISTERED
        if r.rank is not None and not registered:
            return True  # withdrawn / absent since
        if registered and not r.complete and r.missing_marks == 0:
            return True  # registered again since
    return False


def results_for(skill: Skill) -> list[EntryResult]:
    """The skill's stored results (``EntryResult`` rows with entry and
    delegation loaded), recomputed first when stale."""
    rows = stored_results(skill)
    if _stale(skill, rows):
        recompute_skill(skill)
        rows = stored_results(skill)
    return rows
