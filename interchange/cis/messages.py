"""The problems a marking-scheme import reports (English msgids; Chinese in
this app's catalogue).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NOT_XLSX = _("The file is not a readable .xlsx workbook.")
NO_SCHEME_SHEET = _(
    "No marking scheme found: the workbook has neither a “CIS Marking Scheme Import” "
    "sheet nor an “aspects” sheet."
)
NO_HEADER = _("No row with the column keys %(keys)s in the first %(n)s rows.")
NO_ROWS_FOR_SKILL = _("The aspects sheet has no row for skill %(code)s.")
OTHER_SKILLS_IGNORED = _("%(count)s rows of other skills (%(codes)s) were ignored.")
BOTH_SHEETS_DIFFER = _(
    "The workbook holds both a CIS sheet and an aspects sheet for this skill and they "
    "differ; delete the one you did not edit and import again."
)
EMPTY_CELL = _("This cell must not be empty.")
TOO_LONG = _("At most %(max)s characters (this has %(length)s).")
NOT_A_NUMBER = _("“%(value)s” is not a number.")
NEGATIVE = _("The mark must not be negative (got %(value)s).")
UNKNOWN_TYPE = _("Unknown aspect type “%(value)s”: use M (measurement) or J (judgement).")
MAX_MARK_NOT_NUMBER = _("The max mark “%(value)s” is not a number.")
MAX_MARK_NOT_POSITIVE = _("The max mark must be more than 0 (got %(value)s).")
MAX_MARK_TOO_PRECISE = _(
    "The max mark %(value)s cannot be kept exactly: at most 2 decimal places and less than 10000."
)
NO_DESCRIPTION = _("The aspect has no description.")
BAD_SCORE = _("A judgement score must be 0, 1, 2 or 3 (got “%(value)s”).")
NO_DESCRIPTORS = _(
    "%(count)s judgement aspect(s) have no descriptors; the tablet shows bare scores 0–3 for them."
)
MISSING_DESCRIPTOR = _("The judgement aspect has no descriptor for score %(score)s.")
EMPTY_DESCRIPTOR = _("The descriptor for score %(score)s is empty.")
DUPLICATE_SCORE = _(
    "Score %(score)s is described twice for this judgement aspect (first in row %(first)s)."
)
DESCRIPTOR_ON_MEASUREMENT = _(
    "A measurement aspect has no judgement descriptors: remove this or make the aspect J."
)
SCORE_WITHOUT_ASPECT = _("A judgement score row comes before any judgement aspect.")
ASPECT_BEFORE_SUB = _("An aspect row comes before any sub-criterion row.")
DUPLICATE_CRITERION = _("Criterion %(code)s is listed twice (first in row %(first)s).")
DUPLICATE_SUB = _("Sub-criterion %(code)s is listed twice (first in row %(first)s).")
DUPLICATE_ASPECT = _("Aspect code %(code)s is used twice (first in row %(first)s).")
DUPLICATE_SECTION = _("WSOS section %(code)s is listed twice (first in row %(first)s).")
INCONSISTENT = _(
    "This differs from row %(first)s (“%(other)s”); every row of %(code)s must say the same."
)
CRITERION_NOT_LISTED = _("Criterion %(code)s has aspects but is not listed in the Criteria table.")
BLOCK_WITHOUT_LETTER = _(
    "This block does not say which criterion it belongs to (expected “Criterion A” … in column L)."
)
CRITERION_SUM = _(
    "The aspects of criterion %(code)s add up to %(actual)s, but the criterion is worth %(stated)s."
)
TOTAL_SUM = _("The criteria add up to %(actual)s, not %(expected)s.")
NO_ASPECTS = _("The marking scheme has no aspects.")
TOTAL_NOT_100 = _("The scheme states a total of %(total)s, not 100.")
HEADING_SKIPPED = _(
    "The heading “%(text)s” has no aspect type; the portal keeps aspects only, so it was "
    "not imported."
)
ROW_IGNORED = _("Row ignored: it has text but no sub-criterion ID, aspect type or score.")
SUB_WITHOUT_ASPECTS = _("Sub-criterion %(code)s has no aspects.")
UNKNOWN_SECTION = _("WSOS section %(code)s is not in the WSOS table.")
WSOS_SUM = _("The WSOS weights add up to %(actual)s, not %(expected)s.")
HAS_MARKS = _(
    "Skill %(skill)s already has marks; its marking scheme cannot be changed, because the "
    "existing marks would no longer match it."
)
SIGNED_OFF = _("Skill %(skill)s is signed off; its marking scheme cannot be changed.")
