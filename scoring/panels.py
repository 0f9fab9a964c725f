"""Who may mark what (DESIGN.md §5).

The rules, in the order they are checked:

1. The aspect must belong to the entry's skill.
2. The judge must be assigned to the skill (``JudgeAssignment``).
3. A judge never marks an entry of their own delegation (回避), whatever their role.
4. **Chief judges** (role ``chief``) are not expected markers: they are never
   counted among the judges expected to score a judgement (J) aspect and may
   not give judgement scores (their score would change the panel's mean).
   They *may* enter measurement (M) marks — in practice the chief judge often
   enters or corrects an objective measurement — subject to rule 3.
5. Marking groups narrow a judge (see ``MarkingGroup``): a judge in no group of
   the skill may mark every entry and aspect; a judge in one or more groups
   may mark only the (entry, aspect) pairs some group of theirs covers. A
   group with no entries listed covers every entry, likewise for aspects.

A measurement aspect needs exactly one mark, from any judge allowed by these
rules, so there is no ``expected_measurement_writers``.

``expected_judgement_judges`` feeds the results engine for skills of 40+
entries × 60 aspects, so it loads the panel with a fixed number of queries
(no per-entry or per-aspect query) and works in memory.

Public API (kept stable; the results engine imports it):

- ``check(judge, entry, aspect) -> Refusal | None``
- ``refusal(judge, entry, aspect) -> str | None``
- ``eligible_judges(skill, include_chief=False) -> dict[int, int]``
- ``chief_judge_id(skill) -> int | None``
- ``load_panel(skill) -> Panel``
- ``expected_judgement_judges(skill) -> dict[tuple[int, int], frozenset[int]]``
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from teams.models import Entry, JudgeAssignment

from .models import Aspect, AspectKind, MarkingGroup

if TYPE_CHECKING:
    from competitions.models import Skill
    from teams.models import Judge


# Refusal codes (stable: the tablet and the importer may switch on them).
NOT_ASSIGNED = "not_assigned"
OWN_DELEGATION = "own_delegation"
OUTSIDE_GROUP = "outside_group"
CHIEF_JUDGEMENT = "chief_judgement"
WRONG_SKILL = "wrong_skill"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GroupCover:
    """What one marking group covers; ``None`` means "all"."""

    entries: frozenset[int] | None
    aspects: frozenset[int] | None

    def covers(self, entry_id: int, aspect_id: int) -> bool:
        return (self.entries is None or entry_id in self.entries) and (
            self.aspects is None or aspect_id in self.aspects
        )


@dataclass
class Panel:
    """A skill's panel loaded in a few queries.

    ``judges`` maps judge id → home delegation id for every assigned judge;
    ``chiefs`` holds the id of the chief judge (if any); ``groups`` maps a
    judge id → the covers of the groups that judge belongs to (absent = not
    narrowed).
    """

    skill_id: int
    judges: dict[int, int] = field(default_factory=dict)
    chiefs: frozenset[int] = frozenset()
    groups: dict[int, list[GroupCover]] = field(default_factory=dict)

    def check(
        self,
        judge_id: int,
        entry_id: int,
        entry_delegation_id: int,
        aspect_id: int,
        aspect_kind: str,
    ) -> Refusal | None:
        if judge_id not in self.judges:
            return Refusal(
                NOT_ASSIGNED, _("You are not assigned to this skill, so you cannot mark it.")
            )
        if self.judges[judge_id] == entry_delegation_id:
            return Refusal(
                OWN_DELEGATION,
                _(
                    "Recusal (回避): this entry belongs to your own delegation, "
                    "so you may not mark it."
                ),
            )
        if judge_id in self.chiefs and aspect_kind == AspectKind.JUDGEMENT:
            return Refusal(
                CHIEF_JUDGEMENT,
                _("The chief judge does not give judgement scores; judges of the panel do."),
            )
        covers = self.groups.get(judge_id)
        if covers is not None and not any(c.covers(entry_id, aspect_id) for c in covers):
            return Refusal(
                OUTSIDE_GROUP,
                _("This entry or aspect is outside your marking group."),
            )
        return None

    def markers(self) -> dict[int, int]:
        """Judges expected to give judgement scores (chief judges excluded)."""
        return {j: d for j, d in self.judges.items() if j not in self.chiefs}


def _load_groups(skill_id: int, judge_ids: list[int] | None = None) -> dict[int, list[GroupCover]]:
    """Marking groups of a skill in three queries (judges, entries, aspects)."""
    through_judges = MarkingGroup.judges.through.objects.filter(markinggroup__skill_id=skill_id)
    if judge_ids is not None:
        through_judges = through_judges.filter(judge_id__in=judge_ids)
    judge_groups = list(through_judges.values_list("judge_id", "markinggroup_id"))
    if not judge_groups:
        return {}
    group_ids = {g for _j, g in judge_groups}
    entries: dict[int, set[int]] = defaultdict(set)
    for g, e in MarkingGroup.entries.through.objects.filter(
        markinggroup_id__in=group_ids
    ).values_list("markinggroup_id", "entry_id"):
        entries[g].add(e)
    aspects: dict[int, set[int]] = defaultdict(set)
    for g, a in MarkingGroup.aspects.through.objects.filter(
        markinggroup_id__in=group_ids
    ).values_list("markinggroup_id", "aspect_id"):
        aspects[g].add(a)
    covers = {
        g: GroupCover(
            frozenset(entries[g]) if g in entries else None,
            frozenset(aspects[g]) if g in aspects else None,
        )
        for g in group_ids
    }
    result: dict[int, list[GroupCover]] = defaultdict(list)
    for j, g in judge_groups:
        result[j].append(covers[g])
    return dict(result)


def load_panel(skill: Skill | int, judge_ids: list[int] | None = None) -> Panel:
    """The skill's panel (all judges, or only ``judge_ids``) in ≤ 4 queries."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    assignments = JudgeAssignment.objects.filter(skill_id=skill_id)
    if judge_ids is not None:
        assignments = assignments.filter(judge_id__in=judge_ids)
    judges: dict[int, int] = {}
    chiefs: set[int] = set()
    for judge_id, delegation_id, role in assignments.values_list(
        "judge_id", "judge__delegation_id", "role"
    ):
        judges[judge_id] = delegation_id
        if role == JudgeAssignment.Role.CHIEF:
            chiefs.add(judge_id)
    return Panel(
        skill_id=skill_id,
        judges=judges,
        chiefs=frozenset(chiefs),
        groups=_load_groups(skill_id, judge_ids),
    )


def check(judge: Judge, entry: Entry, aspect: Aspect) -> Refusal | None:
    """Why ``judge`` may not mark ``aspect`` of ``entry``, or None if allowed."""
    if aspect.skill_id != entry.skill_id:
        return Refusal(WRONG_SKILL, _("This aspect belongs to another skill than the entry."))
    panel = load_panel(entry.skill_id, judge_ids=[judge.pk])
    return panel.check(judge.pk, entry.pk, entry.delegation_id, aspect.pk, aspect.kind)


def refusal(judge: Judge, entry: Entry, aspect: Aspect) -> str | None:
    """None when ``judge`` may mark ``aspect`` of ``entry``; else a message for the judge."""
    found = check(judge, entry, aspect)
    return found.message if found else None


def eligible_judges(skill: Skill | int, *, include_chief: bool = False) -> dict[int, int]:
    """Judge id → home delegation id of the judges who mark the skill.

    Chief judges are left out unless ``include_chief`` (they may enter M marks
    but are not expected markers). Recusal and groups are per entry: see
    ``load_panel`` / ``expected_judgement_judges``.
    """
    panel = load_panel(skill)
    return dict(panel.judges) if include_chief else panel.markers()


def chief_judge_id(skill: Skill | int) -> int | None:
    skill_id = skill if isinstance(skill, int) else skill.pk
    return (
        JudgeAssignment.objects.filter(skill_id=skill_id, role=JudgeAssignment.Role.CHIEF)
        .values_list("judge_id", flat=True)
        .first()
    )


def expected_judgement_judges(skill: Skill | int) -> dict[tuple[int, int], frozenset[int]]:
    """(entry_id, aspect_id) → ids of the judges expected to score it.

    Covers every judgement aspect × every ranked entry of the skill (absent
    and withdrawn entries are left out). Expected judges are the assigned
    judges of role ``judge`` who are not recused (own delegation) and whose
    marking groups, if any, cover the pair. A pair may map to an empty set
    (nobody can mark it): the results engine should report it as a panel
    problem rather than as complete.

    Six queries whatever the size of the skill.
    """
    skill_id = skill if isinstance(skill, int) else skill.pk
    panel = load_panel(skill_id)
    markers = panel.markers()
    aspect_ids = list(
        Aspect.objects.filter(skill_id=skill_id, kind=AspectKind.JUDGEMENT).values_list(
            "id", flat=True
        )
    )
    entries = list(
        Entry.objects.filter(skill_id=skill_id, status=Entry.Status.REGISTERED).values_list(
            "id", "delegation_id"
        )
    )
    result: dict[tuple[int, int], frozenset[int]] = {}
    # Judges not narrowed by groups only depend on the entry's delegation:
    # build those sets once per delegation and share the frozensets.
    free = {j: d for j, d in markers.items() if j not in panel.groups}
    narrowed = {j: d for j, d in markers.items() if j in panel.groups}
    by_delegation: dict[int, frozenset[int]] = {}
    for entry_id, delegation_id in entries:
        base = by_delegation.get(delegation_id)
        if base is None:
            base = frozenset(j for j, d in free.items() if d != delegation_id)
            by_delegation[delegation_id] = base
        others = [j for j, d in narrowed.items() if d != delegation_id]
        for aspect_id in aspect_ids:
            if others:
                extra = [
                    j for j in others if any(c.covers(entry_id, aspect_id) for c in panel.groups[j])
                ]
                result[(entry_id, aspect_id)] = base | frozenset(extra) if extra else base
            else:
                result[(entry_id, aspect_id)] = base
    return result
