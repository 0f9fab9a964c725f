"""Importing the real WorldSkills CIS example."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from interchange.cis.cis_sheet import read_cis
from interchange.cis.data import SchemeImportError
from interchange.cis.reader import read_scheme
from interchange.cis.store import apply_scheme, scheme_of
from interchange.cis.variation import wsos_variation
from interchange.cis.workbook import load_scheme_workbook
from interchange.cis.writer import export_workbook
from scoring.models import Aspect, Criterion, JudgementDescriptor, SubCriterion, WSOSSection
from tests import factories

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "examples"
    / "worldskills-cis-marking-scheme-web-technologies.xlsx"
)
SCHEME_MODELS = (WSOSSection, Criterion, SubCriterion, Aspect, JudgementDescriptor)

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="shared CIS example missing")


def scheme_rows() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in SCHEME_MODELS}


def example():
    return read_cis(load_scheme_workbook(EXAMPLE))


def broken_copy(tmp_path: Path, **cells) -> Path:
    """The example with some cells changed, saved to tmp_path."""
    wb = load_workbook(EXAMPLE)
    ws = wb["CIS Marking Scheme Import"]
    for coordinate, value in cells.items():
        ws[coordinate] = value
    path = tmp_path / "broken.xlsx"
    wb.save(path)
    return path


def errors_at(path: Path) -> list[tuple[int | None, str | None, str]]:
    data = read_scheme(load_scheme_workbook(path))
    return [(p.row, p.column_letter, p.message_en) for p in data.errors]


def test_reading_the_example_gives_the_scheme_as_stated():
    data = example()
    assert data.errors == []
    assert data.summary() == {
        "criteria": 4,
        "sub_criteria": 30,
        "aspects": 220,
        "measurement": 201,
        "judgement": 19,
        "total": Decimal(100),
    }
    assert [(c.code, c.max_mark) for c in data.criteria] == [
        ("A", 30),
        ("B", 30),
        ("C", 20),
        ("D", 20),
    ]
    # Typos are imported as they are.
    assert data.criteria[2].name == "Back-end Deveopment"
    assert [s.number for s in data.wsos_sections] == ["1", "2", "3", "4", "5"]
    # In-sheet headings ("Header + Hero") are not aspects: reported, not imported.
    assert all(p.warning for p in data.problems)


@pytest.mark.django_db
def test_import_keeps_everything():
    skill = factories.skill()
    report = apply_scheme(skill, example())
    assert report.counts["aspects"].created == 220
    assert Criterion.objects.filter(skill=skill).count() == 4
    assert list(
        Criterion.objects.filter(skill=skill).order_by("order").values_list("code", "max_mark")
    ) == [("A", 30), ("B", 30), ("C", 20), ("D", 20)]
    assert SubCriterion.objects.filter(criterion__skill=skill).count() == 30
    aspects = Aspect.objects.filter(skill=skill)
    assert aspects.count() == 220
    assert aspects.filter(kind="M").count() == 201
    assert aspects.filter(kind="J").count() == 19
    assert sum(a.max_mark for a in aspects) == Decimal(100)
    for aspect in aspects.filter(kind="J"):
        assert sorted(aspect.descriptors.values_list("score", flat=True)) == [0, 1, 2, 3]
        assert all(d.text for d in aspect.descriptors.all())
    assert not JudgementDescriptor.objects.filter(aspect__kind="M").exists()

    first = Aspect.objects.get(skill=skill, code="A1.1")
    assert first.kind == "J"
    assert first.max_mark == Decimal("0.25")
    assert first.wsos_section == "4"
    assert first.descriptors.get(score=3).text.startswith("When scaling the browser")
    a1 = SubCriterion.objects.get(criterion__skill=skill, code="A1")
    assert (a1.name, a1.marking_day) == ("Layout", "1")
    c1 = SubCriterion.objects.get(criterion__skill=skill, code="C1")
    assert c1.marking_day == "2"
    extra = Aspect.objects.get(skill=skill, description__startswith="Images in the hero section")
    assert extra.extra_description.startswith("Deduct 0.25")
    assert WSOSSection.objects.get(skill=skill, number="5").weight == 40

    variation = {r.section: r for r in wsos_variation(scheme_of(skill))}
    assert variation["4"].weight == 25
    assert variation["4"].aspect_marks == Decimal(60)
    assert variation["4"].difference == Decimal(35)


@pytest.mark.django_db
def test_export_and_reimport_give_the_same_scheme(tmp_path):
    original = example()
    skill = factories.skill()
    apply_scheme(skill, original)
    assert scheme_of(skill) == original

    for fmt in ("cis", "aspects", "both"):
        path = tmp_path / f"{fmt}.xlsx"
        export_workbook(skill, fmt).save(path)
        again = read_scheme(load_scheme_workbook(path), skill.code)
        assert again.errors == [], fmt
        assert again == original, fmt

    # Importing the export into another skill gives the same stored scheme,
    # and importing it again over itself changes nothing.
    other = factories.skill()
    data = read_cis(load_scheme_workbook(tmp_path / "cis.xlsx"))
    apply_scheme(other, data)
    assert scheme_of(other) == scheme_of(skill)
    report = apply_scheme(skill, data)
    assert not report.changed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # A1.1 (row 23) loses its score-3 descriptor row.
        ({"F27": None, "G27": None}, (23, "F", "no descriptor for score 3")),
        # An aspect of criterion A changes: A no longer adds up to its 30 (row 15).
        ({"K41": 0.75}, (15, "K", "criterion A add up to 30.25")),
        ({"K41": "abc"}, (41, "K", "“abc” is not a number")),
        ({"K42": 0}, (42, "K", "must be more than 0")),
        ({"K43": -0.25}, (43, "K", "must be more than 0")),
        ({"D44": "X"}, (44, "D", "Unknown aspect type “X”")),
        ({"F25": 2}, (26, "F", "Score 2 is described twice")),
        ({"A52": "A1"}, (52, "A", "Sub-criterion A1 is listed twice (first in row 22)")),
    ],
)
def test_broken_copies_are_refused_with_row_numbers(tmp_path, cells, expected):
    skill = factories.skill()
    before = scheme_rows()
    path = broken_copy(tmp_path, **cells)
    row, letter, text = expected
    found = errors_at(path)
    assert any(r == row and c == letter and text in m for r, c, m in found), found

    with pytest.raises(SchemeImportError):
        apply_scheme(skill, read_scheme(load_scheme_workbook(path)))
    with pytest.raises(CommandError):
        call_command("import_marking_scheme", str(path), event=skill.event.code, skill=skill.code)
    assert scheme_rows() == before


@pytest.mark.django_db
def test_criteria_must_add_up_to_100(tmp_path):
    # Criterion A says 31 and its aspects do add up to 31: only the total is wrong,
    # reported at the Criteria table's "Mark" header (row 14, column K).
    path = broken_copy(tmp_path, K15=31, K41=1.5)
    found = errors_at(path)
    assert found == [(14, "K", "The criteria add up to 101, not 100.")]


@pytest.mark.django_db
def test_a_stated_total_replaces_100_with_a_warning(tmp_path):
    # Criterion D (20 marks) emptied of its mark and aspects: the scheme states 80.
    cells = {"K18": 0, "N443": 80}
    for row in range(355, 422):
        cells[f"A{row}"] = None
        cells[f"D{row}"] = None
        cells[f"K{row}"] = None
    data = read_scheme(load_scheme_workbook(broken_copy(tmp_path, **cells)))
    assert data.errors == []
    assert data.stated_total == 80
    assert data.total == 80
    assert any("states a total of 80, not 100" in p.message_en for p in data.warnings)


@pytest.mark.django_db
def test_aspect_before_any_sub_criterion(tmp_path):
    path = broken_copy(tmp_path, A22=None, B22=None, C22=None)
    found = errors_at(path)
    assert any(r == 23 and "before any sub-criterion" in m for r, _c, m in found), found


@pytest.mark.django_db
def test_import_command_prints_counts_and_variation(capsys):
    skill = factories.skill()
    call_command(
        "import_marking_scheme",
        str(EXAMPLE),
        event=skill.event.code,
        skill=skill.code,
        dry_run=True,
    )
    out = capsys.readouterr().out
    assert "criteria / 模块: 4" in out
    assert "aspects / 评分点: 220 (M 201, J 19)" in out
    assert "total / 总分: 100" in out
    assert "WSOS variation" in out
    assert Aspect.objects.filter(skill=skill).count() == 0  # dry run

    call_command("import_marking_scheme", str(EXAMPLE), event=skill.event.code, skill=skill.code)
    assert Aspect.objects.filter(skill=skill).count() == 220


@pytest.mark.django_db
def test_export_command_writes_both_sheets(tmp_path):
    skill = factories.skill()
    apply_scheme(skill, example())
    out = tmp_path / "out.xlsx"
    call_command("export_marking_scheme", event=skill.event.code, skill=skill.code, output=str(out))
    wb = load_workbook(out)
    assert {"aspects", "wsos_sections", "CIS Marking Scheme Import"} <= set(wb.sheetnames)
    assert read_scheme(wb, skill.code) == scheme_of(skill)
