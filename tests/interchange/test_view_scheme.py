"""The marking-scheme page: access, upload, downloads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from interchange.cis.cis_sheet import read_cis
from interchange.cis.reader import read_scheme
from interchange.cis.store import apply_scheme, scheme_of
from interchange.cis.workbook import load_scheme_workbook
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
needs_example = pytest.mark.skipif(not EXAMPLE.exists(), reason="shared CIS example missing")

pytestmark = pytest.mark.django_db


def url(skill) -> str:
    return reverse("interchange:skill_scheme", args=[skill.pk])


def upload(path_or_bytes, name: str = "scheme.xlsx") -> SimpleUploadedFile:
    content = (
        path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    )
    return SimpleUploadedFile(name, content)


def test_access(client):
    skill = factories.skill()
    response = client.get(url(skill))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

    client.force_login(factories.organiser())
    assert client.get(url(skill)).status_code == 200

    chief = factories.judge(skill, role="chief")
    client.force_login(chief.user)
    assert client.get(url(skill)).status_code == 200
    # Chief of this skill only.
    assert client.get(url(factories.skill())).status_code == 403

    client.force_login(factories.judge(skill).user)
    assert client.get(url(skill)).status_code == 403
    client.force_login(factories.lead())
    assert client.get(url(skill)).status_code == 403
    assert (
        client.get(reverse("interchange:skill_scheme_download", args=[skill.pk, "cis"])).status_code
        == 403
    )


@needs_example
def test_upload_the_cis_example_as_chief_judge(client):
    skill = factories.skill()
    client.force_login(factories.judge(skill, role="chief").user)
    response = client.post(url(skill), {"file": upload(EXAMPLE)}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert Aspect.objects.filter(skill=skill).count() == 220
    assert "220" in page
    assert "Back-end Deveopment" in page  # the tree, typos included
    assert "All common elements are not responsive at all" in page  # a J descriptor
    assert "Header + Hero" in page  # the heading warning
    messages = [str(m) for m in response.context["messages"]]
    assert any("220" in m for m in messages)


@needs_example
def test_upload_a_broken_copy_shows_rows_and_writes_nothing(client, tmp_path):
    skill = factories.skill()
    wb = load_workbook(EXAMPLE)
    wb["CIS Marking Scheme Import"]["K41"] = "abc"
    path = tmp_path / "broken.xlsx"
    wb.save(path)
    client.force_login(factories.organiser())
    with_lang = client.post(url(skill), {"file": upload(path)}, HTTP_ACCEPT_LANGUAGE="en")
    assert with_lang.status_code == 200
    errors = with_lang.context["errors"]
    assert any(p.row == 41 and p.column_letter == "K" for p in errors)
    page = with_lang.content.decode()
    assert "import-errors" in page
    assert "“abc” is not a number" in page
    assert all(m.objects.count() == 0 for m in SCHEME_MODELS)


def test_upload_refuses_a_non_workbook(client):
    skill = factories.skill()
    client.force_login(factories.organiser())
    response = client.post(url(skill), {"file": upload(b"not a zip", "x.xlsx")})
    assert response.status_code == 200
    assert response.context["errors"][0].message_en == "The file is not a readable .xlsx workbook."
    response = client.post(url(skill), {"file": upload(b"a,b", "x.csv")})
    assert response.context["form"].errors["file"]


@needs_example
def test_downloads_import_back_to_the_same_scheme(client):
    skill = factories.skill()
    apply_scheme(skill, read_cis(load_scheme_workbook(EXAMPLE)))
    client.force_login(factories.organiser())
    page = client.get(url(skill)).content.decode()
    for fmt in ("aspects", "cis", "both"):
        link = reverse("interchange:skill_scheme_download", args=[skill.pk, fmt])
        assert link in page
        response = client.get(link)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        data = read_scheme(load_scheme_workbook(io.BytesIO(response.content)), skill.code)
        assert data == scheme_of(skill), fmt
    bad = reverse("interchange:skill_scheme_download", args=[skill.pk, "pdf"])
    assert client.get(bad).status_code == 404
