"""The medal chart: rows by place, a lane per kind in the order gold, silver,
bronze (then excellence), each lane scaled to its own kind — never one bar
sized by the total count."""

from dataclasses import dataclass
from fractions import Fraction

from awards.charts import medal_chart


@dataclass
class Row:
    place: int
    code: str
    gold: int
    silver: int
    bronze: int
    excellence: int = 0


def chart(rows, **kw):
    return medal_chart(rows, code=lambda r: r.code, name=lambda r: f"{r.code}代表团", **kw)


def test_rows_by_place_and_lanes_gold_silver_bronze_in_that_order():
    rows = [Row(3, "C", 0, 0, 9), Row(1, "A", 2, 0, 0), Row(2, "B", 1, 5, 1)]
    c = chart(rows)
    assert [r.place for r in c.rows] == [1, 2, 3]
    assert [r.name for r in c.rows] == ["A代表团", "B代表团", "C代表团"]
    assert c.kinds == ("gold", "silver", "bronze")  # no excellence anywhere: no lane
    for row in c.rows:
        assert [lane.kind for lane in row.lanes] == ["gold", "silver", "bronze"]


def test_each_lane_is_scaled_to_its_own_kind_so_the_leader_has_the_longest_gold_bar():
    # C has the most medals (9 bronze) but no gold: with one bar sized by the
    # total it would look like the leader.
    rows = [Row(1, "A", 2, 0, 0), Row(2, "B", 1, 5, 1), Row(3, "C", 0, 0, 9)]
    c = chart(rows)
    width = {(r.code, lane.kind): Fraction(lane.percent) for r in c.rows for lane in r.lanes}
    assert width[("A", "gold")] == 100 and width[("B", "gold")] == 50
    assert width[("C", "gold")] == 0
    assert width[("B", "silver")] == 100 and width[("C", "bronze")] == 100
    assert width[("B", "bronze")] == Fraction("11.1")
    counts = {(r.code, lane.kind): lane.count for r in c.rows for lane in r.lanes}
    assert counts[("C", "bronze")] == 9 and counts[("B", "silver")] == 5


def test_excellence_gets_the_last_lane_when_anyone_has_one_and_limit_keeps_the_top():
    rows = [Row(1, "A", 1, 0, 0, 0), Row(2, "B", 0, 1, 0, 4), Row(3, "C", 0, 0, 1, 2)]
    c = chart(rows, limit=2)
    assert c.kinds == ("gold", "silver", "bronze", "excellence")
    assert [r.code for r in c.rows] == ["A", "B"]
    assert c.rows[1].lanes[-1].kind == "excellence" and c.rows[1].lanes[-1].percent == "100"


def test_no_rows_no_chart():
    assert not chart([])
