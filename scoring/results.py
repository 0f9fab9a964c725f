"""Results of a skill: totals, final scores, ranks, scale scores, what is
missing and which judgement aspects are flagged (docs/scoring.md).

The arithmetic is ``scoring.rules`` (pure, exact); the data comes from
``scoring.results_data`` with a fixed number of queries whatever the size or
number of skills:

1. the skills' settings, aspects and entries and a summary of each entry's
   marks (one statement on PostgreSQL; four ORM queries elsewhere);
2. the panels of all the skills (``panels.load_panels``, two queries), from
   which ``panels.expected_by_entry`` gives each ranked entry's expected
   judges: one set for all its J aspects, plus any aspect-specific extras;
3. only for entries whose gaps the summary cannot tell (some but not all
   marks of a kind in, or J aspects scored by different judges): their marks;
4. judge codes, only when some expected judge has not scored.

F, ranks and scale scores are computed on F in hundredths (integers,
``rules.rank_skill_cents``): the same figures as the Fraction rules.

What is missing is decided from counts where they are exact: an entry with
every M aspect marked and every J aspect scored by the same set P of judges
(``EntryMarks.j_judges``) misses, on aspect a, expected(a) − P. That is the case of
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

from . import panels, results_data, rules
from .models import EntryResult, Mark, SkillMarking
from .results_data import NO_MARKS, EntryMarks, SkillData

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
        total = self.raw_total
        if total is None:
            return None
        # rules.round_half_up(total, 6), in integers (stored for every entry)
        n = (2 * 10**RAW_TOTAL_PLACES * total.numerator + total.denominator) // (
            2 * total.denominator
        )
        return Decimal(f"{n}e-{RAW_TOTAL_PLACES}")


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


# -- what is missing -------------------------------------------------------------------

# What is missing of an entry, as (aspect id, judge id or None).
Gaps = list[tuple[int, int | None]]


def _gaps_from_counts(
    marks: EntryMarks,
    expected: panels.ExpectedJudges,
    m_ids: list[int],
    j_ids: list[int],
) -> Gaps | None:
    """The entry's missing marks from its summary alone, or None when the
    counts cannot tell which marks are missing (then ``_gaps_from_marks``).

    They can when each kind is all there or all absent, and the J aspects
    were all scored by the same judges (``EntryMarks.j_judges``): the case
    of every complete entry, so a complete event needs no per-mark detail."""
    gaps: Gaps = []
    if marks.m_aspects != len(m_ids):
        if marks.m_aspects:
            return None
        gaps.extend((a, None) for a in m_ids)
    present = marks.j_judges
    if marks.j_aspects == len(j_ids) and present is not None:
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


def _missing_by_entry(data: SkillData, skill_ids: list[int]) -> dict[int, Gaps]:
    """Entry id → its gaps, for the ranked entries of the skills: from the
    summaries where they tell, else from the marks of those entries (one
    query, only when some entry needs it)."""
    skill_panels = data.panels if data.panels is not None else panels.load_panels(skill_ids)
    aspects, entries = data.aspects, data.entries
    registered = Entry.Status.REGISTERED
    missing: dict[int, Gaps] = {}
    expected: dict[int, panels.ExpectedJudges] = {}
    unresolved: list[int] = []
    for sid in skill_ids:
        order = data.aspect_order.get(sid, [])
        m_ids = [a for a in order if aspects[a].kind == rules.MEASUREMENT]
        j_ids = [a for a in order if aspects[a].kind != rules.MEASUREMENT]
        ranked = [
            (eid, entries[eid][2])
            for eid in data.by_skill.get(sid, ())
            if entries[eid][3] == registered
        ]
        skill_expected = panels.expected_by_entry(skill_panels[sid], j_ids, ranked)
        expected.update(skill_expected)
        for eid, _did in ranked:
            gaps = _gaps_from_counts(
                data.marks.get(eid, NO_MARKS), skill_expected[eid], m_ids, j_ids
            )
            if gaps is None:
                unresolved.append(eid)
            else:
                missing[eid] = gaps
    if unresolved:
        _resolve_from_marks(data, unresolved, expected, missing)
    return missing


def _resolve_from_marks(
    data: SkillData,
    unresolved: list[int],
    expected: dict[int, panels.ExpectedJudges],
    missing: dict[int, Gaps],
) -> None:
    """The gaps of ``unresolved`` entries, read mark by mark."""
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
        missing[eid] = _gaps_from_marks(
            m_marked.get(eid, set()),
            j_scorers.get(eid, {}),
            expected[eid],
            data.aspect_order.get(data.entries[eid][0], []),
            data.aspects,
        )


# -- results -------------------------------------------------------------------------


def compute_skill(skill: Skill) -> SkillResults:
    """The results of one skill, computed now from its marks (nothing stored)."""
    return compute_skills([skill])[skill.pk]


def compute_skills(skills: Iterable[Skill | int]) -> dict[int, SkillResults]:
    """Results of several skills with the same handful of queries as one:
    the skills' data (one statement on PostgreSQL, ``results_data``), their
    panels (two), and only when needed the marks of entries whose gaps the
    summary cannot tell and the codes of judges with a missing score."""
    skill_ids = sorted({s if isinstance(s, int) else s.pk for s in skills})
    if not skill_ids:
        return {}
    now = timezone.now()
    data = results_data.load(skill_ids)
    missing = _missing_by_entry(data, skill_ids)
    wanted_judges = {j for gaps in missing.values() for _a, j in gaps if j is not None}
    judge_codes: dict[int, str] = {}
    if wanted_judges:
        judge_codes = dict(Judge.objects.filter(pk__in=wanted_judges).values_list("id", "code"))
    position: dict[int, int] = {}
    return {
        sid: _skill_results(sid, data, missing, judge_codes, position, now) for sid in skill_ids
    }


def _skill_results(
    sid: int,
    data: SkillData,
    missing: dict[int, Gaps],
    judge_codes: dict[int, str],
    position: dict[int, int],
    now: datetime,
) -> SkillResults:
    """One skill's results from its loaded data and gaps: exact totals, F
    (in hundredths), ranks and scale scores of the complete ranked entries."""
    conf = data.settings[sid]
    aspects, entries, summaries = data.aspects, data.entries, data.marks
    registered = Entry.Status.REGISTERED
    rows: list[tuple[int, EntryMarks, Fraction | None, Gaps]] = []
    finals: dict[int, int] = {}
    for eid in data.by_skill.get(sid, ()):
        marks = summaries.get(eid, NO_MARKS)
        total = marks.total()
        gaps = missing.get(eid, _NO_GAPS)
        if not gaps and entries[eid][3] == registered:
            finals[eid] = rules.final_cents(total) if total is not None else 0
        rows.append((eid, marks, total, gaps))
    ranked = rules.rank_skill_cents(finals, conf.median_const, conf.spread)
    built = []
    for eid, marks, total, gaps in rows:
        _sid, no, did, status = entries[eid]
        r = ranked.get(eid)
        flagged: tuple[int, ...] = ()
        if marks.flagged:
            if not position:
                position.update(
                    (aid, i) for ids in data.aspect_order.values() for i, aid in enumerate(ids)
                )
            flagged = tuple(sorted(marks.flagged, key=position.__getitem__))
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
                discrepancies=flagged,
            )
        )
    built.sort(key=_display_order)
    return SkillResults(
        skill_id=sid,
        computed_at=now,
        entries=tuple(built),
        aspect_codes={aid: aspects[aid].code for aid in data.aspect_order.get(sid, ())},
    )


_NO_GAPS: Gaps = []  # shared, read only


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
        marking_id = _lock_marking(skill)
        results = compute_skill(skill)
        if connection.vendor == "postgresql":
            _store_postgresql(marking_id, skill.pk, results)
        else:
            _store_orm(marking_id, skill.pk, results)
    return results


def _lock_marking(skill: Skill) -> int:
    """The id of the skill's SkillMarking, its row locked until the end of
    the transaction (created if missing). One plain statement on PostgreSQL
    when the row exists: the ORM's get_or_create costs more than the lock."""
    if connection.vendor == "postgresql":
        meta = SkillMarking._meta
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn(meta.pk.column)} FROM {qn(meta.db_table)}"
                f" WHERE {qn(meta.get_field('skill').column)} = %s FOR UPDATE",
                [skill.pk],
            )
            row = cursor.fetchone()
        if row:
            return row[0]
    marking, _created = SkillMarking.objects.select_for_update().get_or_create(skill=skill)
    return marking.pk


def _store_orm(marking_id: int, skill_id: int, results: SkillResults) -> None:
    """Upsert the rows, delete those of entries gone, stamp the time."""
    rows = [
        EntryResult(entry_id=e.entry_id, skill_id=skill_id, **_stored_values(e))
        for e in results.entries
    ]
    if rows:
        EntryResult.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["entry"],
            update_fields=_STORED_FIELDS,
        )
    EntryResult.objects.filter(skill_id=skill_id).exclude(
        entry_id__in=[e.entry_id for e in results.entries]
    ).delete()
    SkillMarking.objects.filter(pk=marking_id).update(results_computed_at=results.computed_at)


def _stored_values(e: EntryOutcome) -> dict[str, object]:
    return {
        "raw_total": e.raw_total_decimal,
        "final_score": e.final_score,
        "rank": e.rank,
        "scale_score": e.scale_score,
        "complete": e.complete,
        "missing_marks": len(e.missing),
        "discrepancies": len(e.discrepancies),
    }


# The same as ``_store_orm`` in one statement: the rows travel as one array
# per column (unnest), the upsert, the delete and the stamp are one WITH.
# Its parts see one snapshot: the delete skips exactly the entries upserted.
_STORE_SQL = """
WITH r AS (
    SELECT * FROM unnest(%(entry)s::bigint[], %(raw_total)s::numeric[],
                         %(final_score)s::numeric[], %(rank)s::int[], %(scale_score)s::int[],
                         %(complete)s::boolean[], %(missing_marks)s::int[],
                         %(discrepancies)s::int[])
        AS r (entry, raw_total, final_score, rank, scale_score, complete, missing_marks,
              discrepancies)
), upserted AS (
    INSERT INTO {table} ({entry}, {skill}, {columns})
    SELECT entry, %(skill)s, {values} FROM r
    ON CONFLICT ({entry}) DO UPDATE SET {skill} = EXCLUDED.{skill}, {updates}
), gone AS (
    DELETE FROM {table} WHERE {skill} = %(skill)s AND {entry} <> ALL(%(entry)s::bigint[])
)
UPDATE {marking} SET {stamp} = %(at)s WHERE {marking_pk} = %(marking)s
"""


def _store_sql() -> str:
    qn = connection.ops.quote_name

    def column(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    names = _STORED_FIELDS[1:]  # all but "skill"
    return _STORE_SQL.format(
        table=qn(EntryResult._meta.db_table),
        entry=column(EntryResult, "entry"),
        skill=column(EntryResult, "skill"),
        columns=", ".join(column(EntryResult, n) for n in names),
        values=", ".join(names),
        updates=", ".join(
            f"{column(EntryResult, n)} = EXCLUDED.{column(EntryResult, n)}" for n in names
        ),
        marking=qn(SkillMarking._meta.db_table),
        stamp=column(SkillMarking, "results_computed_at"),
        marking_pk=qn(SkillMarking._meta.pk.column),
    )


def _store_postgresql(marking_id: int, skill_id: int, results: SkillResults) -> None:
    columns: dict[str, list[object]] = {name: [] for name in _STORED_FIELDS[1:]}
    for e in results.entries:
        for name, value in _stored_values(e).items():
            columns[name].append(value)
    params: dict[str, Any] = {
        **columns,
        "entry": [e.entry_id for e in results.entries],
        "skill": skill_id,
        "at": results.computed_at,
        "marking": marking_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_store_sql(), params)


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
