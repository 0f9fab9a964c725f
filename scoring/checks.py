"""The one check of a mark write (docs/integrity.md, "one check").

``check_mark`` takes the facts a write is decided on — whether the skill is
signed off, whether the aspect is of the entry's skill, the entry's status,
the scheme's problems, the panel — and the value, and returns the value in
its canonical form or raises the ``MarkRefused`` the rules give, always in
the same order with the same class, code and message:

1. signed off → ``Locked``;
2. aspect of another skill → ``NotAllowed`` (``wrong_skill``);
3. entry absent or withdrawn → ``NotRanked``;
4. scheme incomplete → ``SchemeIncomplete``;
5. panel (``panels.Panel.check``: assignment, recusal, chief judge, marking
   group) → ``NotAllowed`` with the panel's code; a judgement score without a
   judge → ``NotAllowed`` (``judge_required``);
6. the value (``values.parse_value``) → ``OutOfRange``.

Where the facts come from is the caller's business: ``marks.write_mark``
reads them in the statement that locks the skill, ``batch.write_marks``
once per batch, the event workbook's pre-check from the file and the
portal, by codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.utils.translation import gettext as _

from teams.models import Entry

from . import panels
from .models import Aspect, AspectKind
from .refusals import Locked, NotAllowed, NotRanked, SchemeIncomplete
from .values import parse_value


class _NotRead:
    """``check_mark``'s value when the caller wants the rules only."""


NOT_READ: Final = _NotRead()


@dataclass(frozen=True, slots=True)
class MarkFacts:
    """What one write is decided on. Judges and delegations are ids in the
    portal, codes in an event workbook (``panels.Panel`` takes either)."""

    signed_off: bool
    same_skill: bool  # the aspect belongs to the entry's skill
    entry_status: str | None  # None: the entry is gone
    competitor_no: str
    entry_id: int
    entry_delegation: Any
    aspect: Aspect
    scheme_problems: Sequence[str]
    panel: panels.Panel
    judge: Any  # None: an M mark from outside the tablets (an import)


def check_mark(facts: MarkFacts, value: object = NOT_READ) -> Decimal | None:
    """The value in canonical form, or the refusal the rules give (see the
    module docstring). With ``value`` left out, only the rules are checked
    and None is returned (a replayed write, or a caller that parsed first)."""
    if facts.signed_off:
        raise Locked(
            _(
                "Marks of this skill are signed off and locked; the chief judge must "
                "reopen them first."
            )
        )
    if not facts.same_skill:
        raise NotAllowed(
            _("This aspect belongs to another skill than the entry."), code=panels.WRONG_SKILL
        )
    if facts.entry_status != Entry.Status.REGISTERED:
        raise NotRanked(
            _("Entry %(no)s is absent or withdrawn and is not marked.")
            % {"no": facts.competitor_no}
        )
    if facts.scheme_problems:
        raise SchemeIncomplete(
            _("The marking scheme is not complete: %(problems)s")
            % {"problems": " ".join(facts.scheme_problems)}
        )
    aspect = facts.aspect
    if facts.judge is None:
        # A measurement from outside the tablets (theory exam, measuring
        # device, paper form), imported by an organiser: no panel to check.
        if aspect.kind == AspectKind.JUDGEMENT:
            raise NotAllowed(
                _("A judgement score needs the judge who gave it."), code="judge_required"
            )
    else:
        refusal = facts.panel.check(
            facts.judge, facts.entry_id, facts.entry_delegation, aspect.pk, aspect.kind
        )
        if refusal is not None:
            raise NotAllowed(refusal.message, code=refusal.code)
    if value is NOT_READ:
        return None
    return parse_value(value, aspect)
