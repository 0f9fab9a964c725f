"""scoring.rules against docs/scoring.md, checked two ways:

* hand-made examples with known answers;
* property-based tests comparing the rules with ``Naive``, a deliberately
  plain re-implementation of §3 written here from the text (sorted lists,
  ``statistics``, a 100-digit Decimal context) and sharing no code with
  scoring.rules.

No database: the rules are pure functions.
"""

from __future__ import annotations

import itertools
import statistics
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from scoring import rules
from scoring.rules import AspectRule, JudgementScores

# -- the independent implementation ------------------------------------------------


class Naive:
    """docs/scoring.md read literally."""

    @staticmethod
    def judgement_mark(max_mark: Decimal, scores: list[int], aggregation: str) -> Fraction:
        kept = sorted(scores)
        if aggregation == "trimmed" and len(kept) >= 5:
            kept = kept[1:-1]
        m = Fraction(sum(kept), len(kept))
        return Fraction(str(max_mark)) * m / 3

    @staticmethod
    def total(aspects, m_marks: dict, j_scores: dict, aggregation: str) -> Fraction:
        total = Fraction(0)
        for value in m_marks.values():
            total += Fraction(str(value))
        for aid, scores in j_scores.items():
            total += Naive.judgement_mark(aspects[aid].max_mark, scores, aggregation)
        return total

    @staticmethod
    def final(total: Fraction) -> Decimal:
        # Enough digits that the quotient is exact or far from any tie:
        # totals here have denominators of a few thousand at most.
        with localcontext() as ctx:
            ctx.prec = 100
            exact = Decimal(total.numerator) / Decimal(total.denominator)
            return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @staticmethod
    def ranks(finals: list[Decimal]) -> list[int]:
        return [1 + sum(1 for other in finals if other > f) for f in finals]

    @staticmethod
    def scale(finals: list[Decimal], c: int = 700, spread: int = 30) -> list[int]:
        values = [Fraction(str(f)) for f in finals]
        med = statistics.median(values)
        mad = statistics.median([abs(v - med) for v in values])
        with localcontext() as ctx:
            ctx.prec = 100
            if mad != 0:
                d = Decimal("1.4826") * (Decimal(mad.numerator) / Decimal(mad.denominator))
            else:
                var = statistics.pvariance(values)  # exact on Fractions
                if var == 0:
                    return [c] * len(values)
                d = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
            out = []
            for v in values:
                x = Decimal(v.numerator) / Decimal(v.denominator) - Decimal(
                    med.numerator
                ) / Decimal(med.denominator)
                s = Decimal(c) + Decimal(spread) * x / d
                s = min(max(s, Decimal(0)), Decimal(1000))
                # Snap to 40 places first: an exact half computed through an
                # inexact square root lands within 1e-90 of .5, not on it.
                s = s.quantize(Decimal("1e-40"), rounding=ROUND_HALF_EVEN)
                out.append(int(s.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
            return out


# -- hand-made examples -------------------------------------------------------------------


def test_round_half_up_examples():
    assert rules.final_score(Fraction(85125, 1000)) == Decimal("85.13")
    assert rules.final_score(Fraction(85124999, 1000000)) == Decimal("85.12")
    assert rules.final_score(Fraction(1, 3)) == Decimal("0.33")
    assert rules.final_score(Fraction(2, 3)) == Decimal("0.67")
    assert rules.final_score(Fraction(5, 1000)) == Decimal("0.01")
    assert rules.final_score(Fraction(100)) == Decimal("100.00")
    assert str(rules.final_score(Fraction(0))) == "0.00"
    assert rules.round_half_up(Fraction(-1, 2)) == 0  # half up, towards +∞
    assert rules.round_half_up(Fraction(5, 2)) == 3


def test_judgement_mark_examples():
    # mean of 1, 2, 2 = 5/3 → 30 × 5/3 / 3 = 50/3
    assert rules.judgement_mark(Decimal("30"), JudgementScores.of([1, 2, 2]), "mean") == Fraction(
        50, 3
    )
    # trimmed with 5 scores: drop one 0 and one 3 → (3 + 2 + 3)/3 = 8/3
    five = JudgementScores.of([0, 3, 3, 2, 3])
    assert rules.judgement_m(five, "trimmed") == Fraction(8, 3)
    assert rules.judgement_m(five, "mean") == Fraction(11, 5)
    # fewer than 5 scores: plain mean even when trimmed
    assert rules.judgement_m(JudgementScores.of([0, 3, 3, 2]), "trimmed") == 2
    assert rules.judgement_mark(Decimal("7.5"), five, "trimmed") == Fraction(20, 3)


def test_discrepancy_examples():
    assert rules.is_discrepant(JudgementScores.of([1, 3]), 1)
    assert not rules.is_discrepant(JudgementScores.of([1, 2, 2]), 1)
    assert not rules.is_discrepant(JudgementScores.of([0, 3]), 3)
    assert rules.is_discrepant(JudgementScores.of([2, 2, 3]), 0)


def test_rank_examples():
    assert rules.competition_ranks([Decimal(90), Decimal(80), Decimal(80), Decimal(70)]) == [
        1,
        2,
        2,
        4,
    ]
    assert rules.competition_ranks([Decimal(1), Decimal(3), Decimal(3)]) == [3, 1, 1]
    assert rules.competition_ranks([]) == []


def test_scale_examples():
    d = Decimal
    assert rules.scale_scores([d(50), d(50), d(50)], 700, 30) == [700, 700, 700]
    assert rules.scale_scores([d("61.3")], 700, 30) == [700]
    # MAD = 0: population sd of (50, 50, 50, 60) = 10·√3/4 → 700 + 300/4.3301 = 769.28
    assert rules.scale_scores([d(50), d(50), d(50), d(60)], 700, 30) == [700, 700, 700, 769]
    # clamping: sd = 40 with spread 300 → 700 − 750 = −50 → 0 and 700 + 750 → 1000
    assert rules.scale_scores([d(0), d(100), d(100), d(100), d(100)], 700, 300)[0] == 0
    assert rules.scale_scores([d(100), d(0), d(0), d(0), d(0)], 700, 300)[0] == 1000
    # MAD = 15 → D = 22.239
    assert rules.scale_scores([d(100), d(70), d(70), d("30.25")], 700, 30) == [740, 700, 700, 646]


def test_scale_exact_half_rounds_up():
    # med = 5000, MAD = 3000, D = 4447.8; S(5074.13) = 700 + 2223.9/4447.8 = 700.5 exactly.
    finals = [Decimal(x) for x in ("2000", "2000", "2000", "5000", "5074.13", "8000", "8000")]
    assert rules.scale_scores(finals, 700, 30) == [680, 680, 680, 700, 701, 720, 720]
    assert Naive.scale(finals) == [680, 680, 680, 700, 701, 720, 720]


def test_round_half_up_over_sqrt_boundaries():
    f = Fraction
    assert rules.round_half_up_over_sqrt(f(1), f(4)) == 1  # +1/2 → 1
    assert rules.round_half_up_over_sqrt(f(-1), f(4)) == 0  # −1/2 → 0
    assert rules.round_half_up_over_sqrt(f(3), f(4)) == 2  # 1.5 → 2
    assert rules.round_half_up_over_sqrt(f(-3), f(4)) == -1  # −1.5 → −1
    assert rules.round_half_up_over_sqrt(f(-16, 10), f(1)) == -2
    assert rules.round_half_up_over_sqrt(f(0), f(7)) == 0
    assert rules.round_half_up_over_sqrt(f(1), f(2)) == 1  # 0.7071
    assert rules.round_half_up_over_sqrt(f(-1), f(2)) == -1
    assert rules.round_half_up_over_sqrt(f(1), f(5)) == 0  # 0.4472


@given(
    x=st.fractions(min_value=-10_000, max_value=10_000, max_denominator=10_000),
    v=st.fractions(min_value=Fraction(1, 10_000), max_value=10_000, max_denominator=10_000),
)
def test_round_half_up_over_sqrt_matches_bisection(x, v):
    n = rules.round_half_up_over_sqrt(x, v)

    # n is right iff n − 1/2 ≤ x/√v < n + 1/2; compare squares with signs, exactly.
    def le(a: Fraction, x: Fraction) -> bool:  # a ≤ x/√v
        if a <= 0 <= x:
            return True
        if a > 0 >= x:
            return False
        return a * a * v <= x * x if a > 0 else a * a * v >= x * x

    lo, hi = Fraction(2 * n - 1, 2), Fraction(2 * n + 1, 2)
    assert le(lo, x)
    assert not le(hi, x)


# -- properties ------------------------------------------------------------------------------

cents_st = st.integers(min_value=1, max_value=5000)


@st.composite
def skills(draw, max_entries: int = 12):
    """A random scheme and the marks of its entries: complete for every entry,
    some J aspects scored by 5+ judges, few distinct values so ties and
    MAD = 0 happen often."""
    n_aspects = draw(st.integers(1, 8))
    aspects = {}
    for aid in range(1, n_aspects + 1):
        kind = draw(st.sampled_from(["M", "J"]))
        max_mark = Decimal(draw(st.sampled_from([100, 250, 1000, 333, 1]) | cents_st)) / 100
        aspects[aid] = AspectRule(aid, f"A{aid}", kind, max_mark)
    aggregation = draw(st.sampled_from(["mean", "trimmed"]))
    n_entries = draw(st.integers(1, max_entries))
    small = draw(st.booleans())  # few distinct marks → many ties
    entries = []
    for _ in range(n_entries):
        m_marks, j_scores = {}, {}
        for aid, a in aspects.items():
            if a.kind == "M":
                top = int(a.max_mark * 100)
                value = draw(st.sampled_from([0, top]) if small else st.integers(0, top))
                m_marks[aid] = Decimal(value) / 100
            else:
                j_scores[aid] = draw(
                    st.lists(
                        st.sampled_from([2, 3]) if small else st.integers(0, 3),
                        min_size=1,
                        max_size=7,
                    )
                )
        entries.append((m_marks, j_scores))
    return aspects, aggregation, entries


@settings(max_examples=300, deadline=None)
@given(skills())
def test_totals_and_finals_match_naive(case):
    aspects, aggregation, entries = case
    for m_marks, j_scores in entries:
        summaries = {aid: JudgementScores.of(s) for aid, s in j_scores.items()}
        total = rules.entry_total(aspects, m_marks, summaries, aggregation)
        assert total == Naive.total(aspects, m_marks, j_scores, aggregation)
        assert rules.final_score(total) == Naive.final(total)
        for aid, scores in j_scores.items():
            assert rules.judgement_mark(
                aspects[aid].max_mark, summaries[aid], aggregation
            ) == Naive.judgement_mark(aspects[aid].max_mark, scores, aggregation)


@settings(max_examples=300, deadline=None)
@given(skills())
def test_rank_skill_matches_naive(case):
    aspects, aggregation, entries = case
    finals = {}
    for i, (m_marks, j_scores) in enumerate(entries):
        total = Naive.total(aspects, m_marks, j_scores, aggregation)
        finals[i] = Naive.final(total)
    ranked = rules.rank_skill(finals, 700, 30)
    values = list(finals.values())
    assert [ranked[i].rank for i in finals] == Naive.ranks(values)
    assert [ranked[i].scale_score for i in finals] == Naive.scale(values)


finals_st = st.lists(
    st.integers(0, 10_000).map(lambda c: Decimal(c) / 100), min_size=1, max_size=40
)
tied_finals_st = st.lists(
    st.sampled_from([Decimal("50.00"), Decimal("50.01"), Decimal("75.5"), Decimal("99.99")]),
    min_size=1,
    max_size=15,
)


@settings(max_examples=500, deadline=None)
@given(
    finals=finals_st | tied_finals_st,
    c=st.sampled_from([700, 500, 0, 1000]),
    spread=st.sampled_from([30, 1, 100, 700, 5000]),
)
@example(finals=[Decimal(60)] * 5, c=700, spread=30)  # all equal: 700
@example(finals=[Decimal(60)] * 3 + [Decimal(10)], c=700, spread=30)  # MAD = 0
@example(finals=[Decimal(0)] + [Decimal(100)] * 4, c=700, spread=5000)  # clamp 0
@example(finals=[Decimal(100)] + [Decimal(0)] * 4, c=700, spread=5000)  # clamp 1000
def test_scale_and_ranks_match_naive(finals, c, spread):
    assert rules.scale_scores(finals, c, spread) == Naive.scale(finals, c, spread)
    assert rules.competition_ranks(finals) == Naive.ranks(finals)
    scales = rules.scale_scores(finals, c, spread)
    assert all(0 <= s <= 1000 for s in scales)
    # A higher F never gets a lower S.
    pairs = sorted(zip(finals, scales, strict=True))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(pairs))


@settings(max_examples=500, deadline=None)
@given(
    finals=finals_st | tied_finals_st,
    c=st.sampled_from([700, 500, 0, 1000]),
    spread=st.sampled_from([30, 1, 100, 700, 5000]),
)
@example(finals=[Decimal(60)] * 3 + [Decimal(10)], c=700, spread=30)  # MAD = 0
@example(finals=[Decimal("50.00"), Decimal("50.01")], c=700, spread=30)
def test_cents_ranking_matches_naive(finals, c, spread):
    """The integer path the results engine takes gives the naive figures."""
    cents = [rules.cents(f) for f in finals]
    assert rules.scale_scores_cents(cents, c, spread) == Naive.scale(finals, c, spread)
    ranked = rules.rank_skill_cents(dict(enumerate(cents)), c, spread)
    assert [ranked[i].rank for i in range(len(cents))] == Naive.ranks(finals)
    for i, f in enumerate(finals):
        assert ranked[i].final_score == f
        assert str(ranked[i].final_score) == str(rules.round_half_up(f, 2))


@settings(max_examples=300, deadline=None)
@given(skills())
def test_final_cents_matches_naive(case):
    aspects, aggregation, entries = case
    for m_marks, j_scores in entries:
        total = Naive.total(aspects, m_marks, j_scores, aggregation)
        assert rules.cents_decimal(rules.final_cents(total)) == Naive.final(total)
        assert str(rules.cents_decimal(rules.final_cents(total))) == str(rules.final_score(total))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([Decimal("70.00"), Decimal("80.5")]), min_size=1, max_size=9))
def test_mad_zero_uses_population_sd(finals):
    values = [Fraction(f) for f in finals]
    med = statistics.median(values)
    assume(statistics.median([abs(v - med) for v in values]) == 0)
    assert rules.scale_spread_squared(values) == statistics.pvariance(values)
    if len(set(finals)) == 1:
        assert rules.scale_scores(finals, 700, 30) == [700] * len(finals)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=9), st.integers(0, 3))
def test_discrepancy_matches_naive(scores, tolerance):
    assert rules.is_discrepant(JudgementScores.of(scores), tolerance) == (
        max(scores) - min(scores) > tolerance
    )


def test_cents_refuses_more_than_two_places():
    with pytest.raises(ValueError):
        rules.cents(Decimal("1.005"))
    assert rules.cents(Decimal("12.30")) == 1230
