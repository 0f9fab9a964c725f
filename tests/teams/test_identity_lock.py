"""Identities lock when registration closes: the lead can no longer change an
entered athlete's name or ID number; an organiser can, with a reason that the
audit trail keeps and the athlete's pages show."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from competitions.models import Event
from teams import idnumbers, services
from teams.models import Athlete
from teams.signals import athlete_identity_changed
from tests import factories as f

ID_A = idnumbers.make_id_number("320102", dt.date(2000, 1, 2), 11, "M")
ID_B = idnumbers.make_id_number("320102", dt.date(2000, 1, 2), 13, "M")


def close_registration(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(
        registration_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    event.refresh_from_db()


@pytest.fixture
def entered(world):
    athlete = services.add_athlete(world.del_a, name="黄河", id_number=ID_A)
    services.register_entry(world.del_a, world.skill, [athlete])
    return athlete


def edit_url(athlete: Athlete) -> str:
    return reverse("teams:athlete_edit", args=[athlete.pk])


def lead_post(client, world, athlete, **changes):
    data = {"name": athlete.name, "gender": "M", "birth_date": "2000-01-02", "employer": ""}
    data.update(changes)
    client.force_login(world.lead_a)
    return client.post(edit_url(athlete), data)


def test_before_the_deadline_the_lead_corrects_a_name_and_the_history_keeps_it(
    client, world, entered
):
    response = lead_post(client, world, entered, name="黄 河")
    assert response.status_code == 302
    entered.refresh_from_db()
    assert entered.name == "黄 河"
    record = entered.history.latest()
    assert record.history_user == world.lead_a
    assert record.prev_record.name == "黄河"


def test_after_the_deadline_the_lead_cannot_change_the_name(client, world, entered):
    close_registration(world.event)
    client.force_login(world.lead_a)
    html = client.get(edit_url(entered)).content.decode()
    assert "readonly" in html and "报名已截止" in html
    response = lead_post(client, world, entered, name="长江")
    assert response.status_code == 200
    assert "报名已截止" in response.content.decode()
    entered.refresh_from_db()
    assert entered.name == "黄河"
    assert entered.history.count() == 1  # the creation only


def test_after_the_deadline_the_lead_cannot_change_the_id_number(client, world, entered):
    close_registration(world.event)
    response = lead_post(client, world, entered, id_number=ID_B)
    assert response.status_code == 200
    assert "报名已截止" in response.content.decode()
    entered.refresh_from_db()
    assert entered.id_number == ID_A


def test_after_the_deadline_a_crafted_post_cannot_change_gender_or_birth_date(
    client, world, entered
):
    close_registration(world.event)
    response = lead_post(client, world, entered, gender="F", birth_date="1999-09-09")
    entered.refresh_from_db()
    assert (entered.gender, entered.birth_date) == ("M", dt.date(2000, 1, 2))
    assert response.status_code in (200, 302)


def test_after_the_deadline_the_lead_still_updates_employer_and_phone(client, world, entered):
    close_registration(world.event)
    response = lead_post(client, world, entered, employer="无锡机械厂", phone="13800000000")
    assert response.status_code == 302
    entered.refresh_from_db()
    assert (entered.employer, entered.phone, entered.name) == ("无锡机械厂", "13800000000", "黄河")


def test_an_athlete_entered_nowhere_stays_editable(client, world):
    athlete = services.add_athlete(world.del_a, name="未报名", id_number=ID_B)
    close_registration(world.event)
    assert lead_post(client, world, athlete, name="未报名二").status_code == 302


def test_the_service_refuses_the_lead_path_too(world, entered):
    close_registration(world.event)
    with pytest.raises(ValidationError) as caught:
        services.update_athlete(entered, name="长江", id_number=ID_A, gender="M")
    assert "name" in caught.value.error_dict
    assert caught.value.error_dict["name"][0].code == "identity_locked"


def test_a_lead_cannot_use_the_organisers_path(world, entered):
    close_registration(world.event)
    entered.name = "长江"
    with pytest.raises(PermissionDenied):
        services.save_athlete_as_organiser(entered, actor=world.lead_a, reason="改名")
    assert Athlete.objects.get(pk=entered.pk).name == "黄河"


def test_organiser_needs_a_reason_after_the_deadline(world, entered):
    close_registration(world.event)
    organiser = f.organiser()
    entered.name = "长江"
    with pytest.raises(ValidationError) as caught:
        services.save_athlete_as_organiser(entered, actor=organiser, reason="  ")
    assert caught.value.error_dict["change_reason"][0].code == "reason_required"
    assert Athlete.objects.get(pk=entered.pk).name == "黄河"


def test_organiser_change_with_reason_is_recorded_announced_and_shown(client, world, entered):
    close_registration(world.event)
    organiser = f.organiser(username="zuweihui")
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    athlete_identity_changed.connect(listener)
    try:
        entered.name = "长江"
        services.save_athlete_as_organiser(
            entered, actor=organiser, reason="身份证复印件显示姓名为长江"
        )
    finally:
        athlete_identity_changed.disconnect(listener)
    assert len(heard) == 1
    assert heard[0]["changed"] == frozenset({"name"})
    assert heard[0]["previous"] == {"name": "黄河"}
    assert heard[0]["reason"] == "身份证复印件显示姓名为长江"

    record = entered.history.latest()
    assert record.history_change_reason == "身份证复印件显示姓名为长江"
    assert record.history_user == organiser

    client.force_login(world.lead_a)
    html = client.get(edit_url(entered)).content.decode()
    assert "身份证复印件显示姓名为长江" in html
    assert "黄河 → 长江" in html
    assert "zuweihui" in html


def test_the_lead_page_masks_id_numbers_in_the_history(client, world, entered):
    close_registration(world.event)
    entered.id_number = ID_B
    services.save_athlete_as_organiser(entered, actor=f.organiser(), reason="号码录错")
    client.force_login(world.lead_a)
    html = client.get(edit_url(entered)).content.decode()
    assert "号码录错" in html
    assert idnumbers.mask(ID_B) in html
    assert ID_A not in html and ID_B not in html


def test_teams_does_not_import_the_apps_above_it():
    """teams announces identity changes; awards subscribes. teams must not
    reach up into awards (nor results, tablets, appeals)."""
    root = Path(__file__).resolve().parents[2] / "teams"
    above = {"awards", "results", "tablets", "appeals"}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in above, (path, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in above, (path, alias.name)


def test_an_athlete_written_in_bulk_still_shows_old_and_new(client, world):
    """The demo and the benchmarks bulk-create athletes (no history row): the
    first change still records what the name was."""
    (athlete,) = Athlete.objects.bulk_create(
        [Athlete(delegation=world.del_a, name="袁超旭", gender="M")]
    )
    services.register_entry(world.del_a, world.skill, [athlete])
    close_registration(world.event)
    athlete.name = "袁超煦"
    services.save_athlete_as_organiser(athlete, actor=f.organiser(), reason="报名表笔误")
    (change,) = services.athlete_identity_history(athlete)
    assert ("姓名", "袁超旭", "袁超煦") in change.changes
    assert change.reason == "报名表笔误"
