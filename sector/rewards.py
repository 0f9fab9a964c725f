"""Rewards of a programme's outcomes and who gets them (docs/rewards.md).

* A programme's register says, per outcome, a bonus in yuan and
  continuing-education credits (``Reward``); an outcome without a row, or
  with both at zero, is worth nothing.
* Outcomes: ``finalist`` — every member of every entry of the event that is
  not withdrawn or absent; an award code (gold … third) and a title code
  (technical_expert, winner) — every member of an entry that holds it.
* Each person gets the reward of each outcome they hold: one row per person
  and outcome with a non-zero reward. ``totals``: per delegation, the number
  of people with at least one row and the sums.

Leads get their own delegation's rows of published skills only (awards are
under embargo until publication; so is who reached which result).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell

from awards.models import Award
from competitions.models import Event, Programme, SkillPublication
from teams import roles
from teams.models import Delegation, Entry

from .models import AMOUNT_MAX, FINALIST, OUTCOME_ORDER, Outcome, Reward

REWARD_KEYS = (
    "delegation_code",
    "skill_code",
    "competitor_no",
    "name",
    "outcome",
    "bonus_yuan",
    "credits",
)
TOTAL_KEYS = ("delegation_code", "people", "bonus_yuan", "credits")


@dataclass(frozen=True)
class RewardRow:
    delegation_code: str
    skill_code: str
    competitor_no: str
    name: str
    outcome: str
    bonus_yuan: Decimal
    credits: Decimal
    athlete_id: int


@dataclass(frozen=True)
class TotalRow:
    delegation_code: str
    people: int
    bonus_yuan: Decimal
    credits: Decimal


def register_of(programme: Programme) -> dict[str, Reward]:
    return {r.outcome: r for r in Reward.objects.filter(programme=programme)}


def parse_amount(raw: object) -> Decimal:
    """A bonus or credit amount: ≥ 0, at most 2 decimal places; floats refused."""
    if isinstance(raw, float):
        raise ValidationError(_("Enter the amount as text or a whole number."), code="float")
    text = "0" if raw is None or str(raw).strip() == "" else str(raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("“%(value)s” is not a number."), params={"value": text}) from None
    if not value.is_finite() or value < 0 or value > AMOUNT_MAX:
        raise ValidationError(
            _("The amount must be between 0 and %(max)s."), params={"max": AMOUNT_MAX}
        )
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(_("At most two decimal places."), code="places")
    return value.quantize(Decimal("0.01"))


def set_rewards(
    programme: Programme,
    values: Mapping[str, tuple[Decimal, Decimal, str]],
    user=None,
) -> list[Reward]:
    """Replace the register's rows for the outcomes given (organisers only).
    An outcome set to zero bonus and zero credits with no note is removed."""
    if user is not None and not roles.is_organiser(user):
        raise PermissionDenied
    unknown = set(values) - set(Outcome.values)
    if unknown:
        raise ValidationError(_("Unknown outcome %(code)s."), params={"code": sorted(unknown)[0]})
    with transaction.atomic():
        for outcome, (bonus, credits, note) in values.items():
            bonus, credits = parse_amount(bonus), parse_amount(credits)
            note = (note or "").strip()[:200]
            if not bonus and not credits and not note:
                Reward.objects.filter(programme=programme, outcome=outcome).delete()
                continue
            Reward.objects.update_or_create(
                programme=programme,
                outcome=outcome,
                defaults={"bonus_yuan": bonus, "credits": credits, "note": note},
            )
    return list(Reward.objects.filter(programme=programme))


def _published_skill_ids(event: Event) -> set[int]:
    return set(
        SkillPublication.objects.filter(skill__event=event, published=True).values_list(
            "skill_id", flat=True
        )
    )


def reward_rows(
    event: Event, *, delegation: Delegation | None = None, published_only: bool = False
) -> list[RewardRow]:
    """One row per person and outcome with a non-zero reward, ordered by
    delegation, skill, competitor number, name, outcome."""
    register = {
        code: r for code, r in register_of(event.programme).items() if r.bonus_yuan or r.credits
    }
    if not register:
        return []
    entries = Entry.objects.filter(skill__event=event, status=Entry.Status.REGISTERED)
    if delegation is not None:
        entries = entries.filter(delegation=delegation)
    if published_only:
        entries = entries.filter(skill_id__in=_published_skill_ids(event))
    entries = entries.select_related("skill", "delegation").prefetch_related("members__athlete")
    awards = {
        a.entry_id: a
        for a in Award.objects.filter(skill__event=event).only(
            "entry_id", "kind", "title", "title_kind"
        )
    }
    rows = []
    for entry in entries:
        held = [FINALIST]
        award = awards.get(entry.pk)
        if award is not None:
            if award.kind:
                held.append(award.kind)
            if award.title:
                held.append(award.title_code)
        for member in entry.members.all():
            for outcome in held:
                reward = register.get(outcome)
                if reward is None:
                    continue
                rows.append(
                    RewardRow(
                        delegation_code=entry.delegation.code,
                        skill_code=entry.skill.code,
                        competitor_no=entry.competitor_no,
                        name=member.athlete.name,
                        outcome=outcome,
                        bonus_yuan=reward.bonus_yuan,
                        credits=reward.credits,
                        athlete_id=member.athlete_id,
                    )
                )
    rows.sort(
        key=lambda r: (
            r.delegation_code,
            r.skill_code,
            r.competitor_no,
            r.name,
            r.athlete_id,
            OUTCOME_ORDER[r.outcome],
        )
    )
    return rows


def totals(rows: Iterable[RewardRow]) -> list[TotalRow]:
    people: dict[str, set[int]] = defaultdict(set)
    bonus: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        people[r.delegation_code].add(r.athlete_id)
        bonus[r.delegation_code] += r.bonus_yuan
        credits[r.delegation_code] += r.credits
    return [
        TotalRow(code, len(people[code]), bonus[code], credits[code]) for code in sorted(people)
    ]


# ------------------------------------------------------------------ workbook


def _number(value: Decimal) -> int | Decimal:
    """Whole amounts as integers (1000, not 1000.00); others exactly."""
    return int(value) if value == value.to_integral_value() else value


def _text(ws, value: str) -> Cell:
    """User text as a string cell: never a formula, whatever it begins with."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def write_rewards_workbook(
    rows: list[RewardRow], total_rows: list[TotalRow], target: str | Path | IO[bytes]
) -> None:
    """Sheets ``rewards`` and ``totals``, keys on row 1."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("rewards")
    ws.append(list(REWARD_KEYS))
    for r in rows:
        ws.append(
            [
                _text(ws, r.delegation_code),
                _text(ws, r.skill_code),
                _text(ws, r.competitor_no),
                _text(ws, r.name),
                _text(ws, r.outcome),
                _number(r.bonus_yuan),
                _number(r.credits),
            ]
        )
    ws = wb.create_sheet("totals")
    ws.append(list(TOTAL_KEYS))
    for t in total_rows:
        ws.append(
            [_text(ws, t.delegation_code), t.people, _number(t.bonus_yuan), _number(t.credits)]
        )
    wb.save(target)


def export_rewards(
    event: Event,
    target: str | Path | IO[bytes],
    *,
    delegation: Delegation | None = None,
    published_only: bool = False,
) -> tuple[int, int]:
    """Write the rewards workbook; returns (rows, delegations)."""
    rows = reward_rows(event, delegation=delegation, published_only=published_only)
    total_rows = totals(rows)
    write_rewards_workbook(rows, total_rows, target)
    return len(rows), len(total_rows)
