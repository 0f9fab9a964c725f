"""Results of a skill: totals, final scores, ranks, scale scores, what is
missing and which judgement aspects are flagged (DESIGN.md §3, issue 3 #5).

The arithmetic is ``scoring.rules`` (pure, exact); this module only loads the
data with a fixed number of queries whatever the size of the skill:

1. the skills' settings (aggregation, tolerance, the programme's constants);
2. their aspects;
3. their entries;
4. their marks, grouped per (entry, aspect) in SQL: count, sum, min, max and
   (on PostgreSQL) the judges who scored; a J aspect's three-odd scores come
   back as one row, which is all the rules need (mean, trimmed mean, spread);
5. the expected judges of each J (entry, aspect): ``panels.expected_judgement_judges``
   (a fixed number of queries per skill);
6. judge codes, only when some expected judge has not scored.

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
* Ranks are on F, the final score rounded to 2 places (DESIGN §3.5 "rank on
  F"): entries whose F are equal share a rank even if their exact totals
  differ in the third decimal.
* The J aggregate uses every stored score of the (entry, aspect), including
  one from a judge no longer expected (the mark service refused writes from
  unassigned judges when they were made).

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


# (entry_id, aspect_id, count, sum, min, max, J judge ids "7,9,12" or None);
# values in hundredths
MarkGroup = tuple[int, int, int, int, int, int, str | None]


def _mark_groups(skill_ids: list[int]) -> Iterable[MarkGroup]:
    """One row per (entry, aspect) with marks. On PostgreSQL the grouping is
    done by the database (a third of the rows to transfer) in hand-written SQL
    returning integers (hundredths): parsing half a million numerics and
    running Django's array converters cost more than the aggregate itself.
    Elsewhere (the SQLite quick start) the grouping is done in Python, same
    shape."""
    marks = Mark.objects.filter(skill_id__in=skill_ids).order_by()
    if connection.vendor != "postgresql":
        return _group_in_python(marks.values_list("entry_id", "aspect_id", "judge_id", "value"))
    table = connection.ops.quote_name(Mark._meta.db_table)
    sql = (
        "SELECT entry_id, aspect_id, COUNT(*)::int, (SUM(value) * 100)::bigint,"
        " (MIN(value) * 100)::int, (MAX(value) * 100)::int,"
        # Judge ids of J marks only, as text: parsing 100,000s of int arrays
        # costs more in psycopg than splitting the strings that are needed.
        " string_agg(judge_id::text, ',') FILTER (WHERE kind = 'J')"
        f" FROM {table} WHERE skill_id = ANY(%s) GROUP BY entry_id, aspect_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(skill_ids)])
        rows = cursor.fetchall()
    # Marks have at most 2 places (the column's scale), so ×100 is exact.
    return rows


def _group_in_python(rows: Iterable[tuple[int, int, int, Decimal]]) -> list[MarkGroup]:
    groups: dict[tuple[int, int], list[tuple[int, Decimal]]] = defaultdict(list)
    for entry_id, aspect_id, judge_id, value in rows:
        groups[(entry_id, aspect_id)].append((judge_id, value))
    out: list[MarkGroup] = []
    for (entry_id, aspect_id), marks in groups.items():
        values = [rules.cents(v) for _j, v in marks]
        out.append(
            (
                entry_id,
                aspect_id,
                len(values),
                sum(values),
                min(values),
                max(values),
                ",".join(str(j) for j, _v in marks),
            )
        )
    return out


def compute_skill(skill: Skill) -> SkillResults:
    """The results of one skill, computed now from its marks (nothing stored)."""
    return compute_skills([skill])[skill.pk]


def compute_skills(skills: Iterable[Skill | int]) -> dict[int, SkillResults]:
    """Results of several skills with the same handful of queries as one
    (plus the panel's few queries per skill)."""
    skill_ids = sorted({s if isinstance(s, int) else s.pk for s in skills})
    if not skill_ids:
        return {}
    now = timezone.now()
    settings = {
        sid: _SkillSettings(agg, tol, med, spread)
        for sid, agg, tol, med, spread in Skill.objects.filter(pk__in=skill_ids).values_list(
            "id",
            "judgement_aggregation",
            "discrepancy_tolerance",
            "event__programme__scale_median",
            "event__programme__scale_spread",
        )
    }

    aspects: dict[int, rules.AspectRule] = {}
    aspect_order: dict[int, list[int]] = defaultdict(list)  # skill → aspect ids in scheme order
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

    entries: dict[int, tuple[int, str, int, str]] = {}  # id → (skill, no, delegation, status)
    for eid, sid, no, did, status in (
        Entry.objects.filter(skill_id__in=skill_ids)
        .order_by()
        .values_list("id", "skill_id", "competitor_no", "delegation_id", "status")
    ):
        entries[eid] = (sid, no, did, status)

    # Per entry: M values, J score summaries, who scored each J aspect.
    measurement: dict[int, dict[int, int]] = defaultdict(dict)  # in hundredths
    judgement: dict[int, dict[int, rules.JudgementScores]] = defaultdict(dict)
    scorers: dict[tuple[int, int], str] = {}
    for eid, aid, n, s, lo, hi, judges in _mark_groups(skill_ids):
        aspect = aspects.get(aid)
        if aspect is None or eid not in entries:
            continue
        if aspect.kind == rules.MEASUREMENT:
            measurement[eid][aid] = s
        else:
            # J scores are whole numbers 0–3 (a database constraint).
            judgement[eid][aid] = rules.JudgementScores(n, s // 100, lo // 100, hi // 100)
            scorers[(eid, aid)] = judges or ""

    by_skill: dict[int, list[int]] = defaultdict(list)
    for eid, (sid, *_rest) in entries.items():
        by_skill[sid].append(eid)

    # Missing marks, as (aspect id, judge id or None); judge codes fetched once.
    missing_ids: dict[int, list[tuple[int, int | None]]] = {}
    for sid in skill_ids:
        expected = panels.expected_judgement_judges(sid)
        for eid in by_skill.get(sid, ()):
            if entries[eid][3] != Entry.Status.REGISTERED:
                continue
            gaps: list[tuple[int, int | None]] = []
            m_marks, j_marks = measurement.get(eid, {}), judgement.get(eid, {})
            for aid in aspect_order.get(sid, ()):
                if aspects[aid].kind == rules.MEASUREMENT:
                    if aid not in m_marks:
                        gaps.append((aid, None))
                    continue
                want = expected.get((eid, aid), frozenset())
                if want:
                    got = scorers.get((eid, aid))
                    lacking = want.difference(map(int, got.split(","))) if got else want
                    gaps.extend((aid, j) for j in lacking)
                elif aid not in j_marks:
                    gaps.append((aid, None))
            missing_ids[eid] = gaps
    judge_codes: dict[int, str] = {}
    wanted_judges = {j for gaps in missing_ids.values() for _a, j in gaps if j is not None}
    if wanted_judges:
        judge_codes = dict(Judge.objects.filter(pk__in=wanted_judges).values_list("id", "code"))

    results: dict[int, SkillResults] = {}
    for sid in skill_ids:
        conf = settings[sid]
        outcomes: dict[int, dict] = {}
        finals: dict[int, Decimal] = {}
        for eid in by_skill.get(sid, ()):
            _sid, no, did, status = entries[eid]
            m_marks, j_marks = measurement.get(eid, {}), judgement.get(eid, {})
            total = (
                rules.entry_total_cents(aspects, m_marks, j_marks, conf.aggregation)
                if (m_marks or j_marks)
                else None
            )
            flagged = tuple(
                aid
                for aid in aspect_order.get(sid, ())
                if aid in j_marks and rules.is_discrepant(j_marks[aid], conf.tolerance)
            )
            gaps = missing_ids.get(eid, [])
            ranked = status == Entry.Status.REGISTERED
            complete = ranked and not gaps
            if complete:
                finals[eid] = rules.final_score(total if total is not None else Fraction(0))
            missing = tuple(
                sorted(
                    (Missing(aspects[a].code, judge_codes.get(j) if j else None) for a, j in gaps),
                    key=lambda m: (m.aspect_code, m.judge_code or ""),
                )
            )
            outcomes[eid] = dict(
                entry_id=eid,
                competitor_no=no,
                delegation_id=did,
                status=status,
                raw_total=total,
                complete=complete,
                missing=missing,
                discrepancies=flagged,
            )
        ranked_scores = rules.rank_skill(finals, conf.median_const, conf.spread)
        built = []
        for eid, fields in outcomes.items():
            r = ranked_scores.get(eid)
            built.append(
                EntryOutcome(
                    **fields,
                    final_score=r.final_score if r else None,
                    rank=r.rank if r else None,
                    scale_score=r.scale_score if r else None,
                )
            )
        built.sort(key=_display_order)
        results[sid] = SkillResults(
            skill_id=sid,
            computed_at=now,
            entries=tuple(built),
            aspect_codes={aid: aspects[aid].code for aid in aspect_order.get(sid, ())},
        )
    return results


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
