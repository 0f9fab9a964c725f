"""Which awards and titles the entries of a skill won, from its signed-off
results (docs/awards.md, docs/rewards.md)."""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Event, Skill
from scoring.models import EntryResult, SkillMarking
from teams.models import Entry

from . import policies
from .models import (
    Award,
    AwardSettings,
)


class AwardsRefused(Exception):
    """Awards cannot be computed (e.g. the skill's results are not signed off)."""


def settings_for(skill: Skill) -> AwardSettings:
    """The skill's override, else the programme's default, else built-in defaults."""
    override = AwardSettings.objects.filter(skill=skill).first()
    if override is not None:
        return override
    default = AwardSettings.objects.filter(
        programme_id=skill.event.programme_id, skill__isnull=True
    ).first()
    return default or AwardSettings(programme_id=skill.event.programme_id)


def _require_signed_off(skill: Skill) -> None:
    marking = SkillMarking.objects.filter(skill=skill).first()
    if marking is None or marking.status != SkillMarking.Status.SIGNED_OFF:
        raise AwardsRefused(
            _(
                "The results of %(skill)s are not signed off: awards are computed "
                "from signed-off results only."
            )
            % {"skill": skill}
        )


def compute_awards(skill: Skill) -> list[Award]:
    """Apply the skill's policy to its signed-off ranked results and store one
    Award row per winning entry. Idempotent: a re-run rewrites the same rows."""
    with transaction.atomic():
        # Lock the marking row so a reopen cannot slip in between check and write.
        SkillMarking.objects.select_for_update().filter(skill=skill).first()
        _require_signed_off(skill)
        results = list(
            EntryResult.objects.filter(
                skill=skill,
                rank__isnull=False,
                entry__status=Entry.Status.REGISTERED,
            ).values_list("entry_id", "rank", "scale_score")
        )
        # rank__isnull=False above: every rank is an int.
        ranked = [policies.Ranked(key=e, rank=cast(int, r), scale_score=s) for e, r, s in results]
        conf = settings_for(skill)
        outcomes = policies.apply_policy(
            skill.award_policy,
            ranked,
            team_size=skill.team_size,
            settings=conf.as_policy_settings(),
        )
        rank_of = {r.key: r.rank for r in ranked}
        now = timezone.now()
        winners = {o.key: o for o in outcomes if o.award or o.title}
        Award.objects.filter(skill=skill).exclude(entry_id__in=winners).delete()
        existing = {a.entry_id: a for a in Award.objects.filter(skill=skill)}
        stored = []
        for key, outcome in winners.items():
            award = existing.get(key) or Award(entry_id=key, skill=skill)
            award.kind = outcome.award
            award.title = outcome.title
            award.title_kind = outcome.title_code if outcome.title else ""
            award.policy = skill.award_policy
            award.rank = rank_of[key]
            award.computed_at = now
            stored.append(award)
        Award.objects.bulk_update(
            [a for a in stored if a.pk],
            ["kind", "title", "title_kind", "policy", "rank", "computed_at"],
        )
        Award.objects.bulk_create([a for a in stored if not a.pk])
    return sorted(stored, key=lambda a: (a.rank, a.entry_id))


def award_columns(skill: Skill) -> dict[int, tuple[str, str]]:
    """For the results workbook: entry id → (award, title) as printed in Chinese."""
    conf = settings_for(skill)
    return {
        a.entry_id: (
            policies.CHINESE_NAMES.get(a.kind or "", ""),
            conf.title_text(a.title_code) if a.title else "",
        )
        for a in Award.objects.filter(skill=skill)
    }


def signed_off_skills(event: Event) -> list[Skill]:
    """The skills of the event whose awards can be computed."""
    return list(Skill.objects.filter(event=event, marking__status=SkillMarking.Status.SIGNED_OFF))
