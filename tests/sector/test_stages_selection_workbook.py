"""Stages (current / next), the selection funnel and path, and the event
workbook's optional rewards sheet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from openpyxl import Workbook

from competitions import stages
from competitions.models import Phase
from draws import services as draws
from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.writer import build_workbook
from scoring.models import EntryResult
from sector import selection
from sector.models import Reward
from teams.models import Entry
from tests import factories as f

pytestmark = pytest.mark.django_db
D = dt.date


def test_current_and_next_stage():
    p = f.programme()
    mob = Phase.objects.create(
        programme=p, kind="mobilisation", starts_on=D(2026, 3, 1), ends_on=D(2026, 3, 31)
    )
    train = Phase.objects.create(
        programme=p, kind="training", starts_on=D(2026, 4, 1), ends_on=D(2026, 8, 31)
    )
    final = Phase.objects.create(
        programme=p, kind="competition", starts_on=D(2026, 10, 10), ends_on=D(2026, 10, 12)
    )
    assert stages.current_stage(p, D(2026, 3, 31)) == mob  # the last day counts
    assert stages.current_stage(p, D(2026, 4, 1)) == train
    assert stages.next_stage(p, D(2026, 4, 1)) == final
    assert stages.current_stage(p, D(2026, 9, 15)) is None  # between stages
    assert stages.next_stage(p, D(2026, 9, 15)) == final
    assert stages.current_stage(p, D(2027, 1, 1)) is None
    assert stages.next_stage(p, D(2027, 1, 1)) is None
    assert [v.state for v in stages.programme_stages(p, D(2026, 4, 1))] == [
        "past",
        "current",
        "next",
    ]


def test_standard_stage_once_custom_needs_a_name():
    p = f.programme()
    Phase.objects.create(
        programme=p, kind="training", starts_on=D(2026, 1, 1), ends_on=D(2026, 1, 2)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Phase.objects.create(
            programme=p, kind="training", starts_on=D(2026, 2, 1), ends_on=D(2026, 2, 2)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Phase.objects.create(
            programme=p, kind="custom", starts_on=D(2026, 2, 1), ends_on=D(2026, 2, 2)
        )
    for name in ("理论考试", "观摩交流"):  # several custom stages are fine
        Phase.objects.create(
            programme=p, kind="custom", name=name, starts_on=D(2026, 2, 1), ends_on=D(2026, 2, 2)
        )


@pytest.fixture
def three_rounds():
    p = f.programme(code="sel")
    r1 = f.event(programme=p, code="r1", kind="selection", starts_on=D(2026, 3, 1))
    r2 = f.event(programme=p, code="r2", kind="selection", starts_on=D(2026, 5, 1))
    fin = f.event(programme=p, code="fin", kind="final", starts_on=D(2030, 6, 1))
    s1, s2, s3 = (f.skill(event=e, code="WLD") for e in (r1, r2, fin))
    d = f.delegation(code="NJ")
    athletes = [f.athlete(delegation=d, name=f"候选{i}") for i in range(12)]
    e1 = [
        f.entry(s1, delegation=d, athletes=[a], competitor_no=str(100 + i))
        for i, a in enumerate(athletes)
    ]
    Entry.objects.filter(pk=e1[11].pk).update(status="absent")
    for i, e in enumerate(e1[:11]):
        EntryResult.objects.create(
            entry=e, skill=s1, final_score=Decimal(90 - i), rank=i + 1, complete=True
        )
    e2 = [
        f.entry(s2, delegation=d, athletes=[a], competitor_no=str(200 + i))
        for i, a in enumerate(athletes[:5])
    ]
    for i, e in enumerate(e2):
        EntryResult.objects.create(
            entry=e, skill=s2, final_score=Decimal(80 - i), rank=i + 1, complete=True
        )
    return {"p": p, "r1": r1, "r2": r2, "fin": fin, "s3": s3, "athletes": athletes, "d": d}


def test_funnel_counts(three_rounds):
    t = three_rounds
    draws.draw(t["s3"], t["r2"], count=2, seed="x")
    bars = selection.funnel(t["p"])
    # Candidates: 12 entered anywhere; round 1: 11 competed (one absent); round 2: 5; final: 2.
    assert [(b.count, b.is_final) for b in bars] == [
        (12, False),
        (11, False),
        (5, False),
        (2, True),
    ]
    chart = selection.chart(bars)
    widths = [b.width for b in chart.bars]
    assert widths == sorted(widths, reverse=True) and widths[0] <= chart.plot_width
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value >= 12


def test_athlete_path(three_rounds):
    t = three_rounds
    done = draws.draw(t["s3"], t["r2"], count=1, seed="x")
    drawn = Entry.objects.get(skill__event=t["r2"], competitor_no=done.result[0]["competitor_no"])
    athlete = drawn.members.get().athlete
    steps = selection.athlete_path(t["p"], athlete)
    assert [s.onward for s in steps] == ["entered", "drawn", "last"]
    assert steps[1].rank is not None and steps[1].ranked == 5
    loser = t["athletes"][8]
    assert [s.onward for s in selection.athlete_path(t["p"], loser)] == ["not_advanced", "", ""]


def _write(path, sheets: dict[str, list[list]]):
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_rewards_sheet_imports_all_or_nothing_and_exports(tmp_path):
    event = f.event(code="wjw-final")
    good = _write(
        tmp_path / "good.xlsx",
        {
            "rewards": [
                ["outcome", "bonus_yuan", "credits"],
                ["finalist", None, 2],
                ["技术能手", 1000, 4],
                ["winner", "1000", 2.5],
            ]
        },
    )
    report = import_workbook(str(good), "wjw-final")
    assert not report.errors, [str(e) for e in report.errors]
    got = {r.outcome: (r.bonus_yuan, r.credits) for r in Reward.objects.all()}
    assert got == {
        "finalist": (0, 2),
        "technical_expert": (1000, 4),
        "winner": (1000, Decimal("2.5")),
    }
    bad = _write(
        tmp_path / "bad.xlsx",
        {
            "rewards": [
                ["outcome", "bonus_yuan", "credits"],
                ["finalist", 5, 3],
                ["platinum", 1, 1],
                ["winner", -1, 0],
                ["finalist", 0, 0],
            ]
        },
    )
    report = import_workbook(str(bad), "wjw-final")
    where = sorted((e.sheet, e.row, e.column) for e in report.errors)
    assert where == [
        ("rewards", 3, "outcome"),
        ("rewards", 4, "bonus_yuan"),
        ("rewards", 5, "outcome"),
    ]
    assert Reward.objects.get(outcome="finalist").credits == 2  # nothing written
    book = build_workbook(event)
    rows = list(book["rewards"].iter_rows(values_only=True))
    assert rows[0] == ("outcome", "bonus_yuan", "credits")
    assert ("technical_expert", 1000, 4) in rows[1:]
