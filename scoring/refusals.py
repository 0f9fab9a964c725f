"""What the mark rules refuse, as exceptions with a stable code.

``code`` is for programs (the tablet answers with it, the workbook import
maps it to a located row error); ``message`` is for the person, translated
when the refusal is raised. The tablet, the batch import and the admin
raise the same class, code and message for the same bad write, because all
three go through ``scoring.checks.check_mark`` (docs/integrity.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .status import MarkingStatus


class MarkRefused(Exception):
    """A write or state change the rules refuse. ``code`` is stable (for
    programs); ``message`` is for the person (translated when raised)."""

    code = "refused"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class Locked(MarkRefused):
    code = "locked"


class NotRanked(MarkRefused):
    code = "not_ranked"


class SchemeIncomplete(MarkRefused):
    code = "scheme_incomplete"


class NotAllowed(MarkRefused):
    """Panel rules (assignment, recusal, marking group) or a misused key."""

    code = "not_allowed"


class OutOfRange(MarkRefused):
    """The value is not a valid mark for the aspect (also: not a number)."""

    code = "out_of_range"


class StaleMark(MarkRefused):
    """The optimistic version check failed; carries the current state."""

    code = "stale"

    def __init__(
        self, message: str, *, current_value: Decimal | None, current_version: int
    ) -> None:
        super().__init__(message)
        self.current_value = current_value
        self.current_version = current_version


class Incomplete(MarkRefused):
    """Sign-off refused: marks are missing or discrepancies unacknowledged."""

    code = "incomplete"

    def __init__(self, message: str, status: MarkingStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class WarningsUnconfirmed(MarkRefused):
    """Sign-off refused until the person confirms what the apps above asked
    to confirm (``sign_off_warnings``); ``warnings`` lists their messages."""

    code = "warnings_unconfirmed"

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(_("Confirm first: %(warnings)s") % {"warnings": " ".join(warnings)})
        self.warnings = warnings


class BatchRefused(MarkRefused):
    """Some writes of a ``write_marks`` batch were refused, so none was written.

    ``refusals`` maps the index of each refused write to the ``MarkRefused``
    that ``write_mark`` would have raised for it (same class, code, message).
    """

    code = "batch_refused"

    def __init__(self, refusals: dict[int, MarkRefused]) -> None:
        first = refusals[min(refusals)]
        super().__init__(
            _("%(n)d marks were refused, so none was written; the first: %(first)s")
            % {"n": len(refusals), "first": first.message}
        )
        self.refusals = refusals
