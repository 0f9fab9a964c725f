"""The event workbook's optional ``rewards`` sheet: outcome, bonus_yuan,
credits — the programme's rewards register (docs/rewards.md).

Registered with ``interchange.event_workbook.sheets`` through its registry (found
by ``autodiscover_modules("workbook_sheets")``), after every other sheet:
it refers to nothing earlier in the file. The rows listed are brought up
to date; outcomes the sheet does not list are left alone, as every sheet of
this workbook leaves unlisted rows alone.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from competitions.resources import ChoiceWidget, SheetResource, cell_text
from interchange.event_workbook.context import ImportContext, ParsedSheet, SheetDefinition
from interchange.event_workbook.report import CREATED, UNCHANGED, UPDATED
from interchange.event_workbook.sheets import register_sheet

from .models import Outcome, Reward
from .rewards import parse_amount

OUTCOME_ALIASES = {
    "入围": "finalist",
    "决赛选手": "finalist",
    "技术能手": "technical_expert",
    "优胜者": "winner",
    "金牌": "gold",
    "银牌": "silver",
    "铜牌": "bronze",
    "优胜奖": "excellence",
    "一等奖": "first",
    "二等奖": "second",
    "三等奖": "third",
}


class AmountWidget(widgets.Widget):
    """A bonus or a credit amount: empty is 0; ≥ 0; at most two decimals."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any):
        return parse_amount(cell_text(value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return None
        return int(value) if value == value.to_integral_value() else value


class RewardResource(SheetResource):
    sheet_name = "rewards"
    required_values = ("outcome",)
    optional_columns = ("bonus_yuan", "credits")
    titles_zh = {
        "outcome": "结果（finalist/奖项/称号）",
        "bonus_yuan": "奖金（元）",
        "credits": "继续教育学分",
    }

    outcome = fields.Field(
        attribute="outcome", column_name="outcome", widget=ChoiceWidget(Outcome, OUTCOME_ALIASES)
    )
    bonus_yuan = fields.Field(
        attribute="bonus_yuan", column_name="bonus_yuan", widget=AmountWidget()
    )
    credits = fields.Field(attribute="credits", column_name="credits", widget=AmountWidget())

    class Meta:
        model = Reward
        fields = ("outcome", "bonus_yuan", "credits")
        export_order = fields


DUPLICATE_OUTCOME = _("Outcome %(code)s is listed twice (first on row %(first)s).")


def import_rewards(ctx: ImportContext, sheet: ParsedSheet) -> None:
    good = []
    seen: dict[str, int] = {}
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        outcome = data.get("outcome")
        if outcome in seen:
            ctx.error(sheet, row, "outcome", DUPLICATE_OUTCOME, code=outcome, first=seen[outcome])
            ok = False
        elif outcome:
            seen[outcome] = row.number
        if ok:
            good.append(data)
    if not ctx.writable:
        return
    programme = ctx.event.programme
    existing = {r.outcome: r for r in Reward.objects.filter(programme=programme)}
    for data in good:
        values = {"bonus_yuan": data.get("bonus_yuan", 0), "credits": data.get("credits", 0)}
        found = existing.get(data["outcome"])
        if found is None:
            Reward.objects.create(programme=programme, outcome=data["outcome"], **values)
            ctx.count(sheet, CREATED)
            continue
        changed = [k for k, v in values.items() if getattr(found, k) != v]
        for k in changed:
            setattr(found, k, values[k])
        if changed:
            found.save(update_fields=changed)
        ctx.count(sheet, UPDATED if changed else UNCHANGED)


register_sheet(
    SheetDefinition(
        RewardResource,
        import_rewards,
        lambda event: Reward.objects.filter(programme_id=event.programme_id).order_by("outcome"),
    )
)
