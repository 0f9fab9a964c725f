"""Many marks of one skill at once: ``write_marks``, the path of imports.

An event workbook's ``marks`` sheet holds ~150 k rows; ``write_mark``
costs several round trips per mark, so an import would take many minutes.
``write_marks`` loads the facts of the rules once per batch (lock,
sign-off, entry statuses, scheme problems, panel, current marks), checks
every write with the same ``checks.check_mark`` as ``write_mark``, then
writes the marks and their ledger records in bulk, chained by the same
``ledger.chain`` (docs/integrity.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Entry, Judge

from . import ledger, panels, schemes
from .checks import MarkFacts, check_mark
from .marks import MarkWriteResult, locked_state
from .models import Aspect, AspectKind, DiscrepancyAcknowledgement, LedgerRecord, Mark, SkillMarking
from .refusals import BatchRefused, MarkRefused, NotAllowed

if TYPE_CHECKING:
    from competitions.models import Skill

Action = LedgerRecord.Action


@dataclass(frozen=True)
class MarkWrite:
    """One mark of a ``write_marks`` batch: ``write_mark``'s per-mark arguments."""

    entry: Entry
    aspect: Aspect
    judge: Judge | None  # None: an M mark from outside the tablets (an import)
    value: object

    @property
    def judge_id(self) -> int | None:
        return self.judge.pk if self.judge is not None else None


def _mark_key(entry_id: int, aspect_id: int, judge_id: int | None, kind: str) -> tuple:
    """What identifies a mark: (entry, aspect) for M, plus the judge for J
    (the same rows ``write_mark`` finds)."""
    return (entry_id, aspect_id, judge_id if kind == AspectKind.JUDGEMENT else None, kind)


@dataclass(frozen=True)
class _SkillFacts:
    """What the rules need of the skill, read once per batch under its lock."""

    marking: SkillMarking
    statuses: dict[int, str]
    scheme: list[str]
    panel: panels.Panel

    @classmethod
    def load(cls, skill_id: int, writes: list[MarkWrite]) -> _SkillFacts:
        marking = locked_state(skill_id)
        entry_ids = {w.entry.pk for w in writes}
        judge_ids = sorted({w.judge.pk for w in writes if w.judge is not None})
        return cls(
            marking=marking,
            # Re-read (as write_mark does): the callers' objects may predate a withdrawal.
            statuses=dict(Entry.objects.filter(pk__in=entry_ids).values_list("pk", "status")),
            scheme=schemes.scheme_problems(skill_id),
            panel=panels.load_panel(skill_id, judge_ids=judge_ids),
        )

    def rules(self, w: MarkWrite) -> MarkFacts:
        return MarkFacts(
            signed_off=self.marking.is_signed_off,
            same_skill=w.aspect.skill_id == self.marking.skill_id,
            entry_status=self.statuses.get(w.entry.pk),
            competitor_no=w.entry.competitor_no,
            entry_id=w.entry.pk,
            entry_delegation=w.entry.delegation_id,
            aspect=w.aspect,
            scheme_problems=self.scheme,
            panel=self.panel,
            judge=w.judge_id,
        )


def _checked(facts: _SkillFacts, writes: list[MarkWrite]) -> list[Decimal]:
    """Every write's value through ``check_mark``; ``BatchRefused`` with all
    the refusals if any. One more refusal than ``write_mark`` knows: the
    same mark twice in one batch (``duplicate_in_batch``), since the order of
    two writes of one mark inside a file means nothing."""
    values: list[Decimal] = []
    refusals: dict[int, MarkRefused] = {}
    seen: set[tuple] = set()
    for i, w in enumerate(writes):
        try:
            value = check_mark(facts.rules(w), w.value)
            key = _mark_key(w.entry.pk, w.aspect.pk, w.judge_id, w.aspect.kind)
            if key in seen:
                raise NotAllowed(
                    _("This mark is written twice in one batch."), code="duplicate_in_batch"
                )
            seen.add(key)
        except MarkRefused as exc:
            refusals[i] = exc
            value = Decimal(0)
        assert value is not None
        values.append(value)
    if refusals:
        raise BatchRefused(refusals)
    return values


@dataclass
class _Change:
    index: int
    write: MarkWrite
    mark: Mark
    old_value: Decimal | None


def _apply(
    skill_id: int, writes: list[MarkWrite], values: list[Decimal]
) -> tuple[list[MarkWriteResult | None], list[_Change]]:
    """The marks after the writes, saved in bulk. Per write: the result of
    an unchanged mark (no record), or None and a ``_Change`` to record."""
    current = {
        _mark_key(m.entry_id, m.aspect_id, m.judge_id, m.kind): m
        for m in Mark.objects.filter(skill_id=skill_id, entry_id__in={w.entry.pk for w in writes})
    }
    now = timezone.now()
    results: list[MarkWriteResult | None] = []
    changes: list[_Change] = []
    created: list[Mark] = []
    updated: list[Mark] = []
    for i, (w, value) in enumerate(zip(writes, values, strict=True)):
        mark = current.get(_mark_key(w.entry.pk, w.aspect.pk, w.judge_id, w.aspect.kind))
        if mark is not None and mark.value == value:
            results.append(MarkWriteResult(mark=mark, value=mark.value, version=mark.version))
            continue
        results.append(None)  # filled in once the ledger record exists
        old_value = mark.value if mark else None
        if mark is None:
            mark = Mark(
                skill_id=skill_id,
                entry_id=w.entry.pk,
                aspect_id=w.aspect.pk,
                judge_id=w.judge_id,
                kind=w.aspect.kind,
                value=value,
                version=1,
            )
            created.append(mark)
        else:
            mark.value = value
            mark.version += 1
            mark.judge_id = w.judge_id  # an M mark: whoever entered its current value
            mark.updated_at = now  # bulk_update skips auto_now
            updated.append(mark)
        changes.append(_Change(i, w, mark, old_value))
    # PostgreSQL (and SQLite ≥ 3.35) return the new ids the ledger records point to.
    Mark.objects.bulk_create(created, batch_size=1000)
    Mark.objects.bulk_update(updated, ["value", "version", "judge", "updated_at"], batch_size=1000)
    return results, changes


def _drop_acknowledgements(changes: list[_Change]) -> None:
    """The chief judge acknowledged other scores than these (as in write_mark)."""
    changed_j = {
        (c.write.entry.pk, c.write.aspect.pk)
        for c in changes
        if c.write.aspect.kind == AspectKind.JUDGEMENT
    }
    if not changed_j:
        return
    stale = [
        pk
        for pk, entry_id, aspect_id in DiscrepancyAcknowledgement.objects.filter(
            entry_id__in={e for e, _a in changed_j}
        ).values_list("pk", "entry_id", "aspect_id")
        if (entry_id, aspect_id) in changed_j
    ]
    if stale:
        DiscrepancyAcknowledgement.objects.filter(pk__in=stale).delete()


def _records(changes: list[_Change], *, actor, reason, source, device, ip) -> list[LedgerRecord]:
    """One unchained ledger record per change (``ledger.chain`` chains them)."""
    now = timezone.now()
    return [
        LedgerRecord(
            action=Action.WRITE,
            mark=c.mark,
            entry_id=c.write.entry.pk,
            aspect_id=c.write.aspect.pk,
            judge_id=c.write.judge_id,
            old_value=c.old_value,
            new_value=c.mark.value,
            reason=(reason or "").strip(),
            source=source or "",
            actor_id=getattr(actor, "pk", None),
            device=(device or "")[:200],
            ip_address=ip,
            created_at=now,
        )
        for c in changes
    ]


def write_marks(
    skill: Skill,
    writes: list[MarkWrite],
    *,
    actor=None,
    reason: str = "",
    source: str = "import",
    device: str = "",
    ip: str | None = None,
) -> list[MarkWriteResult]:
    """Write many marks of one skill as ``write_mark`` would write each of
    them blind (``expected_version=None``, no ``client_key``) — but all or
    nothing: if any write is refused, ``BatchRefused`` lists every refusal
    (each the class, code and message ``write_mark`` would raise) and
    nothing is written.

    Same effects per mark: a value equal to the stored one changes nothing
    and records nothing; otherwise the mark is created (version 1) or
    updated (version + 1, an M mark attributed to the new writer), one
    ledger record is chained per change, the results are made stale and
    acknowledgements of changed J aspects are dropped. The skill's
    ``SkillMarking`` row stays locked until the caller's transaction ends.

    Every entry must belong to ``skill`` (a programming error otherwise).
    Returns one ``MarkWriteResult`` per write, in order.
    """
    if any(w.entry.skill_id != skill.pk for w in writes):
        raise ValueError("write_marks: every entry must belong to the skill")
    if not writes:
        return []
    with transaction.atomic():
        facts = _SkillFacts.load(skill.pk, writes)
        results, changes = _apply(skill.pk, writes, _checked(facts, writes))
        if not changes:
            return [r for r in results if r is not None]
        records = _records(changes, actor=actor, reason=reason, source=source, device=device, ip=ip)
        ledger.chain(facts.marking, records)
        LedgerRecord.objects.bulk_create(records, batch_size=1000)
        facts.marking.results_computed_at = None
        facts.marking.save(update_fields=["ledger_head", "ledger_length", "results_computed_at"])
        for c, record in zip(changes, records, strict=True):
            results[c.index] = MarkWriteResult(
                mark=c.mark,
                value=c.mark.value,
                version=c.mark.version,
                created=c.old_value is None,
                changed=True,
                record=record,
            )
        _drop_acknowledgements(changes)
    return [r for r in results if r is not None]
