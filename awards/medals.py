"""The medal table (docs/awards.md)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from competitions.models import Event, Programme, Skill
from teams.models import Delegation

from . import policies
from .models import (
    Award,
    MedalTable,
    MedalTableRow,
)


def skill_medals(event: Event) -> list[dict]:
    """Gold/silver/bronze/excellence counts of each skill of the event."""
    counts = (
        Skill.objects.filter(event=event)
        .annotate(
            gold=Count("awards", filter=Q(awards__kind=policies.GOLD)),
            silver=Count("awards", filter=Q(awards__kind=policies.SILVER)),
            bronze=Count("awards", filter=Q(awards__kind=policies.BRONZE)),
            excellence=Count("awards", filter=Q(awards__kind=policies.EXCELLENCE)),
        )
        .order_by("code")
    )
    return [
        {
            "skill": s,
            "gold": s.gold,
            "silver": s.silver,
            "bronze": s.bronze,
            "excellence": s.excellence,
        }
        for s in counts
    ]


def _store_table(programme: Programme, event: Event | None, awards: Iterable) -> MedalTable:
    pairs = [(code, kind) for code, kind in awards]
    tallies = policies.order_medal_table(policies.tally(pairs).values())
    by_code = Delegation.objects.in_bulk([t.delegation_code for t in tallies], field_name="code")
    with transaction.atomic():
        if event is not None:
            table, _created = MedalTable.objects.select_for_update().get_or_create(
                event=event, defaults={"programme": programme, "computed_at": timezone.now()}
            )
        else:
            table, _created = MedalTable.objects.select_for_update().get_or_create(
                programme=programme, event=None, defaults={"computed_at": timezone.now()}
            )
        table.rows.all().delete()
        MedalTableRow.objects.bulk_create(
            MedalTableRow(
                table=table,
                position=i,
                place=t.place,
                delegation=by_code[t.delegation_code],
                gold=t.gold,
                silver=t.silver,
                bronze=t.bronze,
                excellence=t.excellence,
            )
            for i, t in enumerate(tallies, start=1)
        )
        table.computed_at = timezone.now()
        table.save(update_fields=["computed_at"])
    return table


def _medal_pairs(awards_qs) -> list[tuple[str, str | None]]:
    # One row per entry, so a team's medal counts once for its delegation.
    return list(
        awards_qs.filter(kind__in=[*policies.MEDALS, policies.EXCELLENCE]).values_list(
            "entry__delegation__code", "kind"
        )
    )


def compute_medal_table(event: Event) -> MedalTable:
    """Store the event's medal table: delegations with at least one medal or excellence."""
    return _store_table(
        event.programme, event, _medal_pairs(Award.objects.filter(skill__event=event))
    )


def compute_programme_medal_table(programme: Programme) -> MedalTable:
    return _store_table(
        programme,
        None,
        _medal_pairs(Award.objects.filter(skill__event__programme=programme)),
    )


def medal_table_rows(event: Event) -> list[dict]:
    """For the results workbook's medal_table sheet (docs/formats.md)."""
    table = MedalTable.objects.filter(event=event).first() or compute_medal_table(event)
    return [
        {
            "place": r.place,
            "delegation_code": r.delegation.code,
            "gold": r.gold,
            "silver": r.silver,
            "bronze": r.bronze,
            "excellence": r.excellence,
            "delegation_name": r.delegation.name,
        }
        for r in table.rows.select_related("delegation")
    ]
