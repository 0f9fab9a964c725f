"""Build a skill ready for marking: a valid 100-mark scheme, entries, judges.

Shared with the results tests; keep the signature stable::

    s = scheme_skill(n_entries=3, n_judges=3, m_aspects=["40", "30"], j_aspects=["20", "10"])
    s.skill, s.m_aspects, s.j_aspects, s.entries, s.judges, s.chief

Every entry and every judge has a delegation of its own, so nobody is
recused unless a test says so. The chief judge (a user-linked Judge with
role ``chief``) is created unless ``chief=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from competitions.models import Skill
from scoring.models import (
    Aspect,
    AspectKind,
    Criterion,
    JudgementDescriptor,
    SubCriterion,
)
from teams.models import Entry, Judge
from tests import factories as f


@dataclass
class SchemeSkill:
    skill: Skill
    m_aspects: list[Aspect] = field(default_factory=list)
    j_aspects: list[Aspect] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    judges: list[Judge] = field(default_factory=list)
    chief: Judge | None = None

    @property
    def aspects(self) -> list[Aspect]:
        return [*self.m_aspects, *self.j_aspects]


def scheme_skill(
    n_entries: int = 3,
    n_judges: int = 3,
    m_aspects: list | None = None,
    j_aspects: list | None = None,
    *,
    chief: bool = True,
    descriptors: bool = True,
    **skill_kw,
) -> SchemeSkill:
    """``m_aspects`` / ``j_aspects``: max marks (str, int or Decimal); by
    default M 40 + 30 and J 20 + 10 = 100. Aspects are coded M1, M2 … and
    J1, J2 …, under criterion A (M) and B (J)."""
    m_marks = [Decimal(str(v)) for v in (m_aspects if m_aspects is not None else ["40", "30"])]
    j_marks = [Decimal(str(v)) for v in (j_aspects if j_aspects is not None else ["20", "10"])]
    skill = f.skill(**skill_kw)
    built = SchemeSkill(skill=skill)
    order = 0
    for code, kind, marks, target in (
        ("A", AspectKind.MEASUREMENT, m_marks, built.m_aspects),
        ("B", AspectKind.JUDGEMENT, j_marks, built.j_aspects),
    ):
        if not marks:
            continue
        criterion = Criterion.objects.create(
            skill=skill, code=code, name=f"模块{code}", max_mark=sum(marks), order=ord(code)
        )
        sub = SubCriterion.objects.create(criterion=criterion, code=f"{code}1", name="子模块")
        for i, max_mark in enumerate(marks, start=1):
            order += 1
            aspect = Aspect.objects.create(
                skill=skill,
                sub_criterion=sub,
                code=f"{kind}{i}",
                kind=kind,
                description=f"评分点 {kind}{i}",
                max_mark=max_mark,
                order=order,
            )
            if kind == AspectKind.JUDGEMENT and descriptors:
                JudgementDescriptor.objects.bulk_create(
                    JudgementDescriptor(aspect=aspect, score=s, text=f"{s} 分") for s in range(4)
                )
            target.append(aspect)
    built.entries = [f.entry(skill) for _ in range(n_entries)]
    built.judges = [f.judge(skill) for _ in range(n_judges)]
    if chief:
        built.chief = f.judge(skill, role="chief")
    return built
