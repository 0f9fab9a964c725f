"""The sheet resources as the admin uses them (django-import-export's own import/export)."""

from __future__ import annotations

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from competitions.models import Skill
from competitions.resources import SkillAdminResource
from teams.models import Delegation, Entry, JudgeAssignment
from teams.resources import (
    DelegationResource,
    EntryRowAdminResource,
    JudgeAssignmentAdminResource,
)
from tests import factories


@pytest.mark.django_db
def test_delegation_resource_imports_natively_and_skips_unchanged_rows():
    data = tablib.Dataset(["D01", " 南京市 "], ["D02", "苏州市"], headers=["code", "name"])
    result = DelegationResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 2
    assert Delegation.objects.get(code="D01").name == "南京市"

    again = DelegationResource().import_data(data, dry_run=False)
    assert again.totals["skip"] == 2


@pytest.mark.django_db
def test_delegation_resource_reports_a_too_long_code():
    data = tablib.Dataset(["D" * 21, "太长"], headers=["code", "name"])
    result = DelegationResource().import_data(data, dry_run=False)
    assert result.has_validation_errors()
    assert not Delegation.objects.exists()


@pytest.mark.django_db
def test_skill_admin_resource_imports_by_event_and_code():
    event = factories.event(code="final")
    data = tablib.Dataset(
        ["final", "S01", "砌筑", 2, "national", "trimmed"],
        headers=["event", "code", "name", "team_size", "award_policy", "judgement_aggregation"],
    )
    result = SkillAdminResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    skill = Skill.objects.get(event=event, code="S01")
    assert (skill.team_size, skill.award_policy) == (2, "national")
    assert SkillAdminResource().import_data(data, dry_run=False).totals["skip"] == 1


@pytest.mark.django_db
def test_admin_exports_carry_the_event_and_one_row_per_member():
    skill = factories.skill(event=factories.event(code="final"), code="T01", team_size=2)
    entry = factories.entry(skill, competitor_no="5")
    factories.judge(skill, role="chief", code="J1")

    rows = EntryRowAdminResource().export(Entry.objects.all()).dict
    assert [(r["event"], r["skill_code"], r["competitor_no"]) for r in rows] == [
        ("final", "T01", "5"),
        ("final", "T01", "5"),
    ]
    assert {r["name"] for r in rows} == {a.name for a in entry.athletes.all()}

    judges = JudgeAssignmentAdminResource().export(JudgeAssignment.objects.all()).dict
    assert [(r["event"], r["code"], r["skill_code"], r["role"]) for r in judges] == [
        ("final", "J1", "T01", "chief")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:teams_delegation_import",
        "admin:teams_delegation_export",
        "admin:competitions_skill_import",
        "admin:teams_entry_export",
        "admin:teams_judgeassignment_export",
    ],
)
def test_admin_import_export_pages_open_for_organisers_only(client, url_name):
    url = reverse(url_name)
    client.force_login(factories.lead())
    assert client.get(url).status_code in (302, 403)
    client.force_login(factories.organiser())
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_admin_imports_a_delegations_csv_after_confirmation(client):
    client.force_login(factories.organiser())
    url = reverse("admin:teams_delegation_import")
    form = client.get(url).context["form"]
    csv_index = next(v for v, label in form.fields["format"].choices if label == "csv")
    upload = SimpleUploadedFile("d.csv", "code,name\nD01,南京市\n".encode())
    response = client.post(url, {"resource": 0, "format": csv_index, "import_file": upload})
    assert response.status_code == 200
    assert not Delegation.objects.exists()  # first the preview
    confirm = response.context["confirm_form"]
    response = client.post(reverse("admin:teams_delegation_process_import"), confirm.initial)
    assert response.status_code == 302
    assert Delegation.objects.get(code="D01").name == "南京市"
