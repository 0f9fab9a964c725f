"""``services.write_marks``, the batch path of the ``marks`` sheet: it refuses
exactly what ``write_mark`` refuses (same class, code and message), writes
the same marks and chains the same kind of ledger records, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import transaction

from scoring import services
from scoring.ledger import verify_ledger
from scoring.models import (
    Aspect,
    DiscrepancyAcknowledgement,
    LedgerRecord,
    Mark,
    MarkingGroup,
    SkillMarking,
)
from scoring.services import BatchRefused, MarkRefused, MarkWrite, write_mark, write_marks
from teams.models import Entry
from tests import factories as f
from tests.scoring.builders import SchemeSkill, scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The builders create a user per judge; PBKDF2 would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def s() -> SchemeSkill:
    return scheme_skill(n_entries=3, n_judges=3, m_aspects=["2.50", "67.50"])


class _Undo(Exception):
    pass


def single_refusal(w: MarkWrite) -> MarkRefused | None:
    """What write_mark says about ``w`` (rolled back either way)."""
    try:
        with transaction.atomic():
            assert w.judge is not None
            write_mark(entry=w.entry, aspect=w.aspect, judge=w.judge, value=w.value)
            raise _Undo
    except MarkRefused as exc:
        return exc
    except _Undo:
        return None


def batch_refusal(w: MarkWrite, skill) -> MarkRefused | None:
    try:
        with transaction.atomic():
            write_marks(skill, [w])
            raise _Undo
    except BatchRefused as exc:
        assert list(exc.refusals) == [0]
        return exc.refusals[0]
    except _Undo:
        return None


def own_delegation(s: SchemeSkill) -> MarkWrite:
    judge = f.judge(s.skill, delegation=s.entries[0].delegation)
    return MarkWrite(s.entries[0], s.j_aspects[0], judge, 2)


def not_assigned(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.j_aspects[0], f.judge(), 2)


def chief_judgement(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.j_aspects[0], s.chief, 2)


def outside_group(s: SchemeSkill) -> MarkWrite:
    group = MarkingGroup.objects.create(skill=s.skill, name="一组")
    group.judges.add(s.judges[0])
    group.entries.add(s.entries[1])
    return MarkWrite(s.entries[0], s.j_aspects[0], s.judges[0], 2)


def absent(s: SchemeSkill) -> MarkWrite:
    Entry.objects.filter(pk=s.entries[0].pk).update(status=Entry.Status.ABSENT)
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], 1)


def signed_off(s: SchemeSkill) -> MarkWrite:
    SkillMarking.objects.update_or_create(
        skill=s.skill, defaults={"status": SkillMarking.Status.SIGNED_OFF}
    )
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], 1)


def scheme_incomplete(s: SchemeSkill) -> MarkWrite:
    Aspect.objects.filter(pk=s.m_aspects[1].pk).update(max_mark=Decimal("60"))
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], 1)


def other_skills_aspect(s: SchemeSkill) -> MarkWrite:
    other = scheme_skill(n_entries=1, n_judges=1, event=s.skill.event)
    return MarkWrite(s.entries[0], other.m_aspects[0], s.judges[0], 1)


def value(kind: str, raw: object) -> Callable[[SchemeSkill], MarkWrite]:
    def build(s: SchemeSkill) -> MarkWrite:
        aspect = s.j_aspects[0] if kind == "J" else s.m_aspects[0]
        return MarkWrite(s.entries[0], aspect, s.judges[0], raw)

    return build


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (own_delegation, ("not_allowed", "own_delegation")),
        (not_assigned, ("not_allowed", "not_assigned")),
        (chief_judgement, ("not_allowed", "chief_judgement")),
        (outside_group, ("not_allowed", "outside_group")),
        (absent, ("not_ranked", "not_ranked")),
        (signed_off, ("locked", "locked")),
        (scheme_incomplete, ("scheme_incomplete", "scheme_incomplete")),
        (other_skills_aspect, ("not_allowed", "wrong_skill")),
        (value("J", 4), ("out_of_range", "out_of_range")),
        (value("J", "1.5"), ("out_of_range", "out_of_range")),
        (value("J", -1), ("out_of_range", "out_of_range")),
        (value("M", "2.51"), ("out_of_range", "out_of_range")),
        (value("M", "1.255"), ("out_of_range", "too_many_decimals")),
        (value("M", "abc"), ("out_of_range", "not_a_number")),
        (value("M", 1.5), ("out_of_range", "not_a_number")),  # floats: never
        (value("M", None), ("out_of_range", "not_a_number")),
    ],
)
def test_the_batch_refuses_what_write_mark_refuses(s, build, expected):
    w = build(s)
    single = single_refusal(w)
    batch = batch_refusal(w, s.skill)
    assert single is not None and batch is not None
    assert type(batch) is type(single)
    assert (batch.code, batch.message) == (single.code, single.message)
    assert (type(single).code, single.code) == expected
    assert Mark.objects.count() == 0 and LedgerRecord.objects.count() == 0


def test_the_batch_accepts_what_write_mark_accepts(s):
    # The chief judge may enter an M mark; a J score 0; an M mark at its maximum.
    for w in (
        MarkWrite(s.entries[0], s.m_aspects[0], s.chief, "2.5"),
        MarkWrite(s.entries[0], s.j_aspects[0], s.judges[0], 0),
        MarkWrite(s.entries[0], s.m_aspects[1], s.judges[1], Decimal("67.50")),
    ):
        assert single_refusal(w) is None
        assert batch_refusal(w, s.skill) is None


def test_one_refusal_writes_nothing_and_lists_every_refused_write(s):
    writes = [
        MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "1"),
        MarkWrite(s.entries[1], s.j_aspects[0], s.judges[0], 4),
        MarkWrite(s.entries[2], s.m_aspects[0], s.judges[0], "2"),
        MarkWrite(s.entries[2], s.m_aspects[0], s.judges[1], "2.5"),  # same M mark again
    ]
    with pytest.raises(BatchRefused) as caught:
        write_marks(s.skill, writes)
    assert sorted(caught.value.refusals) == [1, 3]
    assert caught.value.refusals[3].code == "duplicate_in_batch"
    assert Mark.objects.count() == 0 and LedgerRecord.objects.count() == 0
    assert not SkillMarking.objects.filter(skill=s.skill, ledger_length__gt=0).exists()


def test_entries_of_another_skill_are_a_programming_error(s):
    other = scheme_skill(n_entries=1, n_judges=1)
    with pytest.raises(ValueError):
        write_marks(s.skill, [MarkWrite(other.entries[0], s.m_aspects[0], s.judges[0], 1)])


def test_the_batch_writes_what_single_writes_write(s):
    """The same writes through both paths give the same marks and the same
    ledger content (apart from ids and times)."""
    other = scheme_skill(n_entries=3, n_judges=3, m_aspects=["2.50", "67.50"], event=s.skill.event)

    def plan(t: SchemeSkill, second: bool) -> list[MarkWrite]:
        writes = [MarkWrite(e, t.m_aspects[0], t.judges[0], "1.25") for e in t.entries]
        writes += [
            MarkWrite(e, t.j_aspects[0], j, (i + k) % 4)
            for i, e in enumerate(t.entries)
            for k, j in enumerate(t.judges)
        ]
        if second:  # change two, repeat the rest, attribute an M mark to another judge
            writes[0] = MarkWrite(t.entries[0], t.m_aspects[0], t.judges[2], "2.5")
            writes[3] = MarkWrite(writes[3].entry, writes[3].aspect, writes[3].judge, 3)
        return writes

    for second in (False, True):
        for w in plan(s, second):
            write_mark(
                entry=w.entry, aspect=w.aspect, judge=w.judge, value=w.value, source="import"
            )
        write_marks(other.skill, plan(other, second), source="import")

    def marks(t: SchemeSkill) -> list[tuple]:
        pos = {e.pk: i for i, e in enumerate(t.entries)}
        judges: dict[int | None, int] = {j.pk: i for i, j in enumerate(t.judges)}
        aspects = {a.pk: i for i, a in enumerate(t.aspects)}
        return sorted(
            (pos[m.entry_id], aspects[m.aspect_id], judges[m.judge_id], m.kind, m.value, m.version)
            for m in Mark.objects.filter(skill=t.skill)
        )

    def ledger(t: SchemeSkill) -> list[tuple]:
        pos = {e.pk: i for i, e in enumerate(t.entries)}
        aspects = {a.pk: i for i, a in enumerate(t.aspects)}
        return [
            (r.seq, r.action, pos[r.entry_id], aspects[r.aspect_id], r.old_value, r.new_value)
            for r in LedgerRecord.objects.filter(skill=t.skill).order_by("seq")
        ]

    assert marks(other) == marks(s)
    assert ledger(other) == ledger(s)
    assert len(ledger(s)) == 12 + 2
    assert verify_ledger().ok


def test_results_become_stale_and_acknowledgements_of_changed_scores_go(s):
    entry, aspect = s.entries[0], s.j_aspects[0]
    write_marks(
        s.skill, [MarkWrite(entry, aspect, j, v) for j, v in zip(s.judges, (0, 3, 3), strict=True)]
    )
    DiscrepancyAcknowledgement.objects.create(
        entry=entry, aspect=aspect, acknowledged_by=f.user(), note="看过"
    )
    kept = DiscrepancyAcknowledgement.objects.create(
        entry=s.entries[1], aspect=aspect, acknowledged_by=f.user()
    )
    SkillMarking.objects.filter(skill=s.skill).update(results_computed_at="2026-01-01T00:00Z")

    results = write_marks(s.skill, [MarkWrite(entry, aspect, s.judges[0], 1)])

    assert results[0].changed and results[0].version == 2
    assert list(DiscrepancyAcknowledgement.objects.all()) == [kept]
    assert SkillMarking.objects.get(skill=s.skill).results_computed_at is None


def test_batches_and_single_writes_share_one_chain(s):
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")
    results = write_marks(
        s.skill,
        [
            MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "1"),  # unchanged: no record
            MarkWrite(s.entries[1], s.m_aspects[0], s.judges[0], "2"),
        ],
        actor=s.chief.user,
        reason="event workbook import",
        ip="10.0.0.9",
    )
    write_mark(entry=s.entries[2], aspect=s.m_aspects[0], judge=s.judges[0], value="0.5")

    assert [(r.created, r.changed, r.record is None) for r in results] == [
        (False, False, True),
        (True, True, False),
    ]
    records = list(LedgerRecord.objects.filter(skill=s.skill).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[1].prev_hash == records[0].hash and records[2].prev_hash == records[1].hash
    assert (records[1].actor, records[1].source, records[1].ip_address) == (
        s.chief.user,
        "import",
        "10.0.0.9",
    )
    assert records[1].mark == Mark.objects.get(entry=s.entries[1])
    assert verify_ledger().ok
    assert services.write_marks(s.skill, []) == []
