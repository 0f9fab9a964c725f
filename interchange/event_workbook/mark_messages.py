"""The problems the ``marks`` sheet reports (English msgids; Chinese in this
app's catalogue). A problem of many rows names their count and first rows."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

UNKNOWN_ASPECT = _(
    "Unknown aspect code %(code)s for skill %(skill)s: not in the aspects sheet nor in the "
    "portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_ENTRY = _(
    "Unknown competitor number %(number)s in skill %(skill)s: not in the entries sheet nor in "
    "the portal (%(count)s row(s): %(rows)s)."
)
UNKNOWN_JUDGE = _(
    "Unknown judge code %(code)s: not in the judges sheet nor in the portal "
    "(%(count)s row(s): %(rows)s)."
)
UNKNOWN_SKILL_ROWS = _(
    "Unknown skill code %(code)s: not in the skills sheet nor in this event "
    "(%(count)s row(s): %(rows)s)."
)
NOT_ASSIGNED = _(
    "Judge %(judge)s is not assigned to skill %(skill)s, so may not mark it: list the judge "
    "for the skill in the judges sheet (%(count)s row(s): %(rows)s)."
)
RECUSAL = _(
    "Recusal (回避): judge %(judge)s belongs to delegation %(delegation)s, as does entry "
    "%(number)s, and may not mark it (%(count)s row(s): %(rows)s)."
)
CHIEF_JUDGEMENT = _(
    "Judge %(judge)s is the chief judge of skill %(skill)s; the chief judge does not give "
    "judgement scores (%(count)s row(s): %(rows)s)."
)
OUTSIDE_GROUP = _(
    "Aspect %(aspect)s of entry %(number)s is outside the marking groups of judge %(judge)s."
)
NOT_RANKED = _(
    "Entry %(number)s of skill %(skill)s is absent or withdrawn and is not marked "
    "(%(count)s row(s): %(rows)s)."
)
LOCKED = _(
    "Marks of skill %(skill)s are signed off and locked; the chief judge must reopen them "
    "before this sheet can change them (%(count)s row(s): %(rows)s)."
)
SCHEME_INCOMPLETE = _(
    "The marking scheme of skill %(skill)s is not complete, so it cannot be marked yet: "
    "%(problems)s"
)
MARK_OUT_OF_RANGE = _("The mark %(value)s is out of range: aspect %(aspect)s allows 0 to %(max)s.")
TOO_MANY_DECIMALS = _("A mark has at most 2 decimals (got “%(value)s”).")
JUDGE_REQUIRED = _(
    "Aspect %(aspect)s is a judgement aspect: each score needs the judge_code of the judge "
    "who gave it."
)
NO_IMPORTER = _(
    "Marks without a judge_code are recorded as written by the organiser who imports them, "
    "and this import names none (manage.py import_event: add --user USERNAME) "
    "(%(count)s row(s): %(rows)s)."
)
DUPLICATE_MARK = _(
    "The mark %(mark)s is listed twice, in rows %(first)s and %(second)s; keep one of them."
)
REFUSED = _("The mark service refused this mark: %(reason)s")
