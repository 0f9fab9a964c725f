"""docs/awards.md on hand-made cases, ties at every boundary, plus properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awards import policies as p
from awards.policies import Ranked, Tally


def ranked(ranks, scale=None):
    return [Ranked(i, r, (scale[i] if scale else None)) for i, r in enumerate(ranks)]


def awards(outcomes):
    return [o.award for o in outcomes]


def titles(outcomes):
    return [o.title for o in outcomes]


def standard_ranks(scores: list[int]) -> list[int]:
    """Standard competition ranking, highest first (1, 2, 2, 4)."""
    return [1 + sum(1 for t in scores if t > s) for s in scores]


# ------------------------------------------------------------ worldskills


def test_worldskills_gold_tie_skips_silver():
    assert awards(p.worldskills(ranked([1, 1, 3, 4]))) == ["gold", "gold", "bronze", None]


def test_worldskills_silver_tie_skips_bronze():
    assert awards(p.worldskills(ranked([1, 2, 2, 4]))) == ["gold", "silver", "silver", None]


def test_worldskills_bronze_tie_shares_bronze():
    assert awards(p.worldskills(ranked([1, 2, 3, 3, 5]))) == [
        "gold",
        "silver",
        "bronze",
        "bronze",
        None,
    ]


def test_worldskills_three_way_gold_tie():
    assert awards(p.worldskills(ranked([1, 1, 1, 4]))) == ["gold", "gold", "gold", None]


def test_worldskills_excellence_at_threshold_not_below_and_never_for_medallists():
    out = p.worldskills(ranked([1, 2, 3, 4, 5, 6], scale=[760, 740, 720, 700, 699, 710]))
    assert awards(out) == ["gold", "silver", "bronze", "excellence", None, "excellence"]


def test_worldskills_threshold_is_a_setting():
    settings = p.PolicySettings(excellence_threshold=720)
    out = p.worldskills(ranked([4, 5], scale=[719, 720]), settings)
    assert awards(out) == [None, "excellence"]


def test_worldskills_no_scale_score_no_excellence():
    assert awards(p.worldskills(ranked([4]))) == [None]


# ------------------------------------------------------------ national


def test_national_excellence_when_2r_equals_n():
    # N = 8: r = 4 → 2r = 8 = N gets 优胜奖; r = 5 → 10 > 8 does not.
    out = p.national(ranked([1, 2, 3, 4, 5, 6, 7, 8]))
    assert awards(out) == ["gold", "silver", "bronze", "excellence", None, None, None, None]


def test_national_odd_n_boundary():
    # N = 9: 2r ≤ 9 ⇔ r ≤ 4.
    out = p.national(ranked(list(range(1, 10))))
    assert awards(out)[3:5] == ["excellence", None]


def test_national_tie_across_the_excellence_boundary():
    # N = 8, ranks 1..3, 4, 4, 6…: both 4s have 2r = 8 ≤ 8.
    out = p.national(ranked([1, 2, 3, 4, 4, 6, 7, 8]))
    assert awards(out) == ["gold", "silver", "bronze", "excellence", "excellence", None, None, None]


def test_national_medallists_get_no_excellence_and_medal_ties_share():
    assert awards(p.national(ranked([1, 1, 3, 4, 5, 6]))) == [
        "gold",
        "gold",
        "bronze",
        None,  # 2·4 = 8 > 6
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("team_size", "last_with_title"),
    [(1, 5), (2, 3), (3, 2), (4, 2)],
)
def test_national_title_cutoffs_by_team_size(team_size, last_with_title):
    out = p.national(ranked(list(range(1, 11))), team_size=team_size)
    assert titles(out) == [r <= last_with_title for r in range(1, 11)]


def test_national_title_tie_at_cutoff_shares_title():
    # individual cut-off r ≤ 5: two entries tied at 5 both get it, 7 does not.
    out = p.national(ranked([1, 2, 3, 4, 5, 5, 7]), team_size=1)
    assert titles(out) == [True] * 6 + [False]


def test_national_title_cutoffs_are_settings():
    settings = p.PolicySettings(title_cutoff_individual=1, title_cutoff_pair=1, title_cutoff_team=1)
    assert titles(p.national(ranked([1, 2]), team_size=3, settings=settings)) == [True, False]


# ------------------------------------------------------------ ratio


def test_half_up():
    assert p.half_up(Fraction(5, 2)) == 3
    assert p.half_up(Fraction(3, 2)) == 2
    assert p.half_up(Fraction(1, 2)) == 1
    assert p.half_up(Fraction(149, 100)) == 1
    assert p.half_up(Fraction(0)) == 0


def test_ratio_n25_rounds_half_up():
    # h(2.5) = 3, h(7.5) = 8, h(15) = 15
    assert p.ratio_cutoffs(25, p.PolicySettings()) == (3, 8, 15)
    out = awards(p.ratio(ranked(list(range(1, 26)))))
    assert out[:3] == ["first"] * 3
    assert out[3:8] == ["second"] * 5
    assert out[8:15] == ["third"] * 7
    assert out[15:] == [None] * 10


def test_ratio_n15():
    # h(1.5) = 2, h(4.5) = 5, h(9) = 9
    assert p.ratio_cutoffs(15, p.PolicySettings()) == (2, 5, 9)
    out = awards(p.ratio(ranked(list(range(1, 16)))))
    assert out == ["first"] * 2 + ["second"] * 3 + ["third"] * 4 + [None] * 6


def test_ratio_ties_at_boundary_share_the_better_prize():
    # N = 25, first prize r ≤ 3: entries tied at rank 3 are both 一等奖,
    # the next is rank 5 (二等奖); 15 tied with 15 are 三等奖, 17 gets nothing.
    ranks = [
        1,
        2,
        3,
        3,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        15,
        17,
        18,
        19,
        20,
        21,
        22,
        23,
        24,
        25,
    ]
    out = awards(p.ratio(ranked(ranks)))
    assert out[:4] == ["first"] * 4
    assert out[4] == "second"
    assert out[14:16] == ["third", "third"]
    assert out[16] is None


def test_ratio_small_fields():
    # N = 1: h(0.1) = 0, h(0.3) = 0, h(0.6) = 1 → 三等奖
    assert awards(p.ratio(ranked([1]))) == ["third"]
    # N = 5: h(0.5) = 1, h(1.5) = 2, h(3) = 3
    assert awards(p.ratio(ranked([1, 2, 3, 4, 5]))) == ["first", "second", "third", None, None]
    assert p.ratio([]) == []


def test_ratio_percentages_are_exact_settings():
    s = p.PolicySettings(
        first_percent=Decimal("12.5"), second_percent=Decimal("37.5"), third_percent=70
    )
    # N = 20: h(2.5) = 3, h(7.5) = 8, h(14) = 14 — a float 0.125 would be exact
    # here, but 0.1 · 35 = 3.5000000000000004 shows why floats are refused.
    assert p.ratio_cutoffs(20, s) == (3, 8, 14)
    assert p.ratio_cutoffs(35, p.PolicySettings()) == (4, 11, 21)
    with pytest.raises(TypeError):
        p.ratio_cutoffs(10, p.PolicySettings(first_percent=10.0))


def test_apply_policy_dispatch_and_unknown():
    assert awards(p.apply_policy("worldskills", ranked([1]))) == ["gold"]
    assert awards(p.apply_policy("ratio", ranked([1]))) == ["third"]
    with pytest.raises(ValueError):
        p.apply_policy("olympic", ranked([1]))


def test_rank_must_be_positive():
    with pytest.raises(ValueError):
        p.worldskills(ranked([0]))


# ------------------------------------------------------------ properties

scores = st.lists(st.integers(min_value=0, max_value=20), min_size=0, max_size=40)


@given(scores, st.sampled_from(["worldskills", "national", "ratio"]), st.integers(1, 4))
def test_ties_always_share_the_same_outcome(values, policy, team_size):
    ranks = standard_ranks(values)
    out = p.apply_policy(policy, ranked(ranks, scale=[700] * len(ranks)), team_size=team_size)
    by_rank = {}
    for r, o in zip(ranks, out, strict=True):
        by_rank.setdefault(r, set()).add((o.award, o.title))
    assert all(len(v) == 1 for v in by_rank.values())


@given(scores)
def test_ratio_prizes_are_monotone_in_rank(values):
    ranks = standard_ranks(values)
    order = {"first": 0, "second": 1, "third": 2, None: 3}
    out = p.ratio(ranked(ranks))
    pairs = sorted(zip(ranks, (order[o.award] for o in out), strict=True))
    assert [b for _, b in pairs] == sorted(b for _, b in pairs)
    n = len(ranks)
    cut = p.ratio_cutoffs(n, p.PolicySettings())
    assert sum(o.award is not None for o in out) == sum(r <= cut[2] for r in ranks)


@given(scores)
def test_national_excellence_never_for_medallists_and_2r_le_n(values):
    ranks = standard_ranks(values)
    for r, o in zip(ranks, p.national(ranked(ranks)), strict=True):
        if r <= 3:
            assert o.award in p.MEDALS
        else:
            assert (o.award == "excellence") == (2 * r <= len(ranks))


# ------------------------------------------------------------ medal table


def table(*rows):
    return [Tally(code, *counts) for code, *counts in rows]


def test_medal_table_order_and_shared_places():
    ordered = p.order_medal_table(
        table(
            ("SZ", 1, 2, 0, 0),
            ("NJ", 2, 0, 0, 0),
            ("WX", 1, 2, 0, 0),
            ("CZ", 1, 1, 5, 9),
            ("HA", 1, 2, 0, 1),
        )
    )
    assert [(r.place, r.delegation_code) for r in ordered] == [
        (1, "NJ"),  # gold decides first
        (2, "HA"),  # equal gold/silver/bronze: excellence decides
        (3, "SZ"),  # SZ and WX equal in every count: shared place, code order
        (3, "WX"),
        (5, "CZ"),  # after a shared 3rd comes 5th
    ]


def test_medal_table_places_1_2_2_4():
    ordered = p.order_medal_table(
        table(("D", 0, 0, 0, 1), ("C", 1, 0, 0, 0), ("B", 1, 0, 0, 0), ("A", 3, 0, 0, 0))
    )
    assert [r.place for r in ordered] == [1, 2, 2, 4]
    assert [r.delegation_code for r in ordered] == ["A", "B", "C", "D"]


def test_medal_table_silver_beats_any_bronze_and_excellence():
    ordered = p.order_medal_table(table(("A", 0, 0, 9, 9), ("B", 0, 1, 0, 0)))
    assert [r.delegation_code for r in ordered] == ["B", "A"]


def test_tally_counts_medals_and_excellence_only():
    t = p.tally([("A", "gold"), ("A", "gold"), ("A", "first"), ("B", "excellence"), ("B", None)])
    assert t["A"].counts == (2, 0, 0, 0)
    assert t["B"].counts == (0, 0, 0, 1)


counts = st.tuples(*(st.integers(0, 3) for _ in range(4)))


@given(st.dictionaries(st.text("ABCDEFGH", min_size=1, max_size=3), counts, max_size=12))
def test_medal_table_properties(rows):
    ordered = p.order_medal_table([Tally(code, *c) for code, c in rows.items()])
    for i, row in enumerate(ordered):
        # a place is 1 + the number of delegations with strictly better counts
        better = sum(1 for other in ordered if other.counts > row.counts)
        assert row.place == better + 1
        if i:
            prev = ordered[i - 1]
            assert prev.counts >= row.counts
            if prev.counts == row.counts:
                assert prev.delegation_code < row.delegation_code
