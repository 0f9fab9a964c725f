"""The medal table (docs/awards.md): one computation, counted at the database
from the stored awards whenever a page or a workbook asks.

There is no stored copy: awards change only by sign-off (``awarding``), and
publication decides which skills count, so a table counted when read is
never behind either. Public pages, leads' pages and every workbook count the
published skills; the organisers' own pages and the organisers' interchange
workbook may also count the signed-off skills not yet published
(``include_unpublished``). Once every skill is published the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from competitions import publication
from competitions.models import Event, Programme, Skill
from scoring.models import SkillMarking

from . import policies
from .models import Award

KINDS = (policies.GOLD, policies.SILVER, policies.BRONZE, policies.EXCELLENCE)


@dataclass(frozen=True)
class MedalLine:
    place: int
    delegation_code: str
    delegation_name: str
    gold: int
    silver: int
    bronze: int
    excellence: int

    @property
    def total(self) -> int:
        return self.gold + self.silver + self.bronze + self.excellence


@dataclass(frozen=True)
class MedalTableView:
    lines: list[MedalLine]
    published: int  # skills counted
    skills: int  # skills with entries

    @property
    def complete(self) -> bool:
        return self.skills > 0 and self.published >= self.skills


def medal_lines(skills: QuerySet[Skill]) -> list[MedalLine]:
    """The table over these skills: one line per delegation with at least one
    medal or excellence (one award row per entry, so a team counts once),
    counted by one aggregate query and ordered by ``policies.order_medal_table``."""
    counts = (
        Award.objects.filter(skill__in=skills, kind__in=KINDS)
        .values("entry__delegation__code", "entry__delegation__name")
        .annotate(**{kind: Count("pk", filter=Q(kind=kind)) for kind in KINDS})
        .order_by()
    )
    names: dict[str, str] = {}
    tallies = []
    for row in counts:
        code = row["entry__delegation__code"]
        names[code] = row["entry__delegation__name"]
        tallies.append(policies.Tally(code, *(row[kind] for kind in KINDS)))
    return [
        MedalLine(
            place=t.place,
            delegation_code=t.delegation_code,
            delegation_name=names[t.delegation_code],
            gold=t.gold,
            silver=t.silver,
            bronze=t.bronze,
            excellence=t.excellence,
        )
        for t in policies.order_medal_table(tallies)
    ]


def _counted(skills: QuerySet[Skill], include_unpublished: bool) -> QuerySet[Skill]:
    if include_unpublished:
        # Signed off: awards are computed from signed-off results only, and a
        # reopened skill's awards no longer count.
        return skills.filter(marking__status=SkillMarking.Status.SIGNED_OFF)
    return skills.filter(pk__in=publication.published_skills())


def event_medal_table(event: Event, *, include_unpublished: bool = False) -> MedalTableView:
    """The event's medal table over its published skills (or, for organisers,
    every signed-off skill)."""
    skills = Skill.objects.filter(event=event)
    return _view(skills, include_unpublished)


def programme_medal_table(
    programme: Programme, *, include_unpublished: bool = False
) -> MedalTableView:
    """The same over every event of the programme."""
    skills = Skill.objects.filter(event__programme=programme)
    return _view(skills, include_unpublished)


def _view(skills: QuerySet[Skill], include_unpublished: bool) -> MedalTableView:
    counted = _counted(skills, include_unpublished)
    return MedalTableView(
        lines=medal_lines(counted),
        published=counted.count(),
        skills=skills.filter(entries__isnull=False).distinct().count(),
    )


def skill_medals(event: Event) -> list[dict]:
    """Gold/silver/bronze/excellence counts of each skill of the event."""
    counts = (
        Skill.objects.filter(event=event)
        .annotate(
            **{kind: Count("awards", filter=Q(awards__kind=kind)) for kind in KINDS},
        )
        .order_by("code")
    )
    return [{"skill": s, **{kind: getattr(s, kind) for kind in KINDS}} for s in counts]


def medal_table_rows(lines: Iterable[MedalLine]) -> list[dict]:
    """The lines as the workbook's medal_table sheet reads them (docs/formats.md)."""
    return [
        {
            "place": m.place,
            "delegation_code": m.delegation_code,
            "gold": m.gold,
            "silver": m.silver,
            "bronze": m.bronze,
            "excellence": m.excellence,
            "delegation_name": m.delegation_name,
        }
        for m in lines
    ]
