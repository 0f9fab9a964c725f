"""Every page of publication, selection rounds and appeals against every
role, before and after the skill's results are published, with the exact
answer each must get.

LOGIN: 302 to the login page. 403: a role with no business there. 404: a
lead reaching another delegation's entry or appeal (its existence is not
confirmed). 400: a refused submission re-rendered with the reason (a lead
appealing before publication). 302 (POST): done, redirected.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal, AppealAttachment, AppealEvent
from competitions.models import Advancement
from results import publishing
from tests.matrix import cases

from . import files
from .builders import World, world

ROLES = ["anonymous", "judge", "chief", "lead_a", "lead_b", "organiser"]
LOGIN = "login"

ORGANISERS_ONLY = (LOGIN, 403, 403, 403, 403, 200)

# (page, method) -> {state: answers in ROLES order}; one tuple when both states agree.
MATRIX: dict[tuple[str, str], dict[str, tuple] | tuple] = {
    # name                              anon  judge chief lead_a lead_b org
    ("publication_index", "get"): ORGANISERS_ONLY,
    ("publication_event", "get"): ORGANISERS_ONLY,
    ("publication_unpublish", "get"): ORGANISERS_ONLY,
    ("advancement_skill", "get"): ORGANISERS_ONLY,
    ("advancement_detail", "get"): ORGANISERS_ONLY,
    ("appeal_list", "get"): (LOGIN, 403, 200, 200, 200, 200),
    ("appeal_file", "get"): (LOGIN, 403, 403, 200, 404, 403),
    ("appeal_file", "post"): {
        "before": (LOGIN, 403, 403, 400, 404, 403),
        "after": (LOGIN, 403, 403, 302, 404, 403),
    },
    ("appeal_detail", "get"): (LOGIN, 403, 200, 200, 404, 200),
    ("appeal_answer", "post"): (LOGIN, 403, 302, 403, 404, 302),
    ("appeal_attachment", "get"): (LOGIN, 403, 200, 200, 404, 200),
}

CASES = cases(MATRIX, ROLES)


@dataclass
class Site:
    w: World
    appeal: Appeal
    attachment: AppealAttachment
    advancement: Advancement


@pytest.fixture
def site(db) -> Site:
    """A signed-off skill; an appeal of delegation A with an attachment
    (filed under an earlier publication, kept when results were withdrawn);
    an advancement record."""
    w = world()
    now = timezone.now()
    appeal = Appeal.objects.create(
        entry=w.entry_a,
        skill=w.skill,
        delegation=w.del_a,
        text="earlier appeal",
        filed_by=w.lead_a,
        filed_at=now,
        deadline=now,
    )
    AppealEvent.objects.create(appeal=appeal, action="filed", actor=w.lead_a, text="x")
    attachment = AppealAttachment(
        appeal=appeal, original_name="a.pdf", content_type="application/pdf", size=len(files.PDF)
    )
    attachment.file.save("a.pdf", ContentFile(files.PDF), save=False)
    attachment.save()
    done = Advancement.objects.create(
        source_skill=w.skill, target_skill=w.other_skill, rule="top_n", top_n=1, by=w.organiser
    )
    return Site(w, appeal, attachment, done)


def request_for(site: Site, page: str) -> tuple[str, dict]:
    w = site.w
    return {
        "publication_index": (reverse("results:publication_index"), {}),
        "publication_event": (reverse("results:publication_event", args=[w.event.code]), {}),
        "publication_unpublish": (
            reverse("results:publication_unpublish", args=[w.skill.pk]),
            {},
        ),
        "advancement_skill": (reverse("results:advancement_skill", args=[w.skill.pk]), {}),
        "advancement_detail": (
            reverse("results:advancement_detail", args=[site.advancement.pk]),
            {},
        ),
        "appeal_list": (reverse("appeals:list"), {}),
        "appeal_file": (
            reverse("appeals:file", args=[w.entry_a.pk]),
            {"text": "第2题评分有误"},
        ),
        "appeal_detail": (reverse("appeals:detail", args=[site.appeal.pk]), {}),
        "appeal_answer": (
            reverse("appeals:detail", args=[site.appeal.pk]),
            {"action": "answer", "text": "已复核"},
        ),
        "appeal_attachment": (reverse("appeals:attachment", args=[site.attachment.pk]), {}),
    }[page]


def user_for(site: Site, role: str) -> User | None:
    return None if role == "anonymous" else getattr(site.w, role)


@pytest.mark.parametrize("page, method, state, role, answer", CASES)
def test_matrix(client, site, page, method, state, role, answer):
    if state == "after":
        publishing.publish(site.w.skill, site.w.organiser)
    user = user_for(site, role)
    if user is not None:
        client.force_login(user)
    url, data = request_for(site, page)
    response = client.post(url, data) if method == "post" else client.get(url)

    if answer == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == answer, response.content[:500]
        if answer == 302:
            assert not response["Location"].startswith(reverse("login"))


def test_the_matrix_covers_every_view_of_this_work():
    """A page added to publication, advancement or appeals must be added here."""
    from appeals import urls as appeal_urls
    from results import advancement_views, publication_views

    names = {p.name for p in publication_views.urlpatterns}
    names |= {p.name for p in advancement_views.urlpatterns}
    names |= {f"appeal_{p.name}" for p in appeal_urls.urlpatterns}
    covered = {page for page, _method in MATRIX}
    assert names - covered == set()
