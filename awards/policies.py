"""Award policies and medal-table ordering (docs/awards.md), as pure functions.

Nothing here touches the ORM: the services feed plain values in and store what
comes out, so every rule can be tested on hand-made cases. Arithmetic is exact
(Fraction); floats never decide an award.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

WORLDSKILLS = "worldskills"
NATIONAL = "national"
RATIO = "ratio"
TITLES = "titles"

GOLD = "gold"
SILVER = "silver"
BRONZE = "bronze"
EXCELLENCE = "excellence"
FIRST = "first"
SECOND = "second"
THIRD = "third"
# Title codes: the national policy's title and the titles policy's two.
TECHNICAL_EXPERT = "technical_expert"
WINNER = "winner"
TITLE_CODES = (TECHNICAL_EXPERT, WINNER)

MEDALS = (GOLD, SILVER, BRONZE)
# The Chinese name printed on certificates, whatever the page language.
CHINESE_NAMES = {
    GOLD: "金牌",
    SILVER: "银牌",
    BRONZE: "铜牌",
    EXCELLENCE: "优胜奖",
    FIRST: "一等奖",
    SECOND: "二等奖",
    THIRD: "三等奖",
}
DEFAULT_TITLE_NAME = "技术能手"
DEFAULT_WINNER_TITLE_NAME = "优胜者"

Number = int | Fraction | Decimal


@dataclass(frozen=True)
class PolicySettings:
    """The organiser-editable parameters of the policies (defaults of docs/awards.md)."""

    first_percent: Number = 10
    second_percent: Number = 30
    third_percent: Number = 60
    excellence_threshold: int = 700
    title_cutoff_individual: int = 5
    title_cutoff_pair: int = 3
    title_cutoff_team: int = 2
    # The titles policy: cumulative shares of the ranked entries, in percent.
    expert_percent: Number = 15
    winner_percent: Number = 40


@dataclass(frozen=True)
class Ranked:
    """One ranked entry of a skill: its key (entry id), rank and scale score."""

    key: int
    rank: int
    scale_score: int | None = None


@dataclass(frozen=True)
class Outcome:
    key: int
    award: str | None
    title: bool = False
    # Which title (TECHNICAL_EXPERT or WINNER) when ``title``; "" otherwise.
    title_code: str = ""


def half_up(x: Fraction) -> int:
    """Round a non-negative exact number half up: h(2.5) = 3, h(1.5) = 2."""
    if x < 0:
        raise ValueError("half_up is defined for non-negative numbers")
    return int(x + Fraction(1, 2))  # int() truncates, so this is floor(x + 1/2)


def _exact(value: Number) -> Fraction:
    if isinstance(value, float):  # a float would carry binary noise into the cut-off
        raise TypeError("ratios must be int, Decimal or Fraction, never float")
    return Fraction(value)


def ratio_cutoffs(n: int, settings: PolicySettings) -> tuple[int, int, int]:
    """Ranks up to which an entry gets 一/二/三等奖: h(p × N) for each percentage."""
    return tuple(  # type: ignore[return-value]
        half_up(_exact(p) / 100 * n)
        for p in (settings.first_percent, settings.second_percent, settings.third_percent)
    )


def medal_for(rank: int) -> str | None:
    # Ties share: ranks 1, 1, 3 give gold, gold, bronze and no silver, because
    # the medal follows the rank and standard competition ranking skips 2.
    return {1: GOLD, 2: SILVER, 3: BRONZE}.get(rank)


def title_cutoff(team_size: int, settings: PolicySettings) -> int:
    if team_size <= 1:
        return settings.title_cutoff_individual
    if team_size == 2:
        return settings.title_cutoff_pair
    return settings.title_cutoff_team


def _check(entries: Sequence[Ranked]) -> None:
    for e in entries:
        if e.rank < 1:
            raise ValueError(f"rank must be ≥ 1 (entry {e.key}: {e.rank})")


def worldskills(
    entries: Sequence[Ranked], settings: PolicySettings = PolicySettings()
) -> list[Outcome]:
    """Gold/silver/bronze by rank; excellence: not a medallist and S ≥ threshold."""
    _check(entries)
    out = []
    for e in entries:
        award = medal_for(e.rank)
        if (
            award is None
            and e.scale_score is not None
            and e.scale_score >= settings.excellence_threshold
        ):
            award = EXCELLENCE
        out.append(Outcome(e.key, award))
    return out


def national(
    entries: Sequence[Ranked], team_size: int = 1, settings: PolicySettings = PolicySettings()
) -> list[Outcome]:
    """Medals by rank; 优胜奖: not a medallist and 2r ≤ N; 技术能手 title: r ≤ cut-off."""
    _check(entries)
    n = len(entries)
    cutoff = title_cutoff(team_size, settings)
    out = []
    for e in entries:
        award = medal_for(e.rank)
        if award is None and 2 * e.rank <= n:
            award = EXCELLENCE
        titled = e.rank <= cutoff
        code = TECHNICAL_EXPERT if titled else ""
        out.append(Outcome(e.key, award, title=titled, title_code=code))
    return out


def ratio(entries: Sequence[Ranked], settings: PolicySettings = PolicySettings()) -> list[Outcome]:
    """一等奖 r ≤ h(p1·N), else 二等奖 r ≤ h(p2·N), else 三等奖 r ≤ h(p3·N)."""
    _check(entries)
    first, second, third = ratio_cutoffs(len(entries), settings)
    out = []
    for e in entries:
        if e.rank <= first:
            award = FIRST
        elif e.rank <= second:
            award = SECOND
        elif e.rank <= third:
            award = THIRD
        else:
            award = None
        out.append(Outcome(e.key, award))
    return out


def titles_cutoffs(n: int, settings: PolicySettings) -> tuple[int, int]:
    """Last ranks of 技术能手 and of 优胜者: h(p × N) for each percentage."""
    return tuple(  # type: ignore[return-value]
        half_up(_exact(p) / 100 * n) for p in (settings.expert_percent, settings.winner_percent)
    )


def titles(entries: Sequence[Ranked], settings: PolicySettings = PolicySettings()) -> list[Outcome]:
    """技术能手 if r ≤ h(pe·N), else 优胜者 if r ≤ h(pw·N); no medals, no prizes."""
    _check(entries)
    expert, winner = titles_cutoffs(len(entries), settings)
    out = []
    for e in entries:
        if e.rank <= expert:
            code = TECHNICAL_EXPERT
        elif e.rank <= winner:
            code = WINNER
        else:
            code = ""
        out.append(Outcome(e.key, None, title=bool(code), title_code=code))
    return out


PolicyName = Literal["worldskills", "national", "ratio", "titles"]


def apply_policy(
    policy: str,
    entries: Sequence[Ranked],
    *,
    team_size: int = 1,
    settings: PolicySettings = PolicySettings(),
) -> list[Outcome]:
    if policy == WORLDSKILLS:
        return worldskills(entries, settings)
    if policy == NATIONAL:
        return national(entries, team_size, settings)
    if policy == RATIO:
        return ratio(entries, settings)
    if policy == TITLES:
        return titles(entries, settings)
    raise ValueError(f"unknown award policy {policy!r}")


# ---------------------------------------------------------------- medal table


@dataclass
class Tally:
    delegation_code: str
    gold: int = 0
    silver: int = 0
    bronze: int = 0
    excellence: int = 0
    place: int = 0
    key: object = field(default=None, compare=False)

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.gold, self.silver, self.bronze, self.excellence)

    @property
    def total(self) -> int:
        return self.gold + self.silver + self.bronze + self.excellence


def tally(awards: Iterable[tuple[str, str | None]]) -> dict[str, Tally]:
    """Count (delegation_code, award) pairs — one pair per entry, so a team counts once."""
    table: dict[str, Tally] = {}
    for code, award in awards:
        row = table.setdefault(code, Tally(code))
        if award in (GOLD, SILVER, BRONZE, EXCELLENCE):
            setattr(row, award, getattr(row, award) + 1)
    return table


def order_medal_table(rows: Iterable[Tally]) -> list[Tally]:
    """Gold, silver, bronze, excellence descending, then code ascending; equal
    counts share a place, standard competition style (1, 2, 2, 4)."""
    ordered = sorted(
        rows, key=lambda r: (-r.gold, -r.silver, -r.bronze, -r.excellence, r.delegation_code)
    )
    previous: tuple[int, int, int, int] | None = None
    for i, row in enumerate(ordered, start=1):
        if row.counts != previous:
            row.place = i
            previous = row.counts
        else:
            row.place = ordered[i - 2].place
    return ordered
