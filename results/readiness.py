"""Is each skill of an event ready to mark? The checklist on the organiser's
event dashboard; every item carries the link to the page that fixes it.
The rules are written out in ``docs/readiness.md``.

Queries: a fixed handful for the event whatever its number of skills
(schemes, panels, entries, quotas, PINs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from competitions.models import Event, Skill
from scoring.models import Aspect, AspectKind, Criterion, SkillMarking
from scoring.panels import expected_by_entry, load_panels
from scoring.schemes import SCHEME_TOTAL
from tablets.models import JudgeCredential
from teams.models import Entry, JudgeAssignment, Quota

MIN_JUDGES = 3
PIN_CODES_SHOWN = 6


@dataclass(frozen=True)
class CheckItem:
    key: str  # scheme, chief, judges, quota, pins
    ok: bool
    label: str
    detail: str
    fix_url: str
    fix_label: str


@dataclass(frozen=True)
class SkillReadiness:
    skill: Skill
    items: list[CheckItem]

    @property
    def ready(self) -> bool:
        return all(i.ok for i in self.items)

    @property
    def missing(self) -> int:
        return sum(1 for i in self.items if not i.ok)


def _admin(name: str, skill: Skill) -> str:
    return f"{reverse(name)}?skill__id__exact={skill.pk}"


@dataclass
class SchemeState:
    """Whether a skill's scheme would open marking: the rules of
    ``scoring.schemes.scheme_summary``, for many skills in two queries."""

    total: Decimal = Decimal("0")
    measurement: int = 0
    judgement: int = 0
    foreign: bool = False  # an aspect filed under a criterion of another skill
    criteria_differ: bool = False  # a stated criterion mark ≠ its aspects' sum

    @property
    def aspects(self) -> int:
        return self.measurement + self.judgement

    @property
    def ok(self) -> bool:
        return (
            self.aspects > 0
            and self.total == SCHEME_TOTAL
            and not self.foreign
            and not self.criteria_differ
        )

    def detail(self) -> str:
        if self.ok:
            return _("%(n)s aspects (M %(m)s, J %(j)s), total 100.") % {
                "n": self.aspects,
                "m": self.measurement,
                "j": self.judgement,
            }
        if not self.aspects:
            return _("The marking scheme has no aspects yet.")
        if self.total != SCHEME_TOTAL:
            return _("The aspects total %(total)s, not 100.") % {"total": f"{self.total:f}"}
        return _("A criterion's stated marks differ from its aspects: see the scheme page.")


def scheme_states(skill_ids: list[int]) -> dict[int, SchemeState]:
    """Counted in the database: a few rows per skill, not one per aspect."""
    states = {sid: SchemeState() for sid in skill_ids}
    aspects = Aspect.objects.filter(skill_id__in=skill_ids).order_by()
    for sid, kind, total, n in (
        aspects.values("skill_id", "kind")
        .annotate(total=Sum("max_mark"), n=Count("pk"))
        .values_list("skill_id", "kind", "total", "n")
    ):
        state = states[sid]
        state.total += total
        if kind == AspectKind.JUDGEMENT:
            state.judgement += n
        else:
            state.measurement += n
    for sid in (
        aspects.exclude(sub_criterion__criterion__skill_id=F("skill_id"))
        .values_list("skill_id", flat=True)
        .distinct()
    ):
        states[sid].foreign = True
    by_criterion = {
        (sid, crit_id): total
        for sid, crit_id, total in aspects.values("skill_id", "sub_criterion__criterion_id")
        .annotate(total=Sum("max_mark"))
        .values_list("skill_id", "sub_criterion__criterion_id", "total")
    }
    for sid, crit_id, stated in Criterion.objects.filter(
        skill_id__in=skill_ids, max_mark__isnull=False
    ).values_list("skill_id", "id", "max_mark"):
        if by_criterion.get((sid, crit_id), Decimal("0")) != stated:
            states[sid].criteria_differ = True
    return states


def _scheme_item(skill: Skill, state: SchemeState) -> CheckItem:
    return CheckItem(
        "scheme",
        state.ok,
        _("The marking scheme totals 100"),
        state.detail(),
        reverse("interchange:skill_scheme", args=[skill.pk]),
        _("Marking scheme"),
    )


def _chief_item(skill: Skill, chief) -> CheckItem:
    fix = f"{reverse('accounts:new')}?role=chief&skill={skill.pk}"
    if chief is None:
        return CheckItem(
            "chief",
            False,
            _("A chief judge is named"),
            _("No chief judge: name one and give them an account."),
            fix,
            _("Chief judge account"),
        )
    judge = chief.judge
    if judge.user_id is None or not judge.user.is_active:
        return CheckItem(
            "chief",
            False,
            _("A chief judge is named"),
            _("%(judge)s is chief judge but has no active account to sign in with.")
            % {"judge": judge},
            fix,
            _("Chief judge account"),
        )
    return CheckItem(
        "chief",
        True,
        _("A chief judge is named"),
        _("%(judge)s, account %(username)s.") % {"judge": judge, "username": judge.user.username},
        reverse("accounts:detail", args=[judge.user_id]),
        _("Account"),
    )


def _judges_item(
    skill: Skill, panel, j_aspects: list[int], entries: list[tuple], has_aspects: bool
) -> CheckItem:
    fix = _admin("admin:teams_judgeassignment_changelist", skill)
    label = _("At least %(n)s judges per judgement aspect after recusal") % {"n": MIN_JUDGES}
    if not j_aspects and not has_aspects:
        return CheckItem(
            "judges",
            False,
            label,
            _("No marking scheme yet."),
            reverse("interchange:skill_scheme", args=[skill.pk]),
            _("Marking scheme"),
        )
    if not j_aspects:
        return CheckItem(
            "judges", True, label, _("No judgement aspects."), fix, _("Judge assignments")
        )
    if not entries:
        return CheckItem(
            "judges", False, label, _("No entries registered yet."), fix, _("Judge assignments")
        )
    expected = expected_by_entry(panel, j_aspects, entries)
    short = 0
    fewest = None
    for exp in expected.values():
        n = min(len(exp.for_aspect(a)) for a in j_aspects)
        fewest = n if fewest is None else min(fewest, n)
        if n < MIN_JUDGES:
            short += 1
    if short:
        detail = ngettext(
            "%(short)s entry has fewer than %(min)s eligible judges (fewest: %(fewest)s).",
            "%(short)s entries have fewer than %(min)s eligible judges (fewest: %(fewest)s).",
            short,
        ) % {"short": short, "min": MIN_JUDGES, "fewest": fewest}
    else:
        detail = _("Every entry has at least %(fewest)s eligible judges.") % {"fewest": fewest}
    return CheckItem("judges", short == 0, label, detail, fix, _("Judge assignments"))


def _quota_item(skill: Skill, used: dict[int, int], quotas: dict[int, int], names) -> CheckItem:
    label = _("Entries are within quota")
    fix = _admin("admin:teams_entry_changelist", skill)
    if not used:
        return CheckItem("quota", False, label, _("No entries registered yet."), fix, _("Entries"))
    over = [
        _("%(delegation)s: %(used)s of %(quota)s")
        % {"delegation": names[d], "used": n, "quota": quotas.get(d, 0)}
        for d, n in sorted(used.items(), key=lambda x: names[x[0]])
        if n > quotas.get(d, 0)
    ]
    if over:
        return CheckItem(
            "quota",
            False,
            label,
            _("Over quota: %(list)s.") % {"list": "; ".join(over)},
            _admin("admin:teams_quota_changelist", skill),
            _("Quotas"),
        )
    total = sum(used.values())
    detail = ngettext(
        "%(n)s entry, every delegation within its quota.",
        "%(n)s entries, every delegation within its quota.",
        total,
    ) % {"n": total}
    return CheckItem("quota", True, label, detail, fix, _("Entries"))


def _pins_item(skill: Skill, judges: int, without: list[str]) -> CheckItem:
    label = _("Every judge has a tablet PIN")
    fix = reverse("tablets:board", args=[skill.pk])
    if not judges:
        return CheckItem(
            "pins",
            False,
            label,
            _("No judges assigned yet."),
            _admin("admin:teams_judgeassignment_changelist", skill),
            _("Judge assignments"),
        )
    if without:
        codes = sorted(without)
        shown = ", ".join(codes[:PIN_CODES_SHOWN])
        if len(codes) > PIN_CODES_SHOWN:
            shown += " " + _("and %(n)s more") % {"n": len(codes) - PIN_CODES_SHOWN}
        detail = _("No PIN yet: %(codes)s.") % {"codes": shown}
    else:
        detail = ngettext(
            "%(n)s judge, each with a PIN.", "%(n)s judges, each with a PIN.", judges
        ) % {"n": judges}
    return CheckItem("pins", not without, label, detail, fix, _("PINs (chief judge's board)"))


def marking_started(event: Event) -> bool:
    """Has any skill of the event still open for marking a mark written?
    (The checklist is then folded away.)"""
    return (
        SkillMarking.objects.filter(skill__event=event, ledger_length__gt=0)
        .exclude(status=SkillMarking.Status.SIGNED_OFF)
        .exists()
    )


def _aspects_and_entries(ids: list[int]) -> tuple[dict, set[int], dict]:
    """Per skill: its J aspect ids, whether it has aspects at all, and its
    registered entries as (entry id, delegation id)."""
    j_aspects: dict[int, list[int]] = defaultdict(list)
    with_aspects: set[int] = set()
    for sid, aid, kind in Aspect.objects.filter(skill_id__in=ids).values_list(
        "skill_id", "id", "kind"
    ):
        with_aspects.add(sid)
        if kind == AspectKind.JUDGEMENT:
            j_aspects[sid].append(aid)
    entries: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, eid, did in Entry.objects.filter(
        skill_id__in=ids, status=Entry.Status.REGISTERED
    ).values_list("skill_id", "id", "delegation_id"):
        entries[sid].append((eid, did))
    return j_aspects, with_aspects, entries


def _quotas(ids: list[int]) -> tuple[dict, dict, dict[int, str]]:
    """Per skill: registered entries per delegation, quotas per delegation;
    and the delegations' names."""
    used: dict[int, dict[int, int]] = defaultdict(dict)
    names: dict[int, str] = {}
    for sid, did, dname, n in (
        Entry.objects.filter(skill_id__in=ids, status=Entry.Status.REGISTERED)
        .values("skill_id", "delegation_id", "delegation__name")
        .annotate(n=Count("pk"))
        .values_list("skill_id", "delegation_id", "delegation__name", "n")
    ):
        used[sid][did] = n
        names[did] = dname
    quotas: dict[int, dict[int, int]] = defaultdict(dict)
    for sid, did, n in Quota.objects.filter(skill_id__in=ids).values_list(
        "skill_id", "delegation_id", "max_entries"
    ):
        quotas[sid][did] = n
    return used, quotas, names


def _judges_without_pin(ids: list[int]) -> dict[int, tuple[int, list[str]]]:
    """Per skill: its number of judges and the codes of those without a PIN."""
    with_pin = set(
        JudgeCredential.objects.values_list("judge_id", flat=True).filter(
            judge__assignments__skill_id__in=ids
        )
    )
    codes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for sid, jid, code in JudgeAssignment.objects.filter(skill_id__in=ids).values_list(
        "skill_id", "judge_id", "judge__code"
    ):
        codes[sid].append((jid, code))
    return {sid: (len(js), [c for j, c in js if j not in with_pin]) for sid, js in codes.items()}


def event_readiness(event: Event) -> list[SkillReadiness]:
    """The checklist of every skill still open for marking (a signed-off
    skill is past it)."""
    skills = list(
        Skill.objects.filter(event=event)
        .exclude(marking__status=SkillMarking.Status.SIGNED_OFF)
        .select_related("event")
        .order_by("code")
    )
    ids = [s.pk for s in skills]
    schemes = scheme_states(ids)
    panels = load_panels(ids)
    chiefs = {
        a.skill_id: a
        for a in JudgeAssignment.objects.filter(
            skill_id__in=ids, role=JudgeAssignment.Role.CHIEF
        ).select_related("judge__user", "judge__delegation")
    }
    j_aspects, with_aspects, entries = _aspects_and_entries(ids)
    used, quotas, names = _quotas(ids)
    pins = _judges_without_pin(ids)
    return [
        SkillReadiness(
            s,
            [
                _scheme_item(s, schemes[s.pk]),
                _chief_item(s, chiefs.get(s.pk)),
                _judges_item(
                    s,
                    panels[s.pk],
                    j_aspects.get(s.pk, []),
                    entries.get(s.pk, []),
                    s.pk in with_aspects,
                ),
                _quota_item(s, used.get(s.pk, {}), quotas.get(s.pk, {}), names),
                _pins_item(s, *pins.get(s.pk, (0, []))),
            ],
        )
        for s in skills
    ]
