"""Stored results depend on who is expected to mark: when a judge panel or a
marking group changes, the skill's results are stale (what counts as missing
changes), so the next reader recomputes them. Mark writes clear the stamp in
the mark service itself; these cover the admin's edits of panels and groups."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from teams.models import JudgeAssignment

from .models import MarkingGroup, SkillMarking


def mark_results_stale(skill_id: int) -> None:
    SkillMarking.objects.filter(skill_id=skill_id).update(results_computed_at=None)


@receiver([post_save, post_delete], sender=JudgeAssignment)
@receiver([post_save, post_delete], sender=MarkingGroup)
def _panel_changed(sender, instance, **kwargs) -> None:
    mark_results_stale(instance.skill_id)


@receiver(m2m_changed, sender=MarkingGroup.judges.through)
@receiver(m2m_changed, sender=MarkingGroup.entries.through)
@receiver(m2m_changed, sender=MarkingGroup.aspects.through)
def _group_members_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, MarkingGroup):
        mark_results_stale(instance.skill_id)
    elif pk_set:  # changed from the other side (a judge's, entry's or aspect's groups)
        for skill_id in set(
            MarkingGroup.objects.filter(pk__in=pk_set).values_list("skill_id", flat=True)
        ):
            mark_results_stale(skill_id)
