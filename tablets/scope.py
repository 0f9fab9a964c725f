"""What a judge is offered: the skills, entries and aspects the panel rules
let them mark, and their progress (docs/integrity.md).

Anonymity: competitor numbers only; names only once ``names_revealed``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q

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
    allowed: dict[int, frozenset[int]]  # entry id → aspect ids this judge may mark
    done: dict[int, int]  # entry id → marks that count for this judge, on allowed aspects

    def progress(self, entry_id: int) -> tuple[int, int]:
        return self.done.get(entry_id, 0), len(self.allowed.get(entry_id, ()))


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
    entries outside their marking groups are simply not there — and the
    judge's progress on each.

    A fixed number of queries, each answering per entry, not per mark: the
    panel rules are applied per entry (``panels.allowed_by_entry``) and the
    marks are counted by the database (``done_counts``)."""
    panel = panels.load_panel(skill, judge_ids=[judge.pk])
    entries = list(
        Entry.objects.filter(skill=skill, status=Entry.Status.REGISTERED).order_by("competitor_no")
    )
    aspects = list(Aspect.objects.filter(skill=skill).select_related("sub_criterion__criterion"))
    allowed = panels.allowed_by_entry(
        panel,
        judge.pk,
        [(e.pk, e.delegation_id) for e in entries],
        [(a.pk, a.kind) for a in aspects],
    )
    offered = {e: a for e, a in allowed.items() if a}
    entries = [e for e in entries if e.pk in offered]
    done = done_counts(skill, judge, offered, frozenset(a.pk for a in aspects))
    return Scope(skill, judge, entries, aspects, offered, done)


# Beyond this many different sets of allowed aspects (marking groups listing
# aspects per entry), one query fetching the (entry, aspect) pairs is cheaper
# than one count per set.
MAX_COUNTED_SETS = 4


def done_counts(
    skill: Skill, judge: Judge, allowed: dict[int, frozenset[int]], every: frozenset[int]
) -> dict[int, int]:
    """Entry id → the marks that count for ``judge`` on the aspects allowed
    to them (M marks by anyone, their own J scores), counted by the
    database: one query per distinct set of allowed aspects (almost always
    one: every entry offered allows the same aspects), rows per entry."""
    counted = (
        Mark.objects.filter(skill=skill)
        .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
        .order_by()
    )
    by_set: dict[frozenset[int], list[int]] = defaultdict(list)
    for entry_id, aspect_ids in allowed.items():
        by_set[aspect_ids].append(entry_id)
    if len(by_set) > MAX_COUNTED_SETS:
        done: dict[int, int] = defaultdict(int)
        for entry_id, aspect_id in counted.values_list("entry_id", "aspect_id"):
            if aspect_id in allowed.get(entry_id, ()):
                done[entry_id] += 1
        return dict(done)
    out: dict[int, int] = {}
    for aspect_ids, entry_ids in by_set.items():
        q = counted
        if len(by_set) > 1:
            q = q.filter(entry_id__in=entry_ids)
        if aspect_ids != every:
            q = q.filter(aspect_id__in=aspect_ids)
        for entry_id, n in q.values_list("entry_id").annotate(n=Count("id")):
            if entry_id in allowed:
                out[entry_id] = n
    return out


def offered_entry(skill: Skill, judge: Judge, entry_id: int) -> Entry | None:
    """The entry if it is offered to the judge (ranked, at least one aspect
    the panel rules let them mark), else None: one entry's panel facts, not
    the skill's."""
    entry = Entry.objects.filter(pk=entry_id, skill=skill, status=Entry.Status.REGISTERED).first()
    if entry is None:
        return None
    panel = panels.load_panel(skill, judge_ids=[judge.pk])
    kinds = list(Aspect.objects.filter(skill=skill).values_list("id", "kind"))
    allowed = panels.allowed_by_entry(panel, judge.pk, [(entry.pk, entry.delegation_id)], kinds)
    return entry if allowed[entry.pk] else None


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
