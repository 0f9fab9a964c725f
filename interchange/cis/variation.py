"""How the marks of a scheme's aspects compare with its WSOS weights (CIS's
"variation").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from portal.ordering import natural_key

from .data import SchemeData


@dataclass
class VariationRow:
    """One WSOS section: the weight the standards give it against the marks
    the aspects carry (CIS's "variation")."""

    section: str
    title: str
    weight: Decimal | None  # None: aspects name a section the WSOS table lacks
    aspect_marks: Decimal

    @property
    def difference(self) -> Decimal:
        return self.aspect_marks - (self.weight or Decimal(0))


def wsos_variation(data: SchemeData) -> list[VariationRow]:
    """Per WSOS section, stated weight vs aspect marks; sections the aspects
    name but the table lacks come after, and aspects without a section last."""
    carried: dict[str, Decimal] = defaultdict(Decimal)
    for aspect in data.aspects():
        if aspect.max_mark is not None:
            carried[aspect.wsos_section] += aspect.max_mark
    rows = [
        VariationRow(s.number, s.title, s.weight, carried.pop(s.number, Decimal(0)))
        for s in data.wsos_sections
    ]
    for number in sorted((k for k in carried if k), key=natural_key):
        rows.append(VariationRow(number, "", None, carried[number]))
    if "" in carried:
        rows.append(VariationRow("", "", None, carried[""]))
    return rows


def fmt_mark(value: Decimal | None) -> str:
    """A mark for people: two places, as the models keep it ("—" when unknown)."""
    return "—" if value is None else f"{value.quantize(Decimal('0.01')):f}"


def total_variation(rows: list[VariationRow]) -> Decimal:
    return sum((abs(r.difference) for r in rows), Decimal(0))
