"""Changes of a skill's marking state: sign-off, reopening, acknowledging a
discrepancy (docs/integrity.md). Each locks the skill's ``SkillMarking`` row
(as a mark write does) and appends a ledger record (``ledger.append``) in the
same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Entry

from . import ledger, signals
from .marks import locked_state
from .models import Aspect, AspectKind, DiscrepancyAcknowledgement, LedgerRecord, Mark, SkillMarking
from .permissions import may_manage
from .refusals import Incomplete, Locked, MarkRefused, NotAllowed, WarningsUnconfirmed
from .status import marking_status

if TYPE_CHECKING:
    from competitions.models import Skill

Action = LedgerRecord.Action


def _require_manager(user, skill: Skill) -> None:
    if user is None or not may_manage(user, skill):
        raise PermissionDenied(_("Only the chief judge of this skill or an organiser may do this."))


def sign_off_warnings(skill: Skill) -> list[str]:
    """What the apps above want confirmed before ``skill`` is signed off (e.g.
    open re-mark requests on the tablets), in receiver order; see
    ``signals.collect_sign_off_warnings``."""
    found: list[str] = []
    for _receiver, messages in signals.collect_sign_off_warnings.send(
        sender=SkillMarking, skill=skill
    ):
        found.extend(str(m) for m in messages or ())
    return found


def sign_off(skill: Skill, by_user, *, warnings_confirmed: bool = False) -> LedgerRecord:
    """Lock the skill's marks. Refused while an entry is incomplete or a
    discrepancy is unacknowledged (checked under the lock, so no write can
    slip in between the check and the lock), and while ``sign_off_warnings``
    has anything to say unless the caller confirms it (``warnings_confirmed``)."""
    _require_manager(by_user, skill)
    with transaction.atomic():
        marking = locked_state(skill.pk)
        if marking.is_signed_off:
            raise Locked(_("This skill is already signed off."))
        status = marking_status(skill)
        if not status.can_sign_off:
            parts = []
            if status.scheme_problems:
                parts.append(" ".join(status.scheme_problems))
            if not status.entries:
                parts.append(_("There are no ranked entries."))
            if status.incomplete:
                parts.append(_("%(n)d entries are incomplete.") % {"n": len(status.incomplete)})
            if status.unacknowledged:
                parts.append(
                    _("%(n)d discrepancies are not acknowledged.")
                    % {"n": len(status.unacknowledged)}
                )
            raise Incomplete(
                _("The skill cannot be signed off yet: %(why)s") % {"why": " ".join(parts)},
                status=status,
            )
        if not warnings_confirmed:
            warnings = sign_off_warnings(skill)
            if warnings:
                raise WarningsUnconfirmed(warnings)
        now = timezone.now()
        record = ledger.append(
            marking,
            action=Action.SIGN_OFF,
            actor_id=by_user.pk,
            source="sign_off",
            created_at=now,
        )
        marking.status = SkillMarking.Status.SIGNED_OFF
        marking.signed_off_at = now
        marking.signed_off_by = by_user
        marking.save()
        # The signed-off results are stored now, under the same lock; the apps
        # above follow from them (awards queue their work on commit).
        from scoring.results import recompute_skill

        recompute_skill(skill)
        signals.skill_signed_off.send(
            sender=SkillMarking, skill=skill, marking=marking, record=record, by_user=by_user
        )
        signals.results_changed.send(sender=SkillMarking, skill=skill)
        return record


def reopen(skill: Skill, by_user, reason: str) -> LedgerRecord:
    """Unlock a signed-off skill; the reason is required and goes to the ledger."""
    _require_manager(by_user, skill)
    reason = (reason or "").strip()
    if not reason:
        raise MarkRefused(_("A reason is required to reopen marking."), code="reason_required")
    with transaction.atomic():
        marking = locked_state(skill.pk)
        if not marking.is_signed_off:
            raise MarkRefused(_("This skill is not signed off."), code="not_signed_off")
        record = ledger.append(
            marking,
            action=Action.REOPEN,
            actor_id=by_user.pk,
            reason=reason,
            source="reopen",
            created_at=timezone.now(),
        )
        marking.status = SkillMarking.Status.OPEN
        marking.signed_off_at = None
        marking.signed_off_by = None
        marking.results_computed_at = None
        marking.save()
        # Reopened marks are no longer the published result (docs/integrity.md).
        # A call down the layers (competitions is below scoring), so no signal.
        from competitions.publication import on_reopened

        on_reopened(skill, by_user, reason)
        signals.skill_reopened.send(
            sender=SkillMarking,
            skill=skill,
            marking=marking,
            record=record,
            by_user=by_user,
            reason=reason,
        )
        return record


def acknowledge_discrepancy(entry: Entry, aspect: Aspect, by_user, note: str = "") -> LedgerRecord:
    """The chief judge has looked at a flagged judgement aspect of an entry."""
    skill = entry.skill
    _require_manager(by_user, skill)
    if aspect.skill_id != skill.pk or aspect.kind != AspectKind.JUDGEMENT:
        raise NotAllowed(_("Only judgement aspects of this skill have discrepancies."))
    note = (note or "").strip()
    with transaction.atomic():
        marking = locked_state(skill.pk)
        if marking.is_signed_off:
            raise Locked(_("This skill is already signed off."))
        scores = list(
            Mark.objects.filter(
                entry_id=entry.pk, aspect_id=aspect.pk, kind=AspectKind.JUDGEMENT
            ).values_list("value", flat=True)
        )
        if len(scores) < 2 or max(scores) - min(scores) <= skill.discrepancy_tolerance:
            raise NotAllowed(
                _("There is no discrepancy to acknowledge here."), code="no_discrepancy"
            )
        DiscrepancyAcknowledgement.objects.update_or_create(
            entry=entry,
            aspect=aspect,
            defaults={"acknowledged_by": by_user, "note": note},
        )
        record = ledger.append(
            marking,
            action=Action.ACKNOWLEDGE,
            entry_id=entry.pk,
            aspect_id=aspect.pk,
            actor_id=by_user.pk,
            reason=note,
            source="acknowledge",
            created_at=timezone.now(),
        )
        marking.save(update_fields=["ledger_head", "ledger_length"])
        return record


def names_revealed(skill: Skill | int) -> bool:
    """Judges see names and delegations only once the skill is signed off (解密)."""
    skill_id = skill if isinstance(skill, int) else skill.pk
    return SkillMarking.objects.filter(
        skill_id=skill_id, status=SkillMarking.Status.SIGNED_OFF
    ).exists()
