"""Refreshing the stored results the organiser's dashboard reads.

The dashboard never computes results on a page load (``results.dashboards``).
When it shows a skill still marking whose stored results are stale — the one
definition of stale: ``SkillMarking.results_computed_at`` cleared by a mark
write or ``scoring.signals.mark_results_stale`` — the view asks
:func:`queue` to recompute it. The worker runs
``scoring.results.recompute_skill`` (which stores the rows and stamps the
time under the skill's marking lock) and stores the dashboard's figures as
of that stamp (``MarkingProgress``), so the next page load shows them. A
skill is queued at most once per ``REFRESH_EVERY`` seconds whoever looks,
so a busy marking hall costs the workers a bounded amount.
See docs/dashboards.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

from competitions.models import Skill
from scoring.models import Mark, SkillMarking
from scoring.results import recompute_skill
from teams.models import Entry

from .models import MarkingProgress

REFRESH_EVERY = 30  # seconds


@shared_task(name="results.refresh_stored_results", acks_late=True)
def refresh_stored_results(skill_ids: list[int]) -> int:
    """Recompute and store the results of the skills still marking among
    ``skill_ids``, with their ``MarkingProgress``; returns how many. A skill
    signed off meanwhile is left alone (its results were stored at sign-off)."""
    skills = Skill.objects.filter(pk__in=skill_ids).exclude(
        marking__status=SkillMarking.Status.SIGNED_OFF
    )
    n = 0
    for skill in skills:
        store_progress(skill)
        n += 1
    return n


def store_progress(skill: Skill) -> MarkingProgress:
    """``recompute_skill`` and the skill's figures, in one transaction: the
    skill's marking row stays locked until the end, so no mark is written
    between the results and the count of marks given."""
    with transaction.atomic():
        results = recompute_skill(skill)
        ranked = [e for e in results.entries if e.ranked]
        progress, _created = MarkingProgress.objects.update_or_create(
            skill=skill,
            defaults={
                "computed_at": results.computed_at,
                "marks_given": Mark.objects.filter(
                    skill=skill, entry__status=Entry.Status.REGISTERED
                ).count(),
                "marks_missing": results.missing_count,
                "complete": sum(1 for e in ranked if e.complete),
                "discrepancies": len(results.discrepancies),
            },
        )
    return progress


def queue(skill_ids: Iterable[int]) -> list[int]:
    """Queue a refresh (after commit) of the skills not queued in the last
    ``REFRESH_EVERY`` seconds; returns their ids."""
    keys = {f"results:refresh:{sid}": sid for sid in skill_ids}
    if not keys:
        return []
    # Two round trips for any number of skills (not one ``cache.add`` each):
    # two pages loaded at the same instant may both queue a skill, which
    # only recomputes it twice.
    asked = cache.get_many(list(keys))
    wanted = [sid for key, sid in keys.items() if key not in asked]
    if wanted:
        cache.set_many({key: 1 for key, sid in keys.items() if sid in wanted}, REFRESH_EVERY)
        transaction.on_commit(lambda: refresh_stored_results.delay(wanted))
    return wanted
