"""The titles policy: 技术能手 if r ≤ h(0.15 N), else 优胜者 if r ≤ h(0.40 N)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from awards import policies as p


def run(ranks, **settings):
    entries = [p.Ranked(key=i, rank=r) for i, r in enumerate(ranks)]
    conf = p.PolicySettings(**settings)
    return [(o.title_code, o.award) for o in p.apply_policy(p.TITLES, entries, settings=conf)]


E, W = p.TECHNICAL_EXPERT, p.WINNER


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [
        # N = 10: h(1.5) = 2, h(4.0) = 4.
        (list(range(1, 11)), [E, E, W, W] + [""] * 6),
        # N = 7: h(1.05) = 1, h(2.8) = 3.
        (list(range(1, 8)), [E, W, W] + [""] * 4),
        # N = 3: h(0.45) = 0 — no 技术能手 at all; h(1.2) = 1.
        ([1, 2, 3], [W, "", ""]),
        # N = 1: h(0.15) = 0, h(0.4) = 0 — nothing.
        ([1], [""]),
        # N = 30: h(4.5) = 5 (half up), h(12) = 12.
        (list(range(1, 31)), [E] * 5 + [W] * 7 + [""] * 18),
        # Ties share: N = 10, ranks 1 2 2 4 …: both rank-2 entries are 技术能手 (r ≤ 2).
        ([1, 2, 2, 4, 5, 5, 7, 8, 9, 10], [E, E, E, W, "", "", "", "", "", ""]),
    ],
)
def test_titles_hand_worked(ranks, expected):
    got = run(ranks)
    assert [code for code, _award in got] == expected
    assert all(award is None for _code, award in got)  # no medals, no prizes


def test_ratios_are_settings():
    # 10 % and 30 % of N = 5: h(0.5) = 1, h(1.5) = 2.
    got = run([1, 2, 3, 4, 5], expert_percent=Decimal(10), winner_percent=Decimal(30))
    assert [c for c, _ in got] == [E, W, "", "", ""]


def test_float_ratio_refused():
    with pytest.raises(TypeError):
        run([1, 2], expert_percent=15.0)
