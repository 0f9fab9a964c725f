"""The titles policy end to end and the rewards register, against a
hand-worked case that includes team members and a withdrawn entry."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from awards import awarding, issuing
from awards.models import AwardSettings, Certificate
from competitions.models import AwardPolicy
from results import services as results
from scoring.models import EntryResult
from sector import rewards
from sector.models import Reward
from teams.models import Entry
from tests import factories as f
from tests.awards.conftest import sign_off


def _ranked(skill, delegation, names, rank):
    e = f.entry(
        skill,
        delegation=delegation,
        athletes=[f.athlete(delegation=delegation, name=n) for n in names],
    )
    EntryResult.objects.create(
        entry=e,
        skill=skill,
        final_score=Decimal(100 - rank),
        rank=rank,
        scale_score=700,
        complete=True,
    )
    return e


@pytest.fixture
def sector_final(db):
    programme = f.programme(code="wjw", name="省卫生健康委岗位练兵技术比武")
    event = f.event(programme=programme, code="wjw-final", kind="final")
    nj, sz = f.delegation(code="NJ"), f.delegation(code="SZ")
    ind = f.skill(event=event, code="IND", award_policy=AwardPolicy.TITLES)
    team = f.skill(event=event, code="TEAM", team_size=2, award_policy=AwardPolicy.TITLES)
    # Individual, N = 5: h(0.75) = 1 → rank 1 技术能手; h(2.0) = 2 → rank 2 优胜者.
    _ranked(ind, nj, ["张一"], 1)
    _ranked(ind, sz, ["李二"], 2)
    _ranked(ind, nj, ["王三"], 3)
    _ranked(ind, sz, ["赵四"], 4)
    _ranked(ind, nj, ['=HYPERLINK("http://x")'], 5)
    f.entry(
        ind,
        delegation=sz,
        status=Entry.Status.WITHDRAWN,
        athletes=[f.athlete(delegation=sz, name="孙六")],
    )
    # Teams of two, N = 3: h(0.45) = 0 → no 技术能手; h(1.2) = 1 → rank 1 优胜者.
    _ranked(team, sz, ["周七", "吴八"], 1)
    _ranked(team, nj, ["郑九", "冯十"], 2)
    _ranked(team, sz, ["陈甲", "褚乙"], 3)
    for s in (ind, team):
        sign_off(s)
        awarding.compute_awards(s)
    for outcome, bonus, credits in [
        ("finalist", 0, 2),
        ("technical_expert", 1000, 2),
        ("winner", 1000, 2),
        ("gold", 500, 1),
    ]:
        Reward.objects.create(
            programme=programme, outcome=outcome, bonus_yuan=bonus, credits=credits
        )
    return {"programme": programme, "event": event, "ind": ind, "team": team}


EXPECTED_ROWS = [
    # delegation, skill, name, outcome, bonus, credits
    ("NJ", "IND", "张一", "finalist", 0, 2),
    ("NJ", "IND", "张一", "technical_expert", 1000, 2),
    ("NJ", "IND", "王三", "finalist", 0, 2),
    ("NJ", "IND", '=HYPERLINK("http://x")', "finalist", 0, 2),
    ("NJ", "TEAM", "郑九", "finalist", 0, 2),
    ("NJ", "TEAM", "冯十", "finalist", 0, 2),
    ("SZ", "IND", "李二", "finalist", 0, 2),
    ("SZ", "IND", "李二", "winner", 1000, 2),
    ("SZ", "IND", "赵四", "finalist", 0, 2),
    ("SZ", "TEAM", "周七", "finalist", 0, 2),
    ("SZ", "TEAM", "周七", "winner", 1000, 2),
    ("SZ", "TEAM", "吴八", "finalist", 0, 2),
    ("SZ", "TEAM", "吴八", "winner", 1000, 2),
    ("SZ", "TEAM", "陈甲", "finalist", 0, 2),
    ("SZ", "TEAM", "褚乙", "finalist", 0, 2),
]
# NJ: 5 people, 1 × 1000 yuan, 6 × 2 credits. SZ: 6 people (孙六 withdrew), 3 × 1000, 9 × 2.
EXPECTED_TOTALS = [("NJ", 5, 1000, 12), ("SZ", 6, 3000, 18)]


def test_titles_stored_and_written_in_the_results_title_column(sector_final):
    ind, team = sector_final["ind"], sector_final["team"]
    cols = awarding.award_columns(ind)
    by_rank = {
        e.result.rank: cols.get(e.pk, ("", "")) for e in ind.entries.filter(status="registered")
    }
    assert by_rank == {
        1: ("", "技术能手"),
        2: ("", "优胜者"),
        3: ("", ""),
        4: ("", ""),
        5: ("", ""),
    }
    # The bulk form used by the results workbook says the same.
    assert results.award_columns_for([ind, team]) == {**cols, **awarding.award_columns(team)}
    team_titles = {
        e.result.rank: awarding.award_columns(team).get(e.pk, ("", ""))[1]
        for e in team.entries.all()
        for e in team.entries.all()
    }
    assert team_titles == {1: "优胜者", 2: "", 3: ""}


def test_certificates_use_the_programmes_wording(sector_final):
    AwardSettings.objects.create(
        programme=sector_final["programme"],
        title_name="岗位技术能手",
        winner_title_name="技术比武优胜者",
    )
    issuing.issue_certificates(sector_final["event"])
    printed = sorted(
        Certificate.objects.filter(category="title").values_list("athlete__name", "award_text")
    )
    assert printed == [
        ("吴八", "技术比武优胜者"),
        ("周七", "技术比武优胜者"),
        ("张一", "岗位技术能手"),
        ("李二", "技术比武优胜者"),
    ]


def test_reward_rows_and_totals_hand_worked(sector_final):
    rows = rewards.reward_rows(sector_final["event"])
    got = [
        (r.delegation_code, r.skill_code, r.name, r.outcome, r.bonus_yuan, r.credits) for r in rows
    ]
    assert sorted(got) == sorted(EXPECTED_ROWS)
    assert [
        (t.delegation_code, t.people, t.bonus_yuan, t.credits) for t in rewards.totals(rows)
    ] == EXPECTED_TOTALS


def test_export_rewards_command_writes_both_sheets(sector_final, tmp_path):
    target = tmp_path / "rewards.xlsx"
    call_command(
        "export_rewards", "--event", "wjw-final", "--output", str(target), stdout=io.StringIO()
    )
    book = load_workbook(target)
    sheet = book["rewards"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == (
        "delegation_code",
        "skill_code",
        "competitor_no",
        "name",
        "outcome",
        "bonus_yuan",
        "credits",
    )
    got = sorted((r[0], r[1], r[3], r[4], r[5], r[6]) for r in values[1:])
    assert got == sorted(EXPECTED_ROWS)
    # The competitor numbers are the entries' own.
    numbers = {
        (e.skill.code, m.athlete.name): e.competitor_no
        for e in Entry.objects.filter(skill__event=sector_final["event"])
        for m in e.members.all()
    }
    assert all(r[2] == numbers[(r[1], r[3])] for r in values[1:])
    # User text is never a formula.
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    totals = list(book["totals"].iter_rows(values_only=True))
    assert totals[0] == ("delegation_code", "people", "bonus_yuan", "credits")
    assert totals[1:] == EXPECTED_TOTALS


def test_outcome_with_zero_reward_gives_no_row(sector_final):
    Reward.objects.filter(outcome="finalist").update(credits=0)
    rows = rewards.reward_rows(sector_final["event"])
    assert {r.outcome for r in rows} == {"technical_expert", "winner"}
    assert len(rows) == 4


@pytest.mark.parametrize("raw", ["-1", "1.005", "abc", "NaN", "1e12", 2.5])
def test_bad_amounts_refused(raw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        rewards.parse_amount(raw)
