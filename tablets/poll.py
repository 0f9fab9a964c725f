"""What a tablet refreshes every 15 s, and the ETag that lets an unchanged
refresh be answered 304 (docs/chief-board.md)."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q

from scoring import services as scoring
from scoring.models import AspectKind, Mark, MarkingGroup, SkillMarking
from teams.models import Entry, Judge, JudgeAssignment

from .models import RemarkRequest
from .remarks import open_remarks
from .values import plain

if TYPE_CHECKING:
    from competitions.models import Skill


def poll(judge: Judge, skill: Skill, entry: Entry | None) -> dict:
    """What a tablet refreshes every few seconds: lock state, the judge's
    re-mark requests (competitor numbers only) and, for the open entry, the
    current value and version of each mark it shows."""
    body: dict = {
        "locked": scoring.names_revealed(skill),
        "remarks": [
            {
                "no": r.entry.competitor_no,
                "entry": r.entry_id,
                "aspect": r.aspect_id,
                "aspect_code": r.aspect.code,
                "reason": r.reason,
            }
            for r in open_remarks(judge, skill)
        ],
    }
    if entry is not None:
        body["marks"] = {
            str(aspect_id): [plain(value), version]
            for aspect_id, value, version in Mark.objects.filter(entry=entry)
            .filter(Q(kind=AspectKind.MEASUREMENT) | Q(judge=judge))
            .values_list("aspect_id", "value", "version")
        }
    return body


# Bumped when the body of a poll changes shape, so no old ETag matches it.
POLL_FORMAT = "1"


@cache
def _etag_sql() -> str:
    """The statement of ``poll_etag`` (built once per process); its
    parameters are (judge id, skill id) three times."""
    qn = connection.ops.quote_name

    def t(model) -> str:
        return qn(model._meta.db_table)

    def c(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    a, m, r, e, g = JudgeAssignment, SkillMarking, RemarkRequest, Entry, MarkingGroup
    gj = MarkingGroup.judges.through
    remarks = (
        f"SELECT COUNT(*) AS n, MAX(r.{c(r, 'created_at')}) AS newest FROM {t(r)} r"
        f" JOIN {t(e)} e ON e.{c(e, 'id')} = r.{c(r, 'entry')}"
        f" WHERE r.{c(r, 'judge')} = %s AND r.{c(r, 'resolved_at')} IS NULL"
        f" AND e.{c(e, 'skill')} = %s"
    )
    groups = (
        f"SELECT COUNT(*) AS n, MAX(gj.{c(gj, 'id')}) AS newest FROM {t(gj)} gj"
        f" JOIN {t(g)} g ON g.{c(g, 'id')} = gj.{c(gj, 'markinggroup')}"
        f" WHERE gj.{c(gj, 'judge')} = %s AND g.{c(g, 'skill')} = %s"
    )
    return (
        f"SELECT a.{c(a, 'role')}, m.{c(m, 'ledger_length')}, m.{c(m, 'status')},"
        f" rq.n, rq.newest, gq.n, gq.newest"
        f" FROM ({remarks}) rq CROSS JOIN ({groups}) gq"
        f" CROSS JOIN {t(a)} a LEFT JOIN {t(m)} m ON m.{c(m, 'skill')} = a.{c(a, 'skill')}"
        f" WHERE a.{c(a, 'judge')} = %s AND a.{c(a, 'skill')} = %s"
    )


def poll_etag(judge: Judge, skill_id: int, entry_id: int | None) -> str | None:
    """The version of what ``poll`` would answer the judge, from one indexed
    statement; None when the judge is not assigned to the skill.

    Every mark, sign-off and reopening moves the skill's ledger
    (``SkillMarking``: its length and status); re-mark requests of the
    judge are counted with their newest time (a request asked again is
    re-dated); the judge's role and marking groups in the skill stand for
    the panel. An unchanged version means an unchanged answer, so the
    tablet is told 304 and nothing else is read."""
    with scoring.hot_cursor() as cursor:
        cursor.execute(_etag_sql(), [judge.pk, skill_id] * 3)
        row = cursor.fetchone()
    if row is None:
        return None
    facts = "|".join(str(x) for x in (POLL_FORMAT, judge.pk, skill_id, entry_id, *row))
    return '"' + hashlib.sha256(facts.encode()).hexdigest()[:32] + '"'
