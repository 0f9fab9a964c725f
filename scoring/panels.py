"""Who may mark what (docs/integrity.md).

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

The results engine, for events of 100+ skills × 40+ entries × 60 aspects,
loads all the panels with ``load_panels`` (two queries whatever the number of
skills) and asks ``expected_by_entry`` for each entry's expected judges in a
compact form (one set for all J aspects plus per-aspect extras), with no
per-(entry, aspect) work. ``expected_judgement_judges`` is the same
information per (entry, aspect) pair, built from it.

Public API (kept stable; the results engine imports it):

- ``check(judge, entry, aspect) -> Refusal | None``
- ``refusal(judge, entry, aspect) -> str | None``
- ``eligible_judges(skill, include_chief=False) -> dict[int, int]``
- ``chief_judge_id(skill) -> int | None``
- ``load_panel(skill) -> Panel``
- ``load_panels(skills) -> dict[int, Panel]`` (several skills, same queries)
- ``expected_judgement_judges(skill) -> dict[tuple[int, int], frozenset[int]]``
- ``expected_by_entry(panel, j_aspect_ids, entries) -> dict[int, ExpectedJudges]``
  (the same facts, one compact record per entry: what the results engine uses)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from django.db import connection
from django.utils.translation import gettext_lazy

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


# What each refusal says, translated only when a message is read: the chief
# board asks ``Panel.check`` tens of thousands of times per page and needs
# only allowed / not allowed.
_MESSAGES = {
    NOT_ASSIGNED: gettext_lazy("You are not assigned to this skill, so you cannot mark it."),
    OWN_DELEGATION: gettext_lazy(
        "Recusal (回避): this entry belongs to your own delegation, so you may not mark it."
    ),
    CHIEF_JUDGEMENT: gettext_lazy(
        "The chief judge does not give judgement scores; judges of the panel do."
    ),
    OUTSIDE_GROUP: gettext_lazy("This entry or aspect is outside your marking group."),
    WRONG_SKILL: gettext_lazy("This aspect belongs to another skill than the entry."),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a judge may not mark a pair: ``code`` (stable, one of the codes
    above); ``message`` is translated when read, in the active language."""

    code: str

    @property
    def message(self) -> str:
        return str(_MESSAGES[self.code])

    def __str__(self) -> str:
        return self.message


# One instance per code: a refusal costs no allocation and no translation.
_REFUSED = {code: Refusal(code) for code in _MESSAGES}


@dataclass(frozen=True)
class GroupCover:
    """What one marking group covers; ``None`` means "all"."""

    entries: frozenset[int] | None
    aspects: frozenset[int] | None

    def covers(self, entry_id: int, aspect_id: int) -> bool:
        return (self.entries is None or entry_id in self.entries) and (
            self.aspects is None or aspect_id in self.aspects
        )


# Judges and delegations by id (the portal), or by code (an import checked
# before anything is written).
_Id = TypeVar("_Id", int, str)


@dataclass
class Panel(Generic[_Id]):
    """A skill's panel loaded in a few queries.

    ``judges`` maps judge id → home delegation id for every assigned judge;
    ``chiefs`` holds the id of the chief judge (if any); ``groups`` maps a
    judge id → the covers of the groups that judge belongs to (absent = not
    narrowed).
    """

    skill_id: int
    judges: dict[_Id, _Id] = field(default_factory=dict)
    chiefs: frozenset[_Id] = frozenset()
    groups: dict[_Id, list[GroupCover]] = field(default_factory=dict)

    def check(
        self,
        judge_id: _Id,
        entry_id: int,
        entry_delegation_id: _Id | None,
        aspect_id: int,
        aspect_kind: str,
    ) -> Refusal | None:
        if judge_id not in self.judges:
            return _REFUSED[NOT_ASSIGNED]
        if self.judges[judge_id] == entry_delegation_id:
            return _REFUSED[OWN_DELEGATION]
        if judge_id in self.chiefs and aspect_kind == AspectKind.JUDGEMENT:
            return _REFUSED[CHIEF_JUDGEMENT]
        covers = self.groups.get(judge_id)
        if covers is not None and not any(c.covers(entry_id, aspect_id) for c in covers):
            return _REFUSED[OUTSIDE_GROUP]
        return None

    def markers(self) -> dict[_Id, _Id]:
        """Judges expected to give judgement scores (chief judges excluded)."""
        return {j: d for j, d in self.judges.items() if j not in self.chiefs}


def _group_rows(
    skill_ids: list[int], judge_ids: list[int] | None
) -> list[tuple[int, int, int, int]]:
    """The marking groups of the skills as rows (what, group id, a, b), in
    one statement rather than three (a round trip costs more than these few
    thousand rows, and every mark write loads a panel):

    * (0, group, skill id, judge id): the group's judges;
    * (1, group, entry id, 0): the entries it lists;
    * (2, group, aspect id, 0): the aspects it lists.

    With ``judge_ids``, only those judges' groups."""
    qn = connection.ops.quote_name
    group_meta = MarkingGroup._meta
    group_table, group_pk = qn(group_meta.db_table), qn(group_meta.pk.column)
    group_skill = qn(group_meta.get_field("skill").column)

    def through(name: str, other: str) -> tuple[str, str, str]:
        meta = getattr(MarkingGroup, name).through._meta
        return (
            qn(meta.db_table),
            qn(meta.get_field("markinggroup").column),
            qn(meta.get_field(other).column),
        )

    judges_t, judges_group, judges_judge = through("judges", "judge")
    in_skills = ", ".join(["%s"] * len(skill_ids))
    parts, params = [], []
    for what, (table, group_col, other_col) in enumerate(
        [
            (judges_t, judges_group, judges_judge),
            through("entries", "entry"),
            through("aspects", "aspect"),
        ]
    ):
        columns = f"g.{group_skill}, t.{other_col}" if what == 0 else f"t.{other_col}, 0"
        sql = (
            f"SELECT {what}, t.{group_col}, {columns} FROM {table} t"
            f" JOIN {group_table} g ON g.{group_pk} = t.{group_col}"
            f" WHERE g.{group_skill} IN ({in_skills})"
        )
        params += skill_ids
        if judge_ids is not None:
            sql += (
                f" AND t.{group_col} IN (SELECT {judges_group} FROM {judges_t}"
                f" WHERE {judges_judge} IN ({', '.join(['%s'] * len(judge_ids))}))"
            )
            params += judge_ids
        parts.append(sql)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


def _load_groups(
    skill_ids: list[int], judge_ids: list[int] | None = None
) -> dict[int, dict[int, list[GroupCover]]]:
    """Marking groups of some skills in one query: skill id → judge id → the
    covers of that judge's groups."""
    if not skill_ids or judge_ids == []:
        return {}  # nothing to ask (and "IN ()" is not SQL)
    judge_groups: list[tuple[int, int, int]] = []  # (skill, judge, group)
    entries: dict[int, set[int]] = defaultdict(set)
    aspects: dict[int, set[int]] = defaultdict(set)
    for what, group_id, a, b in _group_rows(skill_ids, judge_ids):
        if what == 0:
            judge_groups.append((a, b, group_id))
        elif what == 1:
            entries[group_id].add(a)
        else:
            aspects[group_id].add(a)
    if not judge_groups:
        return {}
    covers = {
        g: GroupCover(
            frozenset(entries[g]) if g in entries else None,
            frozenset(aspects[g]) if g in aspects else None,
        )
        for g in {g for _s, _j, g in judge_groups}
    }
    result: dict[int, dict[int, list[GroupCover]]] = defaultdict(lambda: defaultdict(list))
    for skill_id, j, g in judge_groups:
        result[skill_id][j].append(covers[g])
    return {skill_id: dict(by_judge) for skill_id, by_judge in result.items()}


def load_panels(
    skills: Iterable[Skill | int], judge_ids: list[int] | None = None
) -> dict[int, Panel]:
    """The panels of several skills (all judges, or only ``judge_ids``) in
    two queries whatever the number of skills: the results engine computes
    every skill of an event at once, and 4 queries × 109 skills cost more
    than the arithmetic."""
    skill_ids = sorted({s if isinstance(s, int) else s.pk for s in skills})
    assignments = JudgeAssignment.objects.filter(skill_id__in=skill_ids)
    if judge_ids is not None:
        assignments = assignments.filter(judge_id__in=judge_ids)
    judges: dict[int, dict[int, int]] = {sid: {} for sid in skill_ids}
    chiefs: dict[int, set[int]] = defaultdict(set)
    for skill_id, judge_id, delegation_id, role in assignments.values_list(
        "skill_id", "judge_id", "judge__delegation_id", "role"
    ):
        judges[skill_id][judge_id] = delegation_id
        if role == JudgeAssignment.Role.CHIEF:
            chiefs[skill_id].add(judge_id)
    groups = _load_groups(skill_ids, judge_ids)
    return {
        sid: Panel(
            skill_id=sid,
            judges=judges[sid],
            chiefs=frozenset(chiefs.get(sid, ())),
            groups=groups.get(sid, {}),
        )
        for sid in skill_ids
    }


def load_panel(skill: Skill | int, judge_ids: list[int] | None = None) -> Panel:
    """The skill's panel (all judges, or only ``judge_ids``) in two queries."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    return load_panels([skill_id], judge_ids)[skill_id]


def check(judge: Judge, entry: Entry, aspect: Aspect) -> Refusal | None:
    """Why ``judge`` may not mark ``aspect`` of ``entry``, or None if allowed."""
    if aspect.skill_id != entry.skill_id:
        return _REFUSED[WRONG_SKILL]
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


@dataclass(frozen=True, slots=True)
class ExpectedJudges:
    """The judges expected to score the judgement aspects of one entry.

    Almost always the same judges are expected on every J aspect of an entry
    (recusal and entry-only groups do not depend on the aspect), so that set
    is stored once as ``common``; ``extra`` holds, only for the aspects that
    aspect-restricted groups add judges to, those additional judges.
    """

    common: frozenset[int]
    extra: Mapping[int, frozenset[int]] = field(default_factory=dict)

    def for_aspect(self, aspect_id: int) -> frozenset[int]:
        more = self.extra.get(aspect_id)
        return self.common | more if more else self.common


_NO_EXTRA: Mapping[int, frozenset[int]] = {}


def expected_by_entry(
    panel: Panel,
    j_aspect_ids: Iterable[int],
    entries: Iterable[tuple[int, int]],
) -> dict[int, ExpectedJudges]:
    """Entry id → ``ExpectedJudges`` for the given (entry id, delegation id)
    of the panel's skill and its judgement aspects. No query: the caller has
    loaded the panel, aspects and entries (``expected_judgement_judges``
    does, for one skill).

    Same rules as ``expected_judgement_judges`` (role ``judge`` only, not of
    the entry's delegation, covered by a group of theirs if they have any),
    but the work is per entry and per group, not per (entry, aspect, judge):
    a judge whose cover lists no aspects is expected on every J aspect of
    the entries it covers.
    """
    j_aspects = frozenset(j_aspect_ids)
    markers = panel.markers()
    # Judges expected on every entry and aspect (no group, or a group
    # covering everything): only the entry's delegation matters, so their
    # set is built once per delegation and shared.
    everywhere: dict[int, int] = {}
    by_entry: dict[int, list[int]] = defaultdict(list)  # entry → judges, all aspects
    some_everywhere: list[tuple[int, frozenset[int]]] = []  # (judge, J aspects), all entries
    some_by_entry: dict[int, list[tuple[int, frozenset[int]]]] = defaultdict(list)
    for judge_id, delegation_id in markers.items():
        covers = panel.groups.get(judge_id)
        if covers is None:
            everywhere[judge_id] = delegation_id
            continue
        for cover in covers:
            if cover.aspects is None:
                if cover.entries is None:
                    everywhere[judge_id] = delegation_id
                else:
                    for entry_id in cover.entries:
                        by_entry[entry_id].append(judge_id)
                continue
            aspects = cover.aspects & j_aspects
            if not aspects:
                continue  # a group of measurement aspects only: never expected on J
            if cover.entries is None:
                some_everywhere.append((judge_id, aspects))
            else:
                for entry_id in cover.entries:
                    some_by_entry[entry_id].append((judge_id, aspects))

    base: dict[int, frozenset[int]] = {}
    result: dict[int, ExpectedJudges] = {}
    for entry_id, delegation_id in entries:
        common = base.get(delegation_id)
        if common is None:
            common = frozenset(j for j, d in everywhere.items() if d != delegation_id)
            base[delegation_id] = common
        more = [j for j in by_entry.get(entry_id, ()) if markers[j] != delegation_id]
        if more:
            common = common.union(more)
        partial = [*some_everywhere, *some_by_entry.get(entry_id, ())]
        extra: dict[int, set[int]] = {}
        for judge_id, aspects in partial:
            if judge_id in common or markers[judge_id] == delegation_id:
                continue
            for aspect_id in aspects:
                extra.setdefault(aspect_id, set()).add(judge_id)
        result[entry_id] = ExpectedJudges(
            common, {a: frozenset(js) for a, js in extra.items()} if extra else _NO_EXTRA
        )
    return result


def expected_judgement_judges(skill: Skill | int) -> dict[tuple[int, int], frozenset[int]]:
    """(entry_id, aspect_id) → ids of the judges expected to score it.

    Covers every judgement aspect × every ranked entry of the skill (absent
    and withdrawn entries are left out). Expected judges are the assigned
    judges of role ``judge`` who are not recused (own delegation) and whose
    marking groups, if any, cover the pair. A pair may map to an empty set
    (nobody can mark it): the results engine should report it as a panel
    problem rather than as complete.

    Six queries whatever the size of the skill. A thin wrapper over
    ``expected_by_entry`` (pairs of an entry share its frozensets).
    """
    skill_id = skill if isinstance(skill, int) else skill.pk
    panel = load_panel(skill_id)
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
    for entry_id, expected in expected_by_entry(panel, aspect_ids, entries).items():
        if not expected.extra:
            result.update(((entry_id, a), expected.common) for a in aspect_ids)
        else:
            result.update(((entry_id, a), expected.for_aspect(a)) for a in aspect_ids)
    return result


def allowed_by_entry(
    panel: Panel,
    judge_id: int,
    entries: Iterable[tuple[int, int | None]],
    aspects: Iterable[tuple[int, str]],
) -> dict[int, frozenset[int]]:
    """Entry id → ids of the aspects ``judge_id`` may mark, for the given
    (entry id, delegation id) and (aspect id, kind) of the panel's skill.

    The rules of ``Panel.check`` (assigned; not of the entry's delegation;
    a chief judge gives no J score; covered by a group of theirs, if any),
    worked out per entry and per group rather than per (entry, aspect), and
    without building a refusal message: what a tablet page needs for one
    judge. Entries with the same covering groups share one frozenset.
    No query: the caller has loaded the panel, entries and aspects.
    """
    entries = list(entries)
    if judge_id not in panel.judges:
        return {entry_id: frozenset() for entry_id, _d in entries}
    own = panel.judges[judge_id]
    chief = judge_id in panel.chiefs
    base = frozenset(a for a, kind in aspects if not (chief and kind == AspectKind.JUDGEMENT))
    covers = panel.groups.get(judge_id)
    result: dict[int, frozenset[int]] = {}
    shared: dict[tuple[int, ...], frozenset[int]] = {}
    for entry_id, delegation_id in entries:
        if delegation_id == own:
            result[entry_id] = frozenset()
        elif covers is None:
            result[entry_id] = base
        else:
            key = tuple(
                i for i, c in enumerate(covers) if c.entries is None or entry_id in c.entries
            )
            if key not in shared:
                found: set[int] = set()
                for i in key:
                    cover_aspects = covers[i].aspects
                    found |= base if cover_aspects is None else cover_aspects & base
                shared[key] = frozenset(found)
            result[entry_id] = shared[key]
    return result


def panels_from_rows(
    skill_ids: Iterable[int],
    assignments: Iterable[tuple[int, int, int, str]],
    group_rows: Iterable[tuple[int, int, int, int]],
) -> dict[int, Panel]:
    """What ``load_panels`` returns for all judges, from rows the caller
    read itself: ``assignments`` as (skill, judge, judge's delegation, role)
    and ``group_rows`` as ``_group_rows`` gives them. The results engine
    reads both inside its one statement (``scoring.results_data``) instead
    of two more round trips."""
    panels = {sid: Panel(skill_id=sid) for sid in skill_ids}
    chiefs: dict[int, set[int]] = defaultdict(set)
    for skill_id, judge_id, delegation_id, role in assignments:
        panels[skill_id].judges[judge_id] = delegation_id
        if role == JudgeAssignment.Role.CHIEF:
            chiefs[skill_id].add(judge_id)
    for skill_id, judge_ids in chiefs.items():
        panels[skill_id].chiefs = frozenset(judge_ids)
    members: list[tuple[int, int, int]] = []  # (group, skill, judge)
    listed: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for what, group_id, a, b in group_rows:
        if what == 0:
            members.append((group_id, a, b))
        else:
            listed[group_id][what - 1].add(a)
    covers: dict[int, GroupCover] = {}
    for group_id, skill_id, judge_id in members:
        cover = covers.get(group_id)
        if cover is None:
            entries, aspects = listed.get(group_id, (set(), set()))
            cover = covers[group_id] = GroupCover(
                frozenset(entries) if entries else None, frozenset(aspects) if aspects else None
            )
        panels[skill_id].groups.setdefault(judge_id, []).append(cover)
    return panels
