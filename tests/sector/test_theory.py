"""Theory exams: conversion exact (half up), spread over the aspects so the
criterion adds up to the converted mark, recorded through the mark service
as imported by the uploading organiser; all or nothing."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import Workbook

from scoring.models import Aspect, Criterion, LedgerRecord, Mark, SubCriterion
from sector import theory
from tests import factories as f

THEORY_MAXIMA = [Decimal("6.67"), Decimal("6.67"), Decimal("6.66")]  # C = 20


def reference_mark(score: str, out_of: str, c: str = "20") -> Decimal:
    """The rule again with Decimal's own half-up rounding (independent of the code)."""
    return (Decimal(score) * Decimal(c) / Decimal(out_of)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


@pytest.mark.parametrize(
    ("score", "out_of", "expected"),
    [
        ("87.5", "100", "17.50"),
        ("1", "160", "0.13"),  # exactly 0.125: half up, not to even
        ("3", "160", "0.38"),  # exactly 0.375
        ("1", "3", "6.67"),  # 6.666…
        ("2", "3", "13.33"),  # 13.333…
        ("137", "150", "18.27"),  # 18.2666…
        ("0", "100", "0.00"),
        ("100", "100", "20.00"),
        ("59.995", "100", "12.00"),  # 11.999 → 12.00
        ("0.0025", "1", "0.05"),
    ],
)
def test_conversion_exact(score, out_of, expected):
    got = theory.converted_mark(Decimal(score), Decimal(out_of), Decimal(20))
    assert got == Decimal(expected) == reference_mark(score, out_of)
    assert str(got) == expected


def test_spread_hand_worked_and_sums_exactly():
    # 17.50 over 6.67, 6.67, 6.66: running totals h(5.83625)=5.84, h(11.6725)=11.67, 17.50.
    assert theory.spread(Decimal("17.50"), THEORY_MAXIMA) == [
        Decimal("5.84"),
        Decimal("5.83"),
        Decimal("5.83"),
    ]
    assert theory.spread(Decimal("20.00"), THEORY_MAXIMA) == THEORY_MAXIMA
    for cents in range(0, 2001, 7):
        mark = Decimal(cents) / 100
        parts = theory.spread(mark, THEORY_MAXIMA)
        assert sum(parts) == mark
        assert all(Decimal(0) <= p <= m for p, m in zip(parts, THEORY_MAXIMA, strict=True))


@pytest.fixture
def exam(db):
    event = f.event(code="battery", kind="final")
    skill = f.skill(event=event, code="BAT", name="电池制造工")
    t = Criterion.objects.create(skill=skill, code="T", name="理论知识", max_mark=20)
    a = Criterion.objects.create(skill=skill, code="A", name="实操", max_mark=80)
    ts = SubCriterion.objects.create(criterion=t, code="T1", name="理论考试")
    as_ = SubCriterion.objects.create(criterion=a, code="A1", name="实操")
    aspects = [
        Aspect.objects.create(
            skill=skill,
            sub_criterion=ts,
            code=f"T1.{i}",
            kind="M",
            description="理论",
            max_mark=m,
            order=i,
        )
        for i, m in enumerate(THEORY_MAXIMA, start=1)
    ]
    Aspect.objects.create(
        skill=skill, sub_criterion=as_, code="A1.1", kind="M", description="实操", max_mark=80
    )
    nj, sz = f.delegation(code="NJ"), f.delegation(code="SZ")
    chief = f.judge(skill, role="chief", delegation=nj)
    judge = f.judge(skill, delegation=sz)
    e_nj = f.entry(
        skill,
        delegation=nj,
        competitor_no="101",
        athletes=[f.athlete_with_id(delegation=nj, name="甲")],
    )
    e_sz = f.entry(
        skill,
        delegation=sz,
        competitor_no="102",
        athletes=[f.athlete_with_id(delegation=sz, name="乙")],
    )
    return {
        "event": event,
        "skill": skill,
        "aspects": aspects,
        "chief": chief,
        "judge": judge,
        "e_nj": e_nj,
        "e_sz": e_sz,
        "org": f.organiser(),
    }


def book(
    rows, header=("skill_code", "competitor_no", "id_number", "score", "out_of")
) -> io.BytesIO:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "theory"
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def theory_marks(entry, aspects):
    return [Mark.objects.get(entry=entry, aspect=a) for a in aspects]


def test_upload_places_marks_exactly_and_as_imported_by_the_organiser(exam):
    sz_id = exam["e_sz"].members.get().athlete.id_number
    report = theory.import_theory(
        exam["event"],
        book([("BAT", "101", None, 87.5, 100), ("BAT", None, sz_id, "137", "150")]),
        exam["org"],
    )
    assert report.ok, [str(e) for e in report.errors]
    assert report.marks_written == 6
    nj = theory_marks(exam["e_nj"], exam["aspects"])
    assert [m.value for m in nj] == [Decimal("5.84"), Decimal("5.83"), Decimal("5.83")]
    sz = theory_marks(exam["e_sz"], exam["aspects"])
    assert sum(m.value for m in sz) == reference_mark("137", "150") == Decimal("18.27")
    # Recusal: the chief (NJ) records SZ's marks; NJ's entry goes to the SZ judge.
    assert {m.judge_id for m in nj} == {exam["judge"].pk}
    assert {m.judge_id for m in sz} == {exam["chief"].pk}
    records = LedgerRecord.objects.filter(entry__in=[exam["e_nj"], exam["e_sz"]])
    assert records.count() == 6
    assert set(records.values_list("source", "actor")) == {("import", exam["org"].pk)}
    # Re-uploading the same file changes nothing.
    again = theory.import_theory(
        exam["event"],
        book([("BAT", "101", None, 87.5, 100), ("BAT", None, sz_id, "137", "150")]),
        exam["org"],
    )
    assert again.ok and again.marks_written == 0 and again.marks_unchanged == 6


def test_bad_rows_write_nothing_and_say_where(exam):
    report = theory.import_theory(
        exam["event"],
        book(
            [
                ("BAT", "101", None, 50, 100),
                ("BAT", "102", None, 120, 100),  # score above out_of
                ("BAT", "999", None, 10, 100),  # no such entry
                ("XXX", "101", None, 10, 100),  # no such skill
                ("BAT", "101", None, 10, 100),  # twice
                ("BAT", "102", None, 10, 0),  # out_of 0
            ]
        ),
        exam["org"],
    )
    assert not report.ok
    where = sorted((e.sheet, e.row, e.column, e.cell) for e in report.errors)
    assert where == [
        ("theory", 3, "score", "D3"),
        ("theory", 4, "competitor_no", "B4"),
        ("theory", 5, "skill_code", "A5"),
        ("theory", 6, "competitor_no", "B6"),
        ("theory", 7, "out_of", "E7"),
    ]
    assert not Mark.objects.exists()
    assert not LedgerRecord.objects.exists()


def test_signed_off_skill_refuses_and_writes_nothing(exam):
    from tests.awards.conftest import sign_off

    sign_off(exam["skill"])
    report = theory.import_theory(exam["event"], book([("BAT", "101", None, 5, 10)]), exam["org"])
    assert not report.ok
    assert not Mark.objects.exists()


def test_missing_columns_and_not_a_workbook(exam):
    report = theory.import_theory(exam["event"], io.BytesIO(b"not a zip"), exam["org"])
    assert not report.ok
    report = theory.import_theory(
        exam["event"], book([("BAT", 1, 2)], header=("skill_code", "score", "out_of")), exam["org"]
    )
    assert not report.ok and "competitor_no" in str(report.errors[0])


def test_dry_run_writes_nothing(exam):
    report = theory.import_theory(
        exam["event"], book([("BAT", "101", None, 5, 10)]), exam["org"], dry_run=True
    )
    assert report.ok
    assert not Mark.objects.exists()


def test_upload_page_organisers_only_and_all_or_nothing(client, exam):
    from django.urls import reverse

    url = reverse("sector:theory", args=[exam["event"].code])
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(f.lead(exam["e_nj"].delegation))
    assert client.post(url, {"file": book([("BAT", "101", None, 5, 10)])}).status_code == 403
    client.force_login(exam["org"])
    bad = client.post(url, {"file": book([("BAT", "101", None, 5, 10), ("BAT", "7", None, 1, 2)])})
    assert bad.status_code == 400 and "B3" in bad.content.decode()
    assert not Mark.objects.exists()
    good = client.post(url, {"file": book([("BAT", "101", None, 5, 10)])})
    assert good.status_code == 302
    assert sum(m.value for m in theory_marks(exam["e_nj"], exam["aspects"])) == Decimal("10.00")
