"""A programme's dated stages (阶段) and where it stands today (docs/rewards.md).

A stage is current on the days from its start to its end, inclusive
(Asia/Shanghai dates). When no stage is current (between two stages, before
the first, after the last) there is no current stage; the next stage is the
first that starts after today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from .models import Phase, Programme


@dataclass(frozen=True)
class StageView:
    stage: Phase
    state: str  # "past" / "current" / "next" / "future"

    @property
    def label(self) -> str:
        return self.stage.label


def programme_stages(programme: Programme, today: dt.date | None = None) -> list[StageView]:
    today = today or timezone.localdate()
    stages = list(Phase.objects.filter(programme=programme).order_by("starts_on", "ends_on", "pk"))
    upcoming = [s for s in stages if s.starts_on > today]
    following = upcoming[0] if upcoming else None
    out = []
    for s in stages:
        if s.ends_on < today:
            state = "past"
        elif s.starts_on <= today:
            state = "current"
        elif s is following:
            state = "next"
        else:
            state = "future"
        out.append(StageView(s, state))
    return out


def current_stage(programme: Programme, today: dt.date | None = None) -> Phase | None:
    current = [v.stage for v in programme_stages(programme, today) if v.state == "current"]
    return current[0] if current else None


def next_stage(programme: Programme, today: dt.date | None = None) -> Phase | None:
    found = [v.stage for v in programme_stages(programme, today) if v.state == "next"]
    return found[0] if found else None
