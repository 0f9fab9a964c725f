"""The scoring rules of docs/scoring.md, as pure functions: no ORM, no floats.

Every mark is a ``Decimal`` (two places, as stored) or an exact ``Fraction``;
every rounding is done on integers (numerator / denominator), so no result
depends on a floating-point or decimal-context precision.

* Judgement aspect: m = mean of the scores (``mean``), or with ``trimmed`` and
  5+ scores the mean after dropping one highest and one lowest;
  mark = max_mark × m / 3.
* Discrepancy: max(scores) − min(scores) > tolerance (all scores, untrimmed).
* Final score F: the exact sum of the aspect marks, rounded half up to 2 places.
* Rank: standard competition ranking on F (the rounded score: two entries
  shown with the same F share a rank), highest first: 1, 2, 2, 4.
* Scale score over the ranked entries of a skill: med = median(F),
  MAD = median(|F − med|), S = median_const + spread × (F − med) / D with
  D = 1.4826 × MAD, or when MAD = 0 the population standard deviation of F;
  S = median_const when that is 0 too. Clamped to 0…1000, rounded half up.

"Half up" is floor(x + 1/2). Marks are never negative, so for F this is the
same as Decimal's ROUND_HALF_UP; for S, rounding and clamping to the integer
bounds 0 and 1000 commute, so the order of the two steps does not matter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

MEASUREMENT = "M"
JUDGEMENT = "J"
MEAN = "mean"
TRIMMED = "trimmed"
# A trimmed mean drops one highest and one lowest score from this many scores on.
TRIM_FROM = 5
# 1.4826 × MAD estimates the standard deviation of normally distributed scores.
MAD_FACTOR = Fraction(14826, 10000)
SCALE_MIN = 0
SCALE_MAX = 1000

Number = Decimal | Fraction | int


@dataclass(frozen=True, slots=True)
class AspectRule:
    """What the rules need of an aspect."""

    id: int
    code: str
    kind: str  # MEASUREMENT or JUDGEMENT
    max_mark: Decimal


@dataclass(frozen=True, slots=True)
class JudgementScores:
    """The judges' scores of one (entry, aspect), summarised: this is all the
    rules need (the mean, the trimmed mean, the spread), and the database can
    compute it with one GROUP BY."""

    count: int
    total: int
    low: int
    high: int

    @classmethod
    def of(cls, scores: Iterable[int]) -> JudgementScores:
        values = [int(s) for s in scores]
        if not values:
            raise ValueError("no judgement scores")
        return cls(len(values), sum(values), min(values), max(values))


# -- exact rounding ---------------------------------------------------------


def round_half_up(x: Number, places: int = 0) -> Decimal:
    """x rounded half up (floor(x·10^places + 1/2)) as an exact Decimal."""
    q = Fraction(x) * 10**places + Fraction(1, 2)
    n = q.numerator // q.denominator  # floor, exact integer arithmetic
    # Built from a string: exact whatever the decimal context precision.
    return Decimal(f"{n}e-{places}") if places else Decimal(n)


def to_fraction(x: Number) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


# -- judgement aspects --------------------------------------------------------


def judgement_m(scores: JudgementScores, aggregation: str) -> Fraction:
    """m: the (possibly trimmed) mean score, 0…3."""
    if aggregation == TRIMMED and scores.count >= TRIM_FROM:
        return Fraction(scores.total - scores.low - scores.high, scores.count - 2)
    return Fraction(scores.total, scores.count)


def judgement_mark(max_mark: Number, scores: JudgementScores, aggregation: str) -> Fraction:
    """mark = max_mark × m / 3."""
    return to_fraction(max_mark) * judgement_m(scores, aggregation) / 3


def is_discrepant(scores: JudgementScores, tolerance: int) -> bool:
    return scores.high - scores.low > tolerance


# -- an entry's total -----------------------------------------------------------


def cents(value: Decimal) -> int:
    """A mark or max mark (at most 2 places, as stored) in hundredths, exactly."""
    scaled = value * 100
    n = int(scaled)
    if n != scaled:
        raise ValueError(f"{value} has more than 2 decimal places")
    return n


def entry_total(
    aspects: Mapping[int, AspectRule],
    measurement: Mapping[int, Decimal],
    judgement: Mapping[int, JudgementScores],
    aggregation: str,
) -> Fraction:
    """The exact sum of the marks given (aspects without marks add nothing)."""
    return entry_total_cents(
        aspects, {a: cents(v) for a, v in measurement.items()}, judgement, aggregation
    )


def entry_total_cents(
    aspects: Mapping[int, AspectRule],
    measurement_cents: Mapping[int, int],
    judgement: Mapping[int, JudgementScores],
    aggregation: str,
) -> Fraction:
    """``entry_total`` with the M marks in hundredths (as the database can
    return them). Same value as ``sum(judgement_mark(...)) + sum(measurement)``,
    but kept in integers over a few denominators (one per number of scores
    averaged) so a skill of thousands of marks costs a handful of Fraction
    operations, not one per mark."""
    m_cents = sum(measurement_cents.values())
    # J mark = (max_mark_cents / 100) × kept_total / (3 × kept_count)
    by_divisor: dict[int, int] = {}
    for aspect_id, s in judgement.items():
        mm = cents(aspects[aspect_id].max_mark)
        if aggregation == TRIMMED and s.count >= TRIM_FROM:
            kept_total, kept_count = s.total - s.low - s.high, s.count - 2
        else:
            kept_total, kept_count = s.total, s.count
        by_divisor[kept_count] = by_divisor.get(kept_count, 0) + mm * kept_total
    total = Fraction(m_cents, 100)
    for count, numerator in by_divisor.items():
        total += Fraction(numerator, 300 * count)
    return total


def final_score(total: Fraction) -> Decimal:
    """F: the exact total rounded half up to 2 places."""
    return round_half_up(total, 2)


def final_cents(total: Fraction) -> int:
    """F in hundredths: floor(100 · total + 1/2), the integer behind
    ``final_score`` (``cents_decimal`` turns it into the same Decimal)."""
    return (200 * total.numerator + total.denominator) // (2 * total.denominator)


def cents_decimal(n: int) -> Decimal:
    """n hundredths as the Decimal ``round_half_up(…, 2)`` gives."""
    return Decimal(f"{n}e-2")


# -- ranking ----------------------------------------------------------------------


def competition_ranks(finals: Sequence[Number]) -> list[int]:
    """Standard competition ranking, highest first: rank = 1 + number of
    strictly higher scores (1, 2, 2, 4). Same order as ``finals``."""
    order = sorted(range(len(finals)), key=lambda i: finals[i], reverse=True)
    ranks = [0] * len(finals)
    for position, i in enumerate(order):
        if position and finals[i] == finals[order[position - 1]]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return ranks


# -- scale score --------------------------------------------------------------------


def median(values: Sequence[Fraction]) -> Fraction:
    if not values:
        raise ValueError("median of nothing")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def _ceil_isqrt(n: int) -> int:
    """The smallest integer k with k² ≥ n (n ≥ 0)."""
    return 0 if n <= 0 else math.isqrt(n - 1) + 1


def round_half_up_over_sqrt(x: Fraction, v: Fraction) -> int:
    """floor(x / √v + 1/2) exactly, for rational x and v > 0.

    x / √v = ±√q with q = x² / v. For a continuous increasing g that takes
    integer values only at integers, floor(g(t)) = floor(g(floor t)) (and the
    same with ceil); applied to √ and to (t ± 1)/2:
      x ≥ 0: floor(√q + 1/2) = (isqrt(floor(4q)) + 1) // 2
      x < 0: floor(−√q + 1/2) = −ceil((2√q − 1)/2) = −(ceil_sqrt(ceil(4q)) // 2)
    All integer arithmetic: no precision to choose, nothing to mis-round, even
    when √v is irrational (population standard deviation) or when the
    quotient is exactly a half (the MAD case, where √v = 1.4826 × MAD).
    """
    if v <= 0:
        raise ValueError("v must be positive")
    q4 = 4 * x * x / v
    if x >= 0:
        return (math.isqrt(q4.numerator // q4.denominator) + 1) // 2
    return -(_ceil_isqrt(-(-q4.numerator // q4.denominator)) // 2)


def scale_spread_squared(finals: Sequence[Fraction]) -> Fraction:
    """D²: (1.4826 × MAD)², or when MAD = 0 the population variance of F.
    Squared so the irrational standard deviation never has to be evaluated."""
    med = median(finals)
    mad = median([abs(f - med) for f in finals])
    if mad:
        return (MAD_FACTOR * mad) ** 2
    mean = sum(finals, Fraction(0)) / len(finals)
    return sum(((f - mean) ** 2 for f in finals), Fraction(0)) / len(finals)


def scale_scores(finals: Sequence[Number], median_const: int, spread: int) -> list[int]:
    """S for each F of the ranked entries of one skill, in the same order."""
    if not finals:
        return []
    values = [to_fraction(f) for f in finals]
    med = median(values)
    v = scale_spread_squared(values)
    if v == 0:  # every F equal
        return [min(max(median_const, SCALE_MIN), SCALE_MAX)] * len(values)
    out = []
    for f in values:
        s = median_const + round_half_up_over_sqrt(spread * (f - med), v)
        out.append(min(max(s, SCALE_MIN), SCALE_MAX))
    return out


# -- one skill --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankedScore:
    final_score: Decimal
    rank: int
    scale_score: int


def _twice_median(ordered: Sequence[int]) -> int:
    """2 × the median of sorted integers (an integer, even for an even count)."""
    mid = len(ordered) // 2
    return 2 * ordered[mid] if len(ordered) % 2 else ordered[mid - 1] + ordered[mid]


def scale_scores_cents(finals: Sequence[int], median_const: int, spread: int) -> list[int]:
    """``scale_scores`` of F given in hundredths, in integers: the same
    numbers (a property test compares them). With F = c/100 and
    M2 = 2 × median(c), F − med = (2c − M2)/200 and, writing m2 for twice
    the median of |2c − M2|, D = 1.4826 × MAD = 14826 · m2 / 4,000,000, so
    spread × (F − med) / D = p / q with p = spread · (2c − M2) · 20000 and
    q = 14826 · m2, rounded half up as (2p + q) // (2q). When MAD = 0 the
    population deviation is irrational in general: ``scale_scores`` then."""
    if not finals:
        return []
    m2_f = _twice_median(sorted(finals))
    m2 = _twice_median(sorted(abs(2 * c - m2_f) for c in finals))
    if not m2:
        return scale_scores([cents_decimal(c) for c in finals], median_const, spread)
    q = 14826 * m2
    out = []
    for c in finals:
        p = spread * (2 * c - m2_f) * 20000
        s = median_const + (2 * p + q) // (2 * q)
        out.append(min(max(s, SCALE_MIN), SCALE_MAX))
    return out


def rank_skill_cents(
    finals: Mapping[int, int], median_const: int, spread: int
) -> dict[int, RankedScore]:
    """``rank_skill`` of F given in hundredths (keyed by entry id): the same
    result, without a Fraction per entry."""
    keys = list(finals)
    values = [finals[k] for k in keys]
    ranks = competition_ranks(values)
    scales = scale_scores_cents(values, median_const, spread)
    return {
        k: RankedScore(final_score=cents_decimal(values[i]), rank=ranks[i], scale_score=scales[i])
        for i, k in enumerate(keys)
    }


def rank_skill(
    finals: Mapping[int, Decimal], median_const: int, spread: int
) -> dict[int, RankedScore]:
    """Rank and scale the final scores of the ranked, complete entries of a
    skill (keyed by entry id)."""
    keys = list(finals)
    values = [finals[k] for k in keys]
    ranks = competition_ranks(values)
    scales = scale_scores(values, median_const, spread)
    return {
        k: RankedScore(final_score=values[i], rank=ranks[i], scale_score=scales[i])
        for i, k in enumerate(keys)
    }
