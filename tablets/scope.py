"""What a judge is offered: the skills, entries and aspects the panel rules
let them mark, and their progress (docs/integrity.md).

Anonymity: competitor numbers only; names only once ``names_revealed``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from scoring import panels
from scoring.models import Aspect, AspectKind, Mark
from teams.models import Entry, Judge, JudgeAssignment

from .models import RemarkRequest

if TYPE_CHECKING:
    from competitions.models import Skill


@dataclass
class Scope:
    """One skill as one judge sees it: entries and aspects they may mark."""

    skill: Skill
    judge: Judge
    entries: list[Entry]
    aspects: list[Aspect]
    allowed: dict[int, set[int]]  # entry id → aspect ids this judge may mark
    done: set[tuple[int, int]]  # (entry id, aspect id) with a mark that counts for this judge

    def progress(self, entry_id: int) -> tuple[int, int]:
        aspects = self.allowed.get(entry_id, set())
        return sum(1 for a in aspects if (entry_id, a) in self.done), len(aspects)


def judge_skills(judge: Judge) -> list[Skill]:
    from competitions.models import Skill

    return list(
        Skill.objects.filter(assignments__judge=judge)
        .select_related("event")
        .order_by("event__code", "code")
    )


def is_assigned(judge: Judge, skill: Skill) -> bool:
    return JudgeAssignment.objects.filter(judge=judge, skill=skill).exists()


def load_scope(skill: Skill, judge: Judge) -> Scope:
    """Entries offered to the judge: ranked entries with at least one aspect
    the panel rules let them mark — so recused entries (own delegation) and
    entries outside their marking groups are simply not there. A fixed
    number of queries."""
    panel = panels.load_panel(skill, judge_ids=[judge.pk])
    entries = list(
        Entry.objects.filter(skill=skill, status=Entry.Status.REGISTERED).order_by("competitor_no")
    )
    aspects = list(Aspect.objects.filter(skill=skill).select_related("sub_criterion__criterion"))
    allowed: dict[int, set[int]] = {}
    for entry in entries:
        ok = {
            a.pk
            for a in aspects
            if panel.check(judge.pk, entry.pk, entry.delegation_id, a.pk, a.kind) is None
        }
        if ok:
            allowed[entry.pk] = ok
    entries = [e for e in entries if e.pk in allowed]
    done = set(
        Mark.objects.filter(skill=skill)
        .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
        .values_list("entry_id", "aspect_id")
    )
    return Scope(skill, judge, entries, aspects, allowed, done)


@dataclass
class EntryRow:
    entry_id: int
    competitor_no: str
    done: int
    total: int
    remarks: int = 0
    names: str = ""  # only after sign-off

    @property
    def complete(self) -> bool:
        return self.done >= self.total


def entry_rows(scope: Scope, revealed: bool) -> list[EntryRow]:
    remarks: dict[int, int] = defaultdict(int)
    for entry_id in RemarkRequest.objects.filter(
        judge=scope.judge, entry__skill=scope.skill, resolved_at__isnull=True
    ).values_list("entry_id", flat=True):
        remarks[entry_id] += 1
    names = entry_names(scope.entries) if revealed else {}
    rows = []
    for entry in scope.entries:
        done, total = scope.progress(entry.pk)
        rows.append(
            EntryRow(
                entry.pk,
                entry.competitor_no,
                done,
                total,
                remarks[entry.pk],
                names.get(entry.pk, ""),
            )
        )
    return rows


def entry_names(entries: list[Entry]) -> dict[int, str]:
    from teams.models import EntryMember

    out: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in EntryMember.objects.filter(entry__in=entries).values_list(
        "entry_id", "athlete__name"
    ):
        out[entry_id].append(name)
    return {k: "、".join(v) for k, v in out.items()}


def find_entry(scope: Scope, competitor_no: str) -> Entry | None:
    return next((e for e in scope.entries if e.competitor_no == competitor_no), None)


def next_unmarked(scope: Scope, after_no: str | None = None) -> EntryRow | None:
    """The next entry (after ``after_no``, wrapping round) with marks to give."""
    rows = [e for e in scope.entries if scope.progress(e.pk)[0] < scope.progress(e.pk)[1]]
    if not rows:
        return None
    later = [e for e in rows if after_no is None or e.competitor_no > after_no]
    entry = (later or rows)[0]
    done, total = scope.progress(entry.pk)
    return EntryRow(entry.pk, entry.competitor_no, done, total)
