"""A corrected name revokes the athlete's certificates and reissues them under
new serials with the new name; /verify/ of the old serial says revoked.
The correction goes through the admin, as an organiser makes it."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from awards.models import Certificate
from competitions.models import Event
from tests import factories as f

from .conftest import publish_all
from .test_certificates import award_world, run_batch


@pytest.fixture
def certified(world, django_capture_on_commit_callbacks):
    _skill, entries = award_world(world, names=["欧阳淑珺", "李四", "王五", "赵六"])
    run_batch(world["event"], django_capture_on_commit_callbacks)
    organiser = f.organiser(username="zuweihui")
    publish_all(world["event"], organiser)
    # The event is under way: registration has closed.
    Event.objects.filter(pk=world["event"].pk).update(status=Event.Status.COMPETITION)
    athlete = entries[0].members.get().athlete
    return {
        **world,
        "organiser": organiser,
        "athlete": athlete,
        "old": Certificate.objects.get(athlete=athlete, revoked=False),
    }


def admin_post(client, athlete, **changes):
    url = reverse("admin:teams_athlete_change", args=[athlete.pk])
    data = {
        "delegation": athlete.delegation_id,
        "name": athlete.name,
        "gender": athlete.gender,
        "birth_date": "",
        "id_number": athlete.id_number or "",
        "employer": athlete.employer,
        "phone": athlete.phone,
        "change_reason": "",
    }
    data.update(changes)
    return client.post(url, data)


def test_admin_refuses_a_name_change_without_reason(client, certified):
    client.force_login(certified["organiser"])
    response = admin_post(client, certified["athlete"], name="欧阳淑君")
    assert response.status_code == 200
    assert "请填写修改原因" in response.content.decode()
    certified["athlete"].refresh_from_db()
    assert certified["athlete"].name == "欧阳淑珺"
    certified["old"].refresh_from_db()
    assert not certified["old"].revoked


def test_admin_name_change_with_reason_revokes_and_reissues(
    client, certified, django_capture_on_commit_callbacks
):
    athlete, old = certified["athlete"], certified["old"]
    client.force_login(certified["organiser"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_post(client, athlete, name="欧阳淑君", change_reason="户口本姓名为淑君")
    assert response.status_code == 302

    athlete.refresh_from_db()
    assert athlete.name == "欧阳淑君"
    record = athlete.history.latest()
    assert record.history_change_reason == "户口本姓名为淑君"
    assert record.history_user == certified["organiser"]

    old.refresh_from_db()
    assert old.revoked and "欧阳淑珺" in old.revoked_reason
    new = Certificate.objects.get(athlete=athlete, revoked=False)
    assert new.serial != old.serial
    assert (new.entry_id, new.category, new.award_text) == (
        old.entry_id,
        old.category,
        old.award_text,
    )
    # The reissued certificate is drawn (by the batch the change queued).
    assert new.file and default_storage.exists(new.file.name)
    # The other athletes' certificates are untouched.
    assert Certificate.objects.filter(revoked=True).count() == 1

    client.logout()
    gone = client.get(f"/verify/{old.serial}/")
    assert gone.status_code == 410
    assert "欧阳淑" not in gone.content.decode()
    live = client.get(f"/verify/{new.serial}/")
    assert live.status_code == 200
    assert "欧阳淑君" in live.content.decode()

    # The admin's change page shows the change and its reason.
    client.force_login(certified["organiser"])
    page = client.get(reverse("admin:teams_athlete_change", args=[athlete.pk]))
    html = page.content.decode()
    assert "户口本姓名为淑君" in html and "欧阳淑珺 → 欧阳淑君" in html


def test_changing_only_the_phone_keeps_the_certificates(
    client, certified, django_capture_on_commit_callbacks
):
    client.force_login(certified["organiser"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_post(client, certified["athlete"], phone="13900000000")
    assert response.status_code == 302
    certified["old"].refresh_from_db()
    assert not certified["old"].revoked


def test_any_path_that_renames_revokes_too(certified, django_capture_on_commit_callbacks):
    """The event workbook and a shell save athletes directly: a changed name
    is announced by the model itself, so the certificate still follows."""
    athlete, old = certified["athlete"], certified["old"]
    athlete.name = "欧阳书君"
    with django_capture_on_commit_callbacks(execute=True):
        athlete.save()
    old.refresh_from_db()
    assert old.revoked
    new = Certificate.objects.get(athlete=athlete, revoked=False)
    assert new.serial != old.serial
