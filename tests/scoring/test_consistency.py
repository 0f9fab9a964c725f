"""Judge consistency: average deviation from the panel mean, discrepancy counts."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from scoring.consistency import judge_consistency
from tests.scoring.test_results import build_scheme, put

pytestmark = pytest.mark.django_db


def test_deviation_from_panel_mean_and_discrepancies():
    s = build_scheme({"J1": ("J", "50"), "J2": ("J", "50")}, entries=["1", "2"], judges=3)
    put(s, "1", "J1", 3, 2, 1)  # mean 2: +1, 0, −1; spread 2 > 1: flagged
    put(s, "1", "J2", 3, 3, 3)  # mean 3: 0, 0, 0
    put(s, "2", "J1", 2, 2, 1)  # mean 5/3: +1/3, +1/3, −2/3
    put(s, "2", "J2", 3, None, None)  # alone: not compared
    by_code = {j.code: j for j in judge_consistency(s.skill)}
    a, b, c = (by_code[j.code] for j in s.judges)
    assert a.deviation == Fraction(1 + 0 + Fraction(1, 3), 3)  # 4/9
    assert b.deviation == Fraction(0 + 0 + Fraction(1, 3), 3)  # 1/9
    assert c.deviation == Fraction(-1 + 0 - Fraction(2, 3), 3)  # −5/9
    assert sum(j.deviation * j.scores for j in (a, b, c)) == 0  # deviations balance
    assert (a.scores, b.scores, c.scores) == (3, 3, 3)
    assert a.deviation_display == Decimal("0.44") and a.leaning == "lenient"
    assert c.deviation_display == Decimal("-0.56") and c.leaning == "severe"
    assert (a.discrepancies, b.discrepancies, c.discrepancies) == (1, 1, 1)
    chief = by_code[s.chief.code]
    assert chief.is_chief and chief.deviation is None and chief.scores == 0


def test_tolerance_setting_changes_the_count():
    s = build_scheme({"J1": ("J", "100")}, entries=["1"], judges=3, discrepancy_tolerance=2)
    put(s, "1", "J1", 3, 2, 1)  # spread 2: within tolerance 2
    assert all(j.discrepancies == 0 for j in judge_consistency(s.skill))
