"""Columns of the event workbook's ``aspects`` and ``marks`` sheets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from import_export import fields, widgets

from competitions.resources import SheetResource, TextWidget
from interchange.cis.data import ASPECT_EXTRA_KEYS, ASPECT_KEYS, TITLES_ZH
from scoring.models import Aspect, Mark

# --------------------------------------------------------------------------- widgets


def _excel_number(value: Decimal | None) -> int | Decimal | None:
    """A mark for Excel: whole numbers as ints (30, not 30.00), others exact."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


class RawWidget(widgets.Widget):
    """The cell as it is: ``interchange.cis`` and the mark service clean it, with
    their own messages. Exports numbers as numbers and text as text."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Any:
        return value

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, Decimal):
            return _excel_number(value)
        return value


def _raw(attribute: str | None, key: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=key, widget=RawWidget())


# --------------------------------------------------------------------------- resources


class AspectRowResource(SheetResource):
    """``aspects`` sheet: one row per aspect. docs/formats.md's columns, then the
    optional extra columns of ``interchange.cis`` (criterion/sub-criterion names,
    criterion mark, marking day, extra description, requirement, WSOS
    section, the judgement descriptors 0–3, the stated total)."""

    sheet_name = "aspects"
    optional_columns = tuple(ASPECT_EXTRA_KEYS)
    required_values = ()  # interchange.cis checks the cells, with its own messages
    titles_zh = {k: TITLES_ZH[k] for k in (*ASPECT_KEYS, *ASPECT_EXTRA_KEYS)}

    skill_code = _raw("skill__code", "skill_code")
    criterion = _raw("sub_criterion__criterion__code", "criterion")
    sub_criterion = _raw("sub_criterion__code", "sub_criterion")
    aspect_code = _raw("code", "aspect_code")
    type = _raw("kind", "type")
    max_mark = _raw("max_mark", "max_mark")
    description = _raw("description", "description")
    criterion_name = _raw("sub_criterion__criterion__name", "criterion_name")
    criterion_mark = _raw("sub_criterion__criterion__max_mark", "criterion_mark")
    sub_criterion_name = _raw("sub_criterion__name", "sub_criterion_name")
    marking_day = _raw("sub_criterion__marking_day", "marking_day")
    extra_description = _raw("extra_description", "extra_description")
    requirement = _raw("requirement", "requirement")
    wsos_section = _raw("wsos_section", "wsos_section")
    descriptor_0 = _raw(None, "descriptor_0")
    descriptor_1 = _raw(None, "descriptor_1")
    descriptor_2 = _raw(None, "descriptor_2")
    descriptor_3 = _raw(None, "descriptor_3")
    scheme_total = _raw(None, "scheme_total")  # not stored: the total is always 100

    class Meta:
        model = Aspect
        fields = (*ASPECT_KEYS, *ASPECT_EXTRA_KEYS)
        export_order = fields

    def _descriptor(self, aspect: Aspect, score: int) -> str | None:
        # descriptors are prefetched by the export queryset
        return next((d.text for d in aspect.descriptors.all() if d.score == score), None)

    def dehydrate_descriptor_0(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 0)

    def dehydrate_descriptor_1(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 1)

    def dehydrate_descriptor_2(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 2)

    def dehydrate_descriptor_3(self, aspect: Aspect) -> str | None:
        return self._descriptor(aspect, 3)

    def get_queryset(self) -> QuerySet[Aspect]:
        # The order of interchange.cis.store.scheme_of (criterion, sub-criterion, aspect),
        # so an exported scheme reads back equal to the stored one.
        return (
            Aspect.objects.select_related("skill__event", "sub_criterion__criterion")
            .prefetch_related("descriptors")
            .order_by(
                "skill__event__code",
                "skill__code",
                "sub_criterion__criterion__order",
                "sub_criterion__criterion__code",
                "sub_criterion__order",
                "sub_criterion__code",
                "order",
                "code",
            )
        )


class MarkRowResource(SheetResource):
    """``marks`` sheet: skill_code, competitor_no, aspect_code, judge_code,
    score. An M aspect has one row per entry (judge_code: who gave the
    mark); a J aspect one row per entry and judge (score 0–3)."""

    sheet_name = "marks"
    # judge_code: required on J rows, checked by the importer (an M row may
    # leave it empty: a mark from outside the tablets).
    required_values = ("skill_code", "competitor_no", "aspect_code", "score")
    titles_zh = {
        "skill_code": "赛项代码",
        "competitor_no": "参赛编号",
        "aspect_code": "评分点代码",
        "judge_code": "裁判编号",
        "score": "分数（测量：得分；评价：0–3）",
    }

    skill_code = fields.Field(
        attribute="skill__code", column_name="skill_code", widget=TextWidget(40)
    )
    competitor_no = fields.Field(
        attribute="entry__competitor_no", column_name="competitor_no", widget=TextWidget(20)
    )
    aspect_code = fields.Field(
        attribute="aspect__code", column_name="aspect_code", widget=TextWidget(30)
    )
    judge_code = fields.Field(
        attribute="judge__code", column_name="judge_code", widget=TextWidget(20)
    )
    # As typed: the mark service parses it for its aspect, with its rules.
    score = fields.Field(attribute="value", column_name="score", widget=RawWidget())

    class Meta:
        model = Mark
        fields = ("skill_code", "competitor_no", "aspect_code", "judge_code", "score")
        export_order = fields

    def get_queryset(self) -> QuerySet[Mark]:
        return Mark.objects.select_related("skill__event", "entry", "aspect", "judge").order_by(
            "skill__event__code",
            "skill__code",
            "entry__competitor_no",
            "aspect__order",
            "aspect__code",
            "judge__code",
        )
