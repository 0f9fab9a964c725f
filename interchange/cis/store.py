"""A marking scheme into and out of the database (all or nothing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from competitions.models import Skill
from portal.ordering import natural_key
from scoring.models import (
    Aspect,
    Criterion,
    JudgementDescriptor,
    LedgerRecord,
    Mark,
    SkillMarking,
    SubCriterion,
    WSOSSection,
)

from .data import (
    AspectData,
    CriterionData,
    DescriptorData,
    SchemeData,
    SchemeImportError,
    SchemeProblem,
    SubCriterionData,
    WSOSSectionData,
)
from .messages import HAS_MARKS, SIGNED_OFF
from .validate import validate_scheme


@dataclass
class ModelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class ApplyReport:
    skill_id: int
    dry_run: bool = False
    counts: dict[str, ModelCounts] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[SchemeProblem] = field(default_factory=list)

    def count(self, model: str, outcome: str, n: int = 1) -> None:
        stats = self.counts.setdefault(model, ModelCounts())
        setattr(stats, outcome, getattr(stats, outcome) + n)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())


class _DryRunRollback(Exception):
    pass


def scheme_locked_reason(skill: Skill) -> SchemeProblem | None:
    """Why the scheme of ``skill`` may not change now, or None."""
    label = f"{skill.code} {skill.name}"
    if SkillMarking.objects.filter(skill=skill, status=SkillMarking.Status.SIGNED_OFF).exists():
        return SchemeProblem(None, None, None, None, SIGNED_OFF, {"skill": label})
    # Ledger records point at aspects too (PROTECT): a mark written and later
    # removed still pins the scheme.
    if (
        Mark.objects.filter(skill=skill).exists()
        or LedgerRecord.objects.filter(skill=skill, aspect__isnull=False).exists()
    ):
        return SchemeProblem(None, None, None, None, HAS_MARKS, {"skill": label})
    return None


def apply_scheme(
    skill: Skill, data: SchemeData, *, replace: bool = True, dry_run: bool = False
) -> ApplyReport:
    """Write ``data`` as the marking scheme of ``skill``, all or nothing.

    Items are matched by code (criterion, sub-criterion, aspect, WSOS section
    number, descriptor score) and updated in place, so importing the same
    scheme again changes nothing. With ``replace`` (the default) items the
    data no longer has are deleted; without it they are kept. Raises
    ``SchemeImportError`` when the data has errors, or when the skill has
    marks or is signed off: changing a scheme under existing marks would
    silently change results. ``dry_run`` does everything, then rolls back.
    """
    problems = list(data.errors) or [p for p in validate_scheme(data) if not p.warning]
    if problems:
        raise SchemeImportError(problems)
    report = ApplyReport(skill.pk, dry_run=dry_run, summary=data.summary(), warnings=data.warnings)
    try:
        with transaction.atomic():
            # Lock the skill's marking state: write_mark locks the same row, so
            # no mark can slip in between the check and the write.
            SkillMarking.objects.select_for_update().get_or_create(skill=skill)
            locked = scheme_locked_reason(skill)
            if locked is not None:
                raise SchemeImportError([locked])
            _write(skill, data, replace, report)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return report


def _save(obj: Any, values: dict[str, Any], report: ApplyReport, model: str) -> None:
    """Set changed fields and save only those; count what happened."""
    if obj.pk is None:
        for k, v in values.items():
            setattr(obj, k, v)
        obj.save()
        report.count(model, "created")
        return
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    if changed:
        obj.save(update_fields=changed)
        report.count(model, "updated")
    else:
        report.count(model, "unchanged")


def _write(skill: Skill, data: SchemeData, replace: bool, report: ApplyReport) -> None:
    _SchemeWriter(skill, report).write(data, replace)


class _SchemeWriter:
    """Writes one skill's scheme over what is stored: items matched by code
    are updated in place, then those the data no longer has are deleted."""

    def __init__(self, skill: Skill, report: ApplyReport) -> None:
        self.skill = skill
        self.report = report
        self.sections = {s.number: s for s in WSOSSection.objects.filter(skill=skill)}
        self.criteria = {c.code: c for c in Criterion.objects.filter(skill=skill)}
        self.subs = {
            (s.criterion_id, s.code): s for s in SubCriterion.objects.filter(criterion__skill=skill)
        }
        self.aspects = {a.code: a for a in Aspect.objects.filter(skill=skill)}
        self.descriptors = {
            (d.aspect_id, d.score): d
            for d in JudgementDescriptor.objects.filter(aspect__skill=skill)
        }
        self.kept_subs: set[int] = set()
        self.kept_aspects: set[int] = set()
        self.kept_descriptors: set[int] = set()
        self.order = 0  # aspects are numbered across the whole scheme

    def write(self, data: SchemeData, replace: bool) -> None:
        for section in data.wsos_sections:
            obj = self.sections.pop(section.number, None) or WSOSSection(
                skill=self.skill, number=section.number
            )
            values = {"title": section.title, "weight": section.weight or Decimal(0)}
            _save(obj, values, self.report, "wsos_sections")
        for c_index, criterion in enumerate(data.criteria, start=1):
            c_obj = self.criteria.pop(criterion.code, None) or Criterion(
                skill=self.skill, code=criterion.code
            )
            values = {"name": criterion.name, "max_mark": criterion.max_mark, "order": c_index}
            _save(c_obj, values, self.report, "criteria")
            for s_index, sub in enumerate(criterion.sub_criteria, start=1):
                self._write_sub(c_obj, s_index, sub)
        self._delete_stale(replace)

    def _write_sub(self, c_obj: Criterion, s_index: int, sub: SubCriterionData) -> None:
        s_obj = self.subs.get((c_obj.pk, sub.code)) or SubCriterion(criterion=c_obj, code=sub.code)
        values = {"name": sub.name, "marking_day": sub.marking_day, "order": s_index}
        _save(s_obj, values, self.report, "sub_criteria")
        self.kept_subs.add(s_obj.pk)
        for aspect in sub.aspects:
            self.order += 1
            a_obj = self.aspects.get(aspect.code) or Aspect(skill=self.skill, code=aspect.code)
            values = {
                "sub_criterion_id": s_obj.pk,
                "kind": aspect.kind,
                "description": aspect.description,
                "extra_description": aspect.extra_description,
                "requirement": aspect.requirement,
                "wsos_section": aspect.wsos_section,
                "max_mark": aspect.max_mark,
                "order": self.order,
            }
            _save(a_obj, values, self.report, "aspects")
            self.kept_aspects.add(a_obj.pk)
            for d in aspect.descriptors:
                d_obj = self.descriptors.get((a_obj.pk, d.score)) or JudgementDescriptor(
                    aspect=a_obj, score=d.score
                )
                _save(d_obj, {"text": d.text}, self.report, "descriptors")
                self.kept_descriptors.add(d_obj.pk)

    def _delete_stale(self, replace: bool) -> None:
        report = self.report
        # Descriptors of kept aspects that the data no longer has (an aspect
        # turned from J to M) always go: an M aspect must not carry any.
        stale = [d.pk for d in self.descriptors.values() if d.pk not in self.kept_descriptors]
        stale_descriptors = JudgementDescriptor.objects.filter(pk__in=stale)
        if not replace:
            stale_descriptors = stale_descriptors.filter(aspect_id__in=self.kept_aspects)
        report.count("descriptors", "deleted", stale_descriptors.delete()[0])
        if not replace:
            return
        # Children first, so nothing cascades behind the counts' back.
        gone_aspects = [a.pk for a in self.aspects.values() if a.pk not in self.kept_aspects]
        deleted = Aspect.objects.filter(pk__in=gone_aspects).delete()[1]
        report.count("aspects", "deleted", deleted.get("scoring.Aspect", 0))
        gone_subs = [s.pk for s in self.subs.values() if s.pk not in self.kept_subs]
        deleted = SubCriterion.objects.filter(pk__in=gone_subs).delete()[1]
        report.count("sub_criteria", "deleted", deleted.get("scoring.SubCriterion", 0))
        gone_criteria = [c.pk for c in self.criteria.values()]
        deleted = Criterion.objects.filter(pk__in=gone_criteria).delete()[1]
        report.count("criteria", "deleted", deleted.get("scoring.Criterion", 0))
        gone_sections = [s.pk for s in self.sections.values()]
        report.count(
            "wsos_sections",
            "deleted",
            WSOSSection.objects.filter(pk__in=gone_sections).delete()[0],
        )


def scheme_of(skill: Skill) -> SchemeData:
    """The stored scheme of ``skill`` as plain data (source "portal")."""
    data = SchemeData(source="portal", title=f"{skill.code} {skill.name}")
    data.wsos_sections = [
        WSOSSectionData(s.number, s.title, s.weight)
        for s in sorted(
            WSOSSection.objects.filter(skill=skill), key=lambda s: natural_key(s.number)
        )
    ]
    descriptors: dict[int, list[DescriptorData]] = defaultdict(list)
    for d in JudgementDescriptor.objects.filter(aspect__skill=skill).order_by("score"):
        descriptors[d.aspect_id].append(DescriptorData(d.score, d.text))
    by_sub: dict[int, list[AspectData]] = defaultdict(list)
    for a in Aspect.objects.filter(skill=skill).order_by("order", "code"):
        by_sub[a.sub_criterion_id].append(
            AspectData(
                code=a.code,
                kind=a.kind,
                description=a.description,
                max_mark=a.max_mark,
                extra_description=a.extra_description,
                requirement=a.requirement,
                wsos_section=a.wsos_section,
                descriptors=descriptors.get(a.pk, []),
            )
        )
    subs: dict[int, list[SubCriterionData]] = defaultdict(list)
    for s in SubCriterion.objects.filter(criterion__skill=skill).order_by("order", "code"):
        subs[s.criterion_id].append(SubCriterionData(s.code, s.name, s.marking_day, by_sub[s.pk]))
    for c in Criterion.objects.filter(skill=skill).order_by("order", "code"):
        data.criteria.append(CriterionData(c.code, c.name, c.max_mark, subs[c.pk]))
    return data
