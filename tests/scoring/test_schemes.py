"""scheme_problems: marking opens only on a complete 100-mark scheme."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.models import Aspect, Criterion, JudgementDescriptor
from scoring.schemes import scheme_problems, scheme_summary, scheme_warnings
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


def test_valid_scheme_has_no_problems():
    s = scheme_skill(m_aspects=["33.33", "33.33"], j_aspects=["33.34"])
    summary = scheme_summary(s.skill)
    assert summary.ok and summary.total == Decimal("100.00") and summary.difference == 0
    assert (summary.measurement_count, summary.judgement_count) == (2, 1)
    assert scheme_warnings(s.skill) == []


def test_no_aspects():
    assert scheme_problems(f.skill()) == ["评分标准还没有评分点。"]


def test_total_short_shows_sum_and_difference():
    s = scheme_skill(m_aspects=["40", "30"], j_aspects=["27.50"])
    Criterion.objects.filter(skill=s.skill).update(max_mark=None)
    assert scheme_problems(s.skill) == ["各评分点满分合计为 97.50，不是 100：还差 2.50 分。"]


def test_total_over_in_english(settings):
    from django.utils import translation

    s = scheme_skill(m_aspects=["40", "30"], j_aspects=["30.01"])
    Criterion.objects.filter(skill=s.skill).update(max_mark=None)
    with translation.override("en"):
        assert scheme_problems(s.skill) == [
            "The aspects' max marks total 100.01, not 100: 0.01 marks too many."
        ]


def test_criterion_total_must_match_its_aspects():
    s = scheme_skill()
    Criterion.objects.filter(skill=s.skill, code="A").update(max_mark=Decimal("75"))
    problems = scheme_problems(s.skill)
    assert len(problems) == 1
    assert "A" in problems[0] and "75.00" in problems[0] and "70.00" in problems[0]


def test_missing_descriptors_are_a_warning_not_a_problem():
    s = scheme_skill(descriptors=False)
    JudgementDescriptor.objects.create(aspect=s.j_aspects[0], score=0, text="差")
    assert scheme_problems(s.skill) == []
    warnings = scheme_warnings(s.skill)
    assert len(warnings) == 2 and "J1" in warnings[0] and "1" in warnings[0]


def test_aspect_under_another_skills_criterion():
    s = scheme_skill()
    other = scheme_skill()
    Aspect.objects.filter(pk=s.m_aspects[0].pk).update(
        sub_criterion=other.m_aspects[0].sub_criterion
    )
    problems = scheme_problems(s.skill)
    assert any("M1" in p for p in problems)
