"""Selection across rounds: one athlete's path and the programme's funnel.

* Rounds: the programme's selection rounds and finals in date order
  (undated last, then by code) — the order advancement uses; training
  rounds are left out.
* Funnel: *candidates* = distinct athletes entered in any round (any
  status); then, per round, the distinct athletes who competed in it (an
  entry neither withdrawn nor absent). Optionally one delegation and/or one
  skill code.
* Path: per round, the athlete's entry (skill, competitor number, status,
  final score, rank of N ranked), and how they reached the next round:
  advanced (selection-round advancement), nominated, drawn, or entered; "not
  advanced" when they have no entry in the next round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from competitions.models import AdvancedEntry, Event, Programme
from draws.models import Draw, Nomination
from scoring.models import EntryResult
from teams.models import Athlete, Delegation, Entry, EntryMember

ADVANCED, NOMINATED, DRAWN, ENTERED, NOT_ADVANCED, LAST = (
    "advanced",
    "nominated",
    "drawn",
    "entered",
    "not_advanced",
    "last",
)


def rounds(programme: Programme) -> list[Event]:
    events = Event.objects.filter(programme=programme).exclude(kind=Event.Kind.TRAINING)
    return sorted(events, key=lambda e: (e.starts_on is None, e.starts_on or dt.date.max, e.code))


@dataclass(frozen=True)
class FunnelBar:
    label: str
    count: int
    is_final: bool = False


def funnel(
    programme: Programme, *, delegation: Delegation | None = None, skill_code: str = ""
) -> list[FunnelBar]:
    events = rounds(programme)
    members = EntryMember.objects.filter(event__in=events)
    if delegation is not None:
        members = members.filter(entry__delegation=delegation)
    if skill_code:
        members = members.filter(entry__skill__code=skill_code)
    candidates = members.values("athlete").distinct().count()
    per_event = dict(
        members.filter(entry__status=Entry.Status.REGISTERED)
        .values("event")
        .annotate(n=Count("athlete", distinct=True))
        .values_list("event", "n")
    )
    bars = [FunnelBar("candidates", candidates)]
    for e in events:
        # "2026年…竞赛院级选拔赛" → "院级选拔赛": the bars sit under the programme's name.
        label = e.name.removeprefix(programme.name).strip() or e.name
        bars.append(FunnelBar(label, per_event.get(e.pk, 0), e.kind == Event.Kind.FINAL))
    return bars


@dataclass(frozen=True)
class PathStep:
    event: Event
    entry: Entry | None
    final_score: Decimal | None
    rank: int | None
    ranked: int
    onward: str  # one of ADVANCED … LAST, or "" when not entered


def _how_entered(entry: Entry) -> str:
    if AdvancedEntry.objects.filter(
        created_entry=entry, advancement__undone_at__isnull=True
    ).exists():
        return ADVANCED
    if Nomination.objects.filter(created_entry=entry).exists():
        return NOMINATED
    for draw in Draw.objects.filter(skill_id=entry.skill_id):
        if any(r.get("final_no") == entry.competitor_no for r in draw.result):
            return DRAWN
    return ENTERED


def athlete_path(programme: Programme, athlete: Athlete) -> list[PathStep]:
    events = rounds(programme)
    entries = {
        m.entry.skill.event_id: m.entry
        for m in EntryMember.objects.filter(athlete=athlete, event__in=events).select_related(
            "entry__skill"
        )
    }
    results = {r.entry_id: r for r in EntryResult.objects.filter(entry__in=list(entries.values()))}
    ranked = dict(
        EntryResult.objects.filter(
            skill_id__in=[e.skill_id for e in entries.values()], rank__isnull=False
        )
        .values("skill")
        .annotate(n=Count("pk", filter=Q(entry__status=Entry.Status.REGISTERED)))
        .values_list("skill", "n")
    )
    steps = []
    for i, event in enumerate(events):
        entry = entries.get(event.pk)
        if entry is None:
            steps.append(PathStep(event, None, None, None, 0, ""))
            continue
        result = results.get(entry.pk)
        if i + 1 == len(events):
            onward = LAST
        else:
            following = entries.get(events[i + 1].pk)
            onward = NOT_ADVANCED if following is None else _how_entered(following)
        steps.append(
            PathStep(
                event,
                entry,
                result.final_score if result else None,
                result.rank if result else None,
                ranked.get(entry.skill_id, 0),
                onward,
            )
        )
    return steps


def find_athletes(programme: Programme, text: str, limit: int = 50) -> list[Athlete]:
    text = (text or "").strip()[:50]
    if not text:
        return []
    return list(
        Athlete.objects.filter(memberships__event__programme=programme)
        .filter(Q(name__icontains=text) | Q(id_number=text.upper()))
        .select_related("delegation")
        .distinct()
        .order_by("delegation__code", "name")[:limit]
    )


# ------------------------------------------------------------------ chart geometry


@dataclass(frozen=True)
class ChartBar:
    label: str
    count: int
    y: int
    width: int
    value_x: int
    is_final: bool


@dataclass(frozen=True)
class Tick:
    x: int
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    axis_y: int
    bar_height: int
    bars: list[ChartBar]
    ticks: list[Tick]


def _nice_step(maximum: int) -> int:
    """A round tick step giving about four ticks."""
    if maximum <= 4:
        return 1
    raw = maximum / 4
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def chart(bars: list[FunnelBar], *, width: int = 720) -> Chart:
    """Horizontal bars, longest at the top; the numbers are drawn, never scripted."""
    left, right, top, bar_height, gap = 200, 70, 10, 34, 14
    plot_width = width - left - right
    maximum = max([b.count for b in bars] + [1])
    step = _nice_step(maximum)
    top_tick = step * -(-maximum // step)
    out = []
    for i, b in enumerate(bars):
        w = round(plot_width * b.count / top_tick)
        out.append(
            ChartBar(b.label, b.count, top + i * (bar_height + gap), w, left + w + 6, b.is_final)
        )
    axis_y = top + len(bars) * (bar_height + gap)
    ticks = [Tick(left + round(plot_width * v / top_tick), v) for v in range(0, top_tick + 1, step)]
    return Chart(width, axis_y + 44, left, plot_width, axis_y, bar_height, out, ticks)
