"""Awards from signed-off results, medal tables, certificate issuing."""

from __future__ import annotations

import re

import pytest

from awards import awarding, issuing, medals
from awards.models import Award, AwardSettings, Certificate
from scoring.models import EntryResult, SkillMarking
from scoring.signals import results_changed
from teams.models import Entry
from tests import factories as f

from .conftest import ranked_entries, sign_off


def test_awards_refused_unless_signed_off(world):
    skill = f.skill(event=world["event"], award_policy="worldskills")
    ranked_entries(skill, [1, 2, 3], world["dels"])
    with pytest.raises(awarding.AwardsRefused, match=r"signed off|签核"):
        awarding.compute_awards(skill)
    SkillMarking.objects.create(skill=skill)  # open
    with pytest.raises(awarding.AwardsRefused):
        awarding.compute_awards(skill)
    assert not Award.objects.exists()


def test_worldskills_awards_stored_idempotently(world):
    skill = f.skill(event=world["event"], award_policy="worldskills")
    entries = ranked_entries(skill, [1, 1, 3, 4, 5], world["dels"], scale=[760, 760, 730, 705, 650])
    sign_off(skill)
    first = awarding.compute_awards(skill)
    kinds = {a.entry_id: a.kind for a in first}
    assert [kinds.get(e.pk) for e in entries] == ["gold", "gold", "bronze", "excellence", None]
    ids = sorted(Award.objects.values_list("pk", flat=True))
    awarding.compute_awards(skill)
    assert sorted(Award.objects.values_list("pk", flat=True)) == ids  # same rows, no duplicates
    # results republished: the 4th drops below the threshold and loses its award
    EntryResult.objects.filter(entry=entries[3]).update(scale_score=690)
    awarding.compute_awards(skill)
    assert not Award.objects.filter(entry=entries[3]).exists()
    assert Award.objects.count() == 3


def test_unranked_entries_get_nothing(world):
    skill = f.skill(event=world["event"], award_policy="national")
    entries = ranked_entries(skill, [1, 2], world["dels"])
    absent = f.entry(skill, delegation=world["dels"][0], status=Entry.Status.ABSENT)
    EntryResult.objects.create(entry=absent, skill=skill, rank=None, complete=False)
    sign_off(skill)
    awarding.compute_awards(skill)
    # N = 2 (absent not counted): 1 gold, 2 silver, both titles
    assert {a.entry_id for a in Award.objects.all()} == {e.pk for e in entries}


def test_programme_default_and_skill_override_settings(world):
    programme = world["programme"]
    AwardSettings.objects.create(programme=programme, first_percent=20, second_percent=40)
    s1 = f.skill(event=world["event"], award_policy="ratio")
    s2 = f.skill(event=world["event"], award_policy="ratio")
    AwardSettings.objects.create(
        programme=programme, skill=s2, first_percent=50, second_percent=50, third_percent=50
    )
    for s in (s1, s2):
        ranked_entries(s, list(range(1, 11)), world["dels"])
        sign_off(s)
        awarding.compute_awards(s)
    k1 = list(Award.objects.filter(skill=s1).values_list("kind", flat=True))
    k2 = list(Award.objects.filter(skill=s2).values_list("kind", flat=True))
    assert k1 == ["first"] * 2 + ["second"] * 2 + ["third"] * 2
    assert k2 == ["first"] * 5


def test_medal_table_counts_a_team_once_and_shares_places(world):
    event = world["event"]
    nj, sz, wx = world["dels"]
    team = f.skill(event=event, award_policy="worldskills", team_size=3)
    ranked_entries(team, [1, 2, 3], [nj, sz, wx])
    solo = f.skill(event=event, award_policy="worldskills")
    ranked_entries(solo, [1, 2, 3], [sz, nj, wx])
    for s in (team, solo):
        sign_off(s)
        awarding.compute_awards(s)
    table = medals.event_medal_table(event, include_unpublished=True)
    rows = [(m.place, m.delegation_code, m.gold, m.silver, m.bronze) for m in table.lines]
    # NJ and SZ: 1 gold 1 silver each (the 3-person team counts once) → shared 1st
    assert rows == [(1, "NJ", 1, 1, 0), (1, "SZ", 1, 1, 0), (3, "WX", 0, 0, 2)]
    assert table.published == 2  # both skills signed off
    # Counted when read: nothing is published yet, so the public table is empty.
    assert medals.event_medal_table(event).lines == []
    prog = medals.programme_medal_table(world["programme"], include_unpublished=True)
    assert prog.lines == table.lines
    assert medals.medal_table_rows(table.lines)[0] == {
        "place": 1,
        "delegation_code": "NJ",
        "gold": 1,
        "silver": 1,
        "bronze": 0,
        "excellence": 0,
        "delegation_name": "南京市代表团",
    }


def test_scorings_results_changed_queues_awards_and_medal_table(
    world, django_capture_on_commit_callbacks
):
    skill = f.skill(event=world["event"], award_policy="worldskills")
    ranked_entries(skill, [1, 2], world["dels"])
    sign_off(skill)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results_changed.send(sender=SkillMarking, skill=skill)
        assert not Award.objects.filter(skill=skill).exists()  # nothing before the commit
    assert callbacks  # queued on commit, run eagerly here
    assert Award.objects.filter(skill=skill).count() == 2
    # The medal table counts the new awards as soon as they are stored.
    table = medals.event_medal_table(world["event"], include_unpublished=True)
    assert sum(m.gold + m.silver for m in table.lines) == 2


def test_award_columns_for_results_workbook(world):
    skill = f.skill(event=world["event"], award_policy="national")
    e = ranked_entries(skill, [1, 2, 3, 4, 5, 6, 7, 8], world["dels"])
    sign_off(skill)
    awarding.compute_awards(skill)
    cols = awarding.award_columns(skill)
    assert cols[e[0].pk] == ("金牌", "技术能手")
    assert cols[e[3].pk] == ("优胜奖", "技术能手")
    assert cols[e[4].pk] == ("", "技术能手")  # r = 5: title only (2·5 > 8)
    assert e[5].pk not in cols


def test_issue_one_certificate_per_member_and_title(world):
    event = world["event"]
    team = f.skill(event=event, award_policy="national", team_size=2, name="移动机器人")
    entries = ranked_entries(team, [1, 2, 3, 4, 5, 6], world["dels"])
    sign_off(team)
    awarding.compute_awards(team)
    summary = issuing.issue_certificates(event)
    # ranks 1–3 medal + title (r ≤ 3 for pairs): 3 entries × 2 members × 2 certificates
    assert summary.issued == 12
    certs = Certificate.objects.filter(entry=entries[0])
    assert {(c.category, c.award_text) for c in certs} == {("award", "金牌"), ("title", "技术能手")}
    assert certs.count() == 4
    serials = list(Certificate.objects.values_list("serial", flat=True))
    assert len(set(serials)) == len(serials)
    # programme, year, running number, then a random Crockford check part
    assert re.fullmatch(r"JS2026-2026-000001-[0-9A-HJKMNP-TV-Z]{5}", sorted(serials)[0])
    # re-run: nothing new, nothing revoked
    again = issuing.issue_certificates(event)
    assert (again.issued, again.revoked, again.kept) == (0, 0, 12)


def test_changed_award_revokes_and_never_reuses_serials(world):
    event = world["event"]
    skill = f.skill(event=event, award_policy="worldskills")
    entries = ranked_entries(skill, [1, 2, 3], world["dels"])
    sign_off(skill)
    awarding.compute_awards(skill)
    issuing.issue_certificates(event)
    old = Certificate.objects.get(entry=entries[1])
    EntryResult.objects.filter(entry=entries[1]).update(rank=1)  # tie for gold now
    awarding.compute_awards(skill)
    summary = issuing.issue_certificates(event)
    assert (summary.issued, summary.revoked) == (1, 1)
    old.refresh_from_db()
    assert old.revoked and old.revoked_reason == "award changed"
    new = Certificate.objects.get(entry=entries[1], revoked=False)
    assert new.award_text == "金牌"
    assert new.serial.startswith("JS2026-2026-000004-")  # 1–3 stay taken


def test_serial_is_unique_in_the_database(world):
    from django.db import IntegrityError

    skill = f.skill(event=world["event"], award_policy="worldskills")
    e = ranked_entries(skill, [1, 2], world["dels"])
    sign_off(skill)
    awarding.compute_awards(skill)
    issuing.issue_certificates(world["event"])
    c = Certificate.objects.get(entry=e[0])
    c.pk = None
    c.entry = e[1]
    c.athlete = e[1].members.first().athlete
    with pytest.raises(IntegrityError):
        Certificate.objects.create(
            **{
                k: getattr(c, k)
                for k in (
                    "serial",
                    "programme_id",
                    "event_id",
                    "entry_id",
                    "athlete_id",
                    "delegation_id",
                    "category",
                    "award_kind",
                    "award_text",
                )
            }
        )


def test_results_workbook_medal_table_sheet_and_award_columns(world, tmp_path):
    from openpyxl import load_workbook

    from awards.exporters import MedalTableExporter, event_award_columns
    from portal.exporters import write_workbook

    skill = f.skill(event=world["event"], award_policy="worldskills")
    e = ranked_entries(skill, [1, 1, 3], world["dels"])
    sign_off(skill)
    awarding.compute_awards(skill)
    assert event_award_columns(world["event"])[e[2].pk] == ("铜牌", "")
    out = tmp_path / "r.xlsx"
    write_workbook([MedalTableExporter(world["event"])], out)
    ws = load_workbook(out)["medal_table"]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    # docs/formats.md keys in order, then the delegation's name.
    assert rows[0] == (
        "place", "delegation_code", "gold", "silver", "bronze", "excellence", "delegation_name"
    )  # fmt: skip
    assert rows[1:] == [
        (1, "NJ", 1, 0, 0, 0, "南京市代表团"),
        (1, "SZ", 1, 0, 0, 0, "苏州市代表团"),
        (3, "WX", 0, 0, 1, 0, "无锡市代表团"),
    ]
