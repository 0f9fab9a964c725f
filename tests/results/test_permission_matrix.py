"""Every page of the results app against every role, before and after the
skill's results are published, with the exact answer each must get — and
that nothing unpublished is in any answer (HTML or workbook).

LOGIN: 302 to the login page. 403: a role with no business there. 404: a
skill that is not public (as if it did not exist), or someone else's
generated file. 302 (POST): done, redirected to the job's page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from files import services as file_services
from results.models import ExportJob
from results.services import EXPORT_RULE, EXPORT_TTL, XLSX
from tests.matrix import cases

from .builders import U_SKILL_NAME, World, world

ROLES = ["anonymous", "judge", "chief", "lead_a", "lead_b", "organiser"]
LOGIN = "login"
PUBLIC = (200,) * 6
ORGANISERS_ONLY = (LOGIN, 403, 403, 403, 403, 200)
LEADS_ONLY = (LOGIN, 403, 403, 200, 200, 403)
OWNER_A_OR_ORGANISER = (LOGIN, 404, 404, 200, 404, 200)

MATRIX: dict[tuple[str, str], dict[str, tuple] | tuple] = {
    # name                          anon   judge chief lead_a lead_b org
    ("index", "get"): PUBLIC,
    ("event", "get"): PUBLIC,
    ("skill", "get"): {"before": (404,) * 6, "after": PUBLIC},
    ("skill_unpublished", "get"): (404,) * 6,
    ("medals", "get"): PUBLIC,
    ("scoreboard", "get"): PUBLIC,
    ("scoreboard_live", "get"): PUBLIC,
    ("lead_home", "get"): (LOGIN, 403, 403, 302, 302, 403),
    ("lead_dashboard", "get"): LEADS_ONLY,
    ("lead_workbook", "get"): LEADS_ONLY,
    ("rankings_export", "post"): (LOGIN, 403, 403, 302, 302, 302),
    ("export_job", "get"): OWNER_A_OR_ORGANISER,
    ("export_status", "get"): OWNER_A_OR_ORGANISER,
    ("export_download", "get"): OWNER_A_OR_ORGANISER,
    ("organiser_events", "get"): ORGANISERS_ONLY,
    ("organiser_event", "get"): ORGANISERS_ONLY,
    ("organiser_readiness", "get"): ORGANISERS_ONLY,
}
CASES = cases(MATRIX, ROLES)


@dataclass
class Site:
    w: World
    job: ExportJob


@pytest.fixture
def site(db, tmp_path) -> Site:
    w = world()
    generated = file_services.create(
        "results.rankings", EXPORT_RULE, owner=w.lead_a, ttl=EXPORT_TTL, content_type=XLSX
    )
    file_services.store(
        generated.pk, io.BytesIO(_empty_workbook()), filename="matrix.xlsx", ttl=EXPORT_TTL
    )
    job = ExportJob.objects.create(
        kind=ExportJob.Kind.RANKINGS,
        event=w.event,
        delegation=w.del_a,
        requested_by=w.lead_a,
        generated=generated,
    )
    return Site(w, job)


def _empty_workbook() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def request_for(site: Site, page: str) -> str:
    w, code = site.w, site.w.event.code
    return {
        "index": reverse("results:index"),
        "event": reverse("results:event", args=[code]),
        "skill": reverse("results:skill", args=[code, w.skill.code]),
        "skill_unpublished": reverse("results:skill", args=[code, w.hidden.code]),
        "medals": reverse("results:medals", args=[code]),
        "scoreboard": reverse("results:scoreboard", args=[code]),
        "scoreboard_live": reverse("results:scoreboard_live", args=[code]),
        "lead_home": reverse("results:lead_home"),
        "lead_dashboard": reverse("results:lead_dashboard", args=[code]),
        "lead_workbook": reverse("results:lead_workbook", args=[code]),
        "rankings_export": reverse("results:rankings_export", args=[code]),
        "export_job": reverse("results:export_job", args=[site.job.pk]),
        # The workbook's progress and download are the files app's (one view
        # for every generated file), asking the job's rule.
        "export_status": reverse("files:status", args=[site.job.generated_id]),
        "export_download": reverse("files:download", args=[site.job.generated_id]),
        "organiser_events": reverse("results:organiser_events"),
        "organiser_event": reverse("results:organiser_event", args=[code]),
        "organiser_readiness": reverse("results:organiser_readiness", args=[code]),
    }[page]


def body_text(response) -> str:
    if response.get("Content-Type", "").startswith("application/vnd.openxml"):
        content = b"".join(response.streaming_content) if response.streaming else response.content
        wb = load_workbook(io.BytesIO(content))
        return "\n".join(
            str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
        )
    if response.streaming:
        return ""
    return response.content.decode()


@pytest.mark.parametrize("page, method, state, role, answer", CASES)
def test_matrix(
    client, site, page, method, state, role, answer, django_capture_on_commit_callbacks
):
    w = site.w
    if state == "after":
        w.publish()
    user = None if role == "anonymous" else getattr(w, role)
    if user is not None:
        client.force_login(user)
    url = request_for(site, page)
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, method)(url)
    if answer == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
        return
    assert response.status_code == answer
    text = body_text(response)
    # Unpublished data is never in an answer, whoever asks (the organiser's
    # dashboard names the skill, nothing more: no score is on it).
    for secret in ["97.31", "55.17", "隐藏东方", "隐秘代表团", "HIDC"]:
        assert secret not in text, (page, role, secret)
    if role != "organiser" and not (role == "lead_a" and page.startswith("lead_")):
        assert U_SKILL_NAME not in text and "隐藏慕容" not in text
    if state == "before" and role != "organiser":
        for unpublished in ["91.25", "88.50", "80.75"]:
            assert unpublished not in text, (page, role, unpublished)
    if state == "before" and not page.startswith(("lead_", "organiser_")):
        assert "司马青云" not in text  # P's athletes: not public before publication
