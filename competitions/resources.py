"""Column definitions of the event workbook (docs/formats.md), as
django-import-export resources.

One resource per sheet defines the sheet's column keys, how each cell is
cleaned (the widgets below) and how a row is exported. The same classes serve
``interchange.event_workbook`` (import, export, templates) and the admin's
import/export buttons, so a column is defined exactly once.

The widgets raise ``ValidationError`` with translatable English messages so
the workbook driver can report every bad cell in Chinese and English.

Extra class attributes every sheet resource carries (read by the driver):

- ``sheet_name``: the sheet's name in the workbook;
- ``optional_columns``: keys the key row may leave out (all others must be there);
- ``required_values``: keys whose cells must not be empty;
- ``titles_zh``: the Chinese title row of the downloadable template.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from .models import AwardPolicy, Event, JudgementAggregation, Skill


def cell_text(value: Any) -> str:
    """A cell as text: stripped; Excel's numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        # Excel stores every number as a float: competitor number 12 arrives as 12.0.
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    """Stripped text with a length limit; empty cells clean to ''."""

    def __init__(self, max_length: int | None = None, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(**kwargs)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str | None:
        text = cell_text(value)
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(
                _("At most %(max)s characters (this has %(length)s)."),
                params={"max": self.max_length, "length": len(text)},
                code="max_length",
            )
        return text


class PositiveIntegerWidget(widgets.IntegerWidget):
    """A whole number ≥ 1 (Excel may hand over 2.0 for 2)."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        if value is None or value == "":
            return None
        try:
            number = Decimal(cell_text(value))
        except ArithmeticError:
            number = None
        if number is None or number != number.to_integral_value() or number < 1:
            raise ValidationError(
                _("Enter a whole number of at least 1 (got “%(value)s”)."),
                params={"value": cell_text(value)},
                code="positive_integer",
            )
        return int(number)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        # Integers go to Excel as numbers, not as localised text.
        return value


class ChoiceWidget(widgets.Widget):
    """One of a TextChoices' values, case-insensitive, plus Chinese aliases."""

    def __init__(
        self, choices: type[models.Choices], aliases: dict[str, str] | None = None
    ) -> None:
        self.values = [str(v) for v in choices.values]
        self.aliases = {k.lower(): v for k, v in (aliases or {}).items()}
        super().__init__(coerce_to_string=True)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        text = cell_text(value)
        if not text:
            return ""
        lowered = text.lower()
        for choice in self.values:
            if choice.lower() == lowered:
                return choice
        if lowered in self.aliases:
            return self.aliases[lowered]
        raise ValidationError(
            _("“%(value)s” is not one of: %(choices)s."),
            params={"value": text, "choices": " / ".join(self.values)},
            code="invalid_choice",
        )


class ExcelDateWidget(widgets.DateWidget):
    """A real Excel date, or text as YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD)."""

    _PATTERN = re.compile(r"^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})$")

    def __init__(self) -> None:
        # Exported as a real date so Excel shows a date, and re-imports as one.
        super().__init__(coerce_to_string=False)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> dt.date | None:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = cell_text(value)
        match = self._PATTERN.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        raise ValidationError(
            _("“%(value)s” is not a date: use an Excel date or YYYY-MM-DD."),
            params={"value": text},
            code="invalid_date",
        )


class CodeForeignKeyWidget(TextWidget):
    """A related object written as its code.

    Export follows the field's ``attribute`` (``delegation__code``); import
    cleans the code as text and the workbook driver resolves it, because the
    object may be defined by an earlier sheet of the same file and not exist
    in the database yet.
    """


class SheetResource(resources.ModelResource):
    """Base of the workbook's sheet resources (see the module docstring)."""

    sheet_name: ClassVar[str] = ""
    optional_columns: ClassVar[tuple[str, ...]] = ()
    required_values: ClassVar[tuple[str, ...]] = ()
    titles_zh: ClassVar[dict[str, str]] = {}

    @classmethod
    def column_keys(cls) -> list[str]:
        return [f.column_name for f in cls().get_export_fields()]

    @classmethod
    def required_columns(cls) -> list[str]:
        return [k for k in cls.column_keys() if k not in cls.optional_columns]

    def column_fields(self) -> dict[str, fields.Field]:
        return {f.column_name: f for f in self.get_export_fields()}


AWARD_POLICY_ALIASES = {
    "世界技能": "worldskills",
    "全国": "national",
    "比例": "ratio",
    "称号": "titles",
}
AGGREGATION_ALIASES = {"平均": "mean", "去极值": "trimmed"}


class SkillResource(SheetResource):
    """``skills`` sheet: code, name, team_size, award_policy, judgement_aggregation.

    Unique by (event, code); the event is the one being imported, so it is not
    a column of the sheet (see ``SkillAdminResource`` for the admin's version).
    """

    sheet_name = "skills"
    required_values = ("code", "name", "team_size", "award_policy", "judgement_aggregation")
    titles_zh = {
        "code": "赛项代码",
        "name": "赛项名称",
        "team_size": "每队人数（个人赛填1）",
        "award_policy": "奖项规则（worldskills/national/ratio/titles）",
        "judgement_aggregation": "评价分汇总（mean/trimmed）",
    }

    code = fields.Field(attribute="code", column_name="code", widget=TextWidget(40))
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget(200))
    team_size = fields.Field(
        attribute="team_size", column_name="team_size", widget=PositiveIntegerWidget()
    )
    award_policy = fields.Field(
        attribute="award_policy",
        column_name="award_policy",
        widget=ChoiceWidget(AwardPolicy, AWARD_POLICY_ALIASES),
    )
    judgement_aggregation = fields.Field(
        attribute="judgement_aggregation",
        column_name="judgement_aggregation",
        widget=ChoiceWidget(JudgementAggregation, AGGREGATION_ALIASES),
    )

    class Meta:
        model = Skill
        fields = ("code", "name", "team_size", "award_policy", "judgement_aggregation")
        export_order = fields
        import_id_fields = ("code",)

    def get_queryset(self):
        return Skill.objects.select_related("event").order_by("event__code", "code")


class SkillAdminResource(SkillResource):
    """The admin's skills import/export: all events, so the event code is a column.

    Row-by-row import through django-import-export works here because a skill
    row stands alone (unique by event and code).
    """

    event = fields.Field(
        attribute="event",
        column_name="event",
        widget=widgets.ForeignKeyWidget(Event, field="code"),
    )

    class Meta:
        model = Skill
        fields = ("event", "code", "name", "team_size", "award_policy", "judgement_aggregation")
        export_order = fields
        import_id_fields = ("event", "code")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
