"""The event workbook's ``marks`` sheet (docs/formats.md): one mark per row,
through the mark service.

Marks go through ``scoring.services.write_marks``, the batch form of
``write_mark`` (same checks, messages and ledger chain; one call per skill,
because one ``write_mark`` per row would take twenty minutes for a
provincial final's ~150 k rows). Writes are blind (no version check) and
carry no client key: a mark whose value is already stored is left alone and
records nothing, so re-importing a file changes nothing. M rows: the mark
and the judge who gave it; J rows: one row per judge, 0–3.

Before anything is written, each row is checked against the event as it
will be after the earlier sheets (``mark_facts``: entries, judges and
aspects of the file, else of the portal), by the same rules the mark
service applies (``mark_checks``); whatever the service still refuses at
write time (e.g. marking groups) becomes an error on its row too. A problem
that concerns many rows at once (an unknown judge, a signed-off skill, a
recused judge on an entry) is reported once, at its first row, with the
count and the first row numbers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from competitions.models import Event
from scoring import services
from scoring.models import Aspect, Mark
from teams.models import Entry, Judge

from .context import ImportContext, ParsedSheet, SheetRow
from .grouped import GroupedProblems
from .mark_checks import MarkChecks, MarkRow, refusal_problem
from .mark_facts import EventFacts
from .report import CREATED, UNCHANGED, UPDATED
from .resources import MarkRowResource

IMPORT_REASON = "event workbook import"  # stored in the ledger as is (it is hashed)
IMPORT_SOURCE = "import"


def import_marks(ctx: ImportContext, sheet: ParsedSheet) -> None:
    """One mark per row; see the module docstring."""
    problems = GroupedProblems(ctx, sheet)
    cleaned: list[tuple[SheetRow, dict[str, Any]]] = []
    for row in sheet.rows:
        data, ok = ctx.clean_row(sheet, row)
        if ok:
            cleaned.append((row, data))
    facts = EventFacts(ctx, {d["judge_code"] for _r, d in cleaned})
    checks = MarkChecks(facts, problems, has_actor=ctx.state.get("actor") is not None)
    good = [m for m in (checks.check(row, d) for row, d in cleaned) if m is not None]
    problems.flush()

    if not ctx.writable:
        return
    for _i in range(checks.unchanged):
        ctx.count(sheet, UNCHANGED)
    _write_marks(ctx, sheet, good)


def _write_marks(ctx: ImportContext, sheet: ParsedSheet, good: list[MarkRow]) -> None:
    """One ``services.write_marks`` batch per skill; refusals become row errors."""
    by_skill: dict[str, list[MarkRow]] = defaultdict(list)
    for m in good:
        by_skill[m.skill].append(m)
    if not by_skill:
        return
    skills = {s.code: s for s in ctx.event.skills.filter(code__in=by_skill)}
    entries = {
        (e.skill_id, e.competitor_no): e
        for e in Entry.objects.filter(skill__in=skills.values()).only(
            "pk", "skill_id", "delegation_id", "competitor_no", "status"
        )
    }
    aspects = {(a.skill_id, a.code): a for a in Aspect.objects.filter(skill__in=skills.values())}
    judges = {j.code: j for j in Judge.objects.filter(code__in={m.judge for m in good})}
    actor = ctx.state.get("actor")  # the importing user, when the caller names one
    problems = GroupedProblems(ctx, sheet)
    for code, rows in by_skill.items():
        skill = skills[code]
        writes = [
            services.MarkWrite(
                entry=entries[(skill.pk, m.number)],
                aspect=aspects[(skill.pk, m.aspect)],
                judge=judges[m.judge] if m.judge else None,
                value=m.value,
            )
            for m in rows
        ]
        try:
            results = services.write_marks(
                skill, writes, actor=actor, reason=IMPORT_REASON, source=IMPORT_SOURCE
            )
        except services.BatchRefused as exc:
            for index, refusal in exc.refusals.items():
                refusal_problem(problems, refusal, rows[index], writes[index])
            continue
        for result in results:
            ctx.count(
                sheet, CREATED if result.created else UPDATED if result.changed else UNCHANGED
            )
    problems.flush()


def marks_queryset(event: Event) -> QuerySet[Mark]:
    return MarkRowResource().get_queryset().filter(skill__event=event)
