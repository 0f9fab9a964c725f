"""Column definitions of the event workbook's ``delegations``, ``entries`` and
``judges`` sheets (docs/formats.md), as django-import-export resources.

See ``competitions.resources`` for the conventions (``sheet_name``,
``optional_columns``, ``required_values``, ``titles_zh``). Import of the
``entries`` and ``judges`` sheets goes through ``interchange.event_workbook``:
their rules span rows (team members share a competitor number; one chief
judge per skill; one athlete once per event) which django-import-export's
row-at-a-time import cannot check, so these resources provide the columns,
the cell cleaning and the export only. ``DelegationResource`` rows stand
alone and also import natively in the admin.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from import_export import fields, widgets

from competitions.resources import (
    ChoiceWidget,
    CodeForeignKeyWidget,
    ExcelDateWidget,
    SheetResource,
    TextWidget,
    cell_text,
)

from . import idnumbers
from .models import Delegation, Entry, EntryMember, Gender, JudgeAssignment


class GenderWidget(ChoiceWidget):
    """Read: 男 / 女 (what the template asks), also M / F, male / female.
    Written as the template asks (男 / 女), so an export re-imports as it is."""

    WRITTEN = {Gender.MALE.value: "男", Gender.FEMALE.value: "女"}

    def __init__(self) -> None:
        super().__init__(Gender, {"男": "M", "女": "F", "male": "M", "female": "F"})

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return self.WRITTEN.get(value, value or "")


class IdNumberWidget(TextWidget):
    """An 18-character resident ID number: shape, birth date and check character."""

    def __init__(self) -> None:
        super().__init__(max_length=None)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str | None:
        text = idnumbers.normalise(cell_text(value))
        if not text:
            return None
        idnumbers.validate_id_number(text)
        return text


class DelegationResource(SheetResource):
    """``delegations`` sheet: code, name. Delegations are global, unique by code."""

    sheet_name = "delegations"
    required_values = ("code", "name")
    titles_zh = {"code": "代表团代码", "name": "代表团名称"}

    code = fields.Field(attribute="code", column_name="code", widget=TextWidget(20))
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget(200))

    class Meta:
        model = Delegation
        fields = ("code", "name")
        export_order = fields
        import_id_fields = ("code",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_queryset(self) -> QuerySet[Delegation]:
        return Delegation.objects.order_by("code")


class EntryRowResource(SheetResource):
    """``entries`` sheet: one row per athlete (an ``EntryMember``); team
    members share ``competitor_no`` within a skill.

    ``id_number`` is an optional extra column: when given, it identifies the
    athlete across imports; without it the athlete is matched by delegation,
    name and birth date.
    """

    sheet_name = "entries"
    optional_columns = ("id_number", "delegation_name")
    required_values = ("skill_code", "competitor_no", "delegation_code", "name")
    titles_zh = {
        "skill_code": "赛项代码",
        "competitor_no": "参赛编号（团队成员相同）",
        "delegation_code": "代表团代码",
        "name": "姓名",
        "gender": "性别（男/女）",
        "birth_date": "出生日期",
        "id_number": "身份证号（可选）",
        "delegation_name": "代表团名称（仅供阅读）",
    }

    skill_code = fields.Field(
        attribute="entry__skill__code", column_name="skill_code", widget=CodeForeignKeyWidget(40)
    )
    competitor_no = fields.Field(
        attribute="entry__competitor_no", column_name="competitor_no", widget=TextWidget(20)
    )
    delegation_code = fields.Field(
        attribute="entry__delegation__code",
        column_name="delegation_code",
        widget=CodeForeignKeyWidget(20),
    )
    name = fields.Field(attribute="athlete__name", column_name="name", widget=TextWidget(100))
    gender = fields.Field(attribute="athlete__gender", column_name="gender", widget=GenderWidget())
    birth_date = fields.Field(
        attribute="athlete__birth_date", column_name="birth_date", widget=ExcelDateWidget()
    )
    id_number = fields.Field(
        attribute="athlete__id_number", column_name="id_number", widget=IdNumberWidget()
    )
    # For people reading the sheet: the name beside the code, after the
    # documented columns. Imports ignore it; the code decides (docs/exports.md).
    delegation_name = fields.Field(
        attribute="entry__delegation__name",
        column_name="delegation_name",
        widget=TextWidget(200),
        readonly=True,
    )

    class Meta:
        model = EntryMember
        fields: tuple[str, ...] = (
            "skill_code",
            "competitor_no",
            "delegation_code",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "delegation_name",
        )
        export_order = fields

    def get_queryset(self) -> QuerySet[EntryMember]:
        return EntryMember.objects.select_related(
            "entry__skill__event", "entry__delegation", "athlete"
        ).order_by("entry__skill__event__code", "entry__skill__code", "entry__competitor_no", "pk")


class JudgeAssignmentResource(SheetResource):
    """``judges`` sheet: one row per (judge, skill) assignment; judge codes are global."""

    sheet_name = "judges"
    optional_columns = ("delegation_name",)
    required_values = ("code", "name", "delegation_code", "skill_code", "role")
    titles_zh = {
        "code": "裁判编号",
        "name": "姓名",
        "delegation_code": "所属代表团代码",
        "skill_code": "赛项代码",
        "role": "角色（judge 裁判员 / chief 裁判长）",
        "delegation_name": "所属代表团名称（仅供阅读）",
    }

    code = fields.Field(attribute="judge__code", column_name="code", widget=TextWidget(20))
    name = fields.Field(attribute="judge__name", column_name="name", widget=TextWidget(100))
    delegation_code = fields.Field(
        attribute="judge__delegation__code",
        column_name="delegation_code",
        widget=CodeForeignKeyWidget(20),
    )
    skill_code = fields.Field(
        attribute="skill__code", column_name="skill_code", widget=CodeForeignKeyWidget(40)
    )
    role = fields.Field(
        attribute="role",
        column_name="role",
        widget=ChoiceWidget(
            JudgeAssignment.Role, {"裁判": "judge", "裁判员": "judge", "裁判长": "chief"}
        ),
    )

    # Read-only, as on the entries sheet.
    delegation_name = fields.Field(
        attribute="judge__delegation__name",
        column_name="delegation_name",
        widget=TextWidget(200),
        readonly=True,
    )

    class Meta:
        model = JudgeAssignment
        fields: tuple[str, ...] = (
            "code",
            "name",
            "delegation_code",
            "skill_code",
            "role",
            "delegation_name",
        )
        export_order = fields

    def get_queryset(self) -> QuerySet[JudgeAssignment]:
        return JudgeAssignment.objects.select_related("judge__delegation", "skill__event").order_by(
            # "chief" sorts before "judge": each skill's chief judge comes first.
            "skill__event__code",
            "skill__code",
            "role",
            "judge__code",
        )


class EntryRowAdminResource(EntryRowResource):
    """The admin's export of entries across events: the event code is a column.

    The Entry admin hands over a queryset of entries (its changelist, filters
    applied); the sheet has one row per member, so export their members.
    """

    event = fields.Field(
        attribute="entry__skill__event__code", column_name="event", widget=widgets.CharWidget()
    )

    class Meta(EntryRowResource.Meta):
        fields = ("event", *EntryRowResource.Meta.fields)
        export_order = fields

    def filter_export(self, queryset: QuerySet, **kwargs: Any) -> QuerySet:
        if queryset.model is Entry:
            queryset = self.get_queryset().filter(entry__in=queryset.values("pk"))
        return super().filter_export(queryset, **kwargs)


class JudgeAssignmentAdminResource(JudgeAssignmentResource):
    """The admin's export of judge assignments across events."""

    event = fields.Field(
        attribute="skill__event__code", column_name="event", widget=widgets.CharWidget()
    )

    class Meta(JudgeAssignmentResource.Meta):
        fields = ("event", *JudgeAssignmentResource.Meta.fields)
        export_order = fields
