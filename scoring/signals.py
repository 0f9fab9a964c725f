"""Domain events of the scoring app, and its own receivers.

scoring sits below awards, appeals, tablets and results and imports none of
them. When something here matters to them, scoring announces it with one of
the signals below; they connect their receivers in their AppConfig.ready().
Receivers that do slow work queue it with ``transaction.on_commit``, so a
rolled-back sign-off queues nothing. See docs/events.md.

Stored results depend on who is expected to mark: when a judge panel or a
marking group changes, the skill's results are stale (what counts as missing
changes), so the next reader recomputes them. Mark writes clear the stamp in
the mark service itself; the receivers at the end of this module cover every
edit of panels and groups (admin, workbook import, account pages).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal, receiver

from teams.models import JudgeAssignment

from .models import MarkingGroup, SkillMarking

# ------------------------------------------------------------------ signals

# A skill's marks were signed off and locked (``signoff.sign_off``).
# Sent inside the sign-off transaction, under the lock of the skill's
# marking row, after its final results are stored; sender is SkillMarking.
#   skill     the Skill
#   marking   its SkillMarking (status SIGNED_OFF)
#   record    the SIGN_OFF LedgerRecord (its hash is the chain head)
#   by_user   who signed off
skill_signed_off = Signal()

# A signed-off skill was reopened (``signoff.reopen``). Sent inside the
# reopening transaction, under the same lock, after publication has been
# withdrawn; sender is SkillMarking.
#   skill, marking (status OPEN), record (the REOPEN LedgerRecord), by_user,
#   reason    the reason given (kept in the ledger)
skill_reopened = Signal()

# The stored, final results of a skill changed: ``signoff.sign_off`` stored
# them. Sent inside the transaction that stored them (after
# ``skill_signed_off``); sender is SkillMarking. Whoever stores a signed-off
# skill's results again is to send it too.
#   skill     the Skill
results_changed = Signal()

# A judge panel or marking group of a skill was edited (any JudgeAssignment
# or MarkingGroup saved or deleted, a group's judges, entries or aspects
# changed, from either side). Sent inside the transaction of the edit, after
# the skill's stored results were marked stale; sender is the model class
# that was edited (JudgeAssignment, MarkingGroup or a group's through model).
#   skill_id  the skill's id
panel_changed = Signal()

# Asked before a sign-off: is there anything the person signing off should
# confirm first (e.g. the tablets' open re-mark requests)? Sent by
# ``signoff.sign_off_warnings``: outside any transaction when a page shows
# the question, and inside the sign-off transaction, under the lock, when
# ``signoff.sign_off`` checks again. Sender is SkillMarking.
#   skill     the Skill
# Each receiver returns a list of messages (str, may be empty) and must not
# write anything. A warning is not a refusal: sign-off goes ahead once the
# person confirms them.
collect_sign_off_warnings = Signal()


# ------------------------------------------------------------------ stale results


def mark_results_stale(skill_id: int) -> None:
    """A signed-off skill's stored results are final: its marks are locked and
    nobody can supply a newly expected score, so a panel edit then waits for a
    reopening (which makes the results stale itself). See docs/scoring.md."""
    SkillMarking.objects.filter(skill_id=skill_id).exclude(
        status=SkillMarking.Status.SIGNED_OFF
    ).update(results_computed_at=None)


def _panel_edited(sender, skill_id: int) -> None:
    mark_results_stale(skill_id)
    panel_changed.send(sender=sender, skill_id=skill_id)


@receiver([post_save, post_delete], sender=JudgeAssignment)
@receiver([post_save, post_delete], sender=MarkingGroup)
def _panel_changed(sender, instance, **kwargs) -> None:
    _panel_edited(sender, instance.skill_id)


@receiver(m2m_changed, sender=MarkingGroup.judges.through)
@receiver(m2m_changed, sender=MarkingGroup.entries.through)
@receiver(m2m_changed, sender=MarkingGroup.aspects.through)
def _group_members_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, MarkingGroup):
        _panel_edited(sender, instance.skill_id)
    elif pk_set:  # changed from the other side (a judge's, entry's or aspect's groups)
        for skill_id in set(
            MarkingGroup.objects.filter(pk__in=pk_set).values_list("skill_id", flat=True)
        ):
            _panel_edited(sender, skill_id)
