"""The organisers' advancement pages: preview, confirm, list, undo."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from competitions.models import Advancement, Event
from teams.models import Entry
from tests import factories as f

from .test_advancement import Rounds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def r():
    r = Rounds()
    # The pages use the real date: put round 2 ahead of it, the final after.
    soon = timezone.localdate() + dt.timedelta(days=10)
    later = soon + dt.timedelta(days=100)
    Event.objects.filter(pk=r.round2.pk).update(starts_on=soon, ends_on=soon)
    Event.objects.filter(pk=r.final.pk).update(starts_on=later, ends_on=later)
    return r


def url(r):
    return reverse("results:advancement_skill", args=[r.source.pk])


def test_form_then_preview(client, r):
    client.force_login(r.organiser)
    blank = client.get(url(r))
    assert blank.status_code == 200 and blank.context["preview"] is None
    assert r.round2.name in blank.content.decode()
    preview = client.get(url(r), {"rule": "top_n", "top_n": "2"})
    assert preview.status_code == 200
    html = preview.content.decode()
    for entry in r.entries[:3]:
        assert entry.competitor_no in html
    assert r.entries[3].competitor_no not in html
    assert preview.context["preview"].can_confirm
    assert 'method="post"' in html
    assert not Entry.objects.filter(skill=r.target).exists()  # a preview writes nothing


def test_confirm_then_detail_then_undo(client, r):
    client.force_login(r.organiser)
    response = client.post(url(r), {"rule": "min_score", "min_score": "85.50"})
    done = Advancement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("results:advancement_detail", args=[done.pk])
    assert Entry.objects.filter(skill=r.target).count() == 4

    detail = client.get(response["Location"])
    html = detail.content.decode()
    for row in done.entries.all():
        assert row.competitor_no in html and row.source_competitor_no in html
    assert 'id="undo"' in html
    # Listed on the skill's page.
    assert response["Location"] in client.get(url(r)).content.decode()

    undone = client.post(response["Location"])
    assert undone.status_code == 302
    assert not Entry.objects.filter(skill=r.target).exists()
    done.refresh_from_db()
    assert done.is_undone


def test_refusals_are_shown(client, r):
    client.force_login(r.organiser)
    Event.objects.filter(pk=r.round2.pk).update(status=Event.Status.COMPETITION)
    preview = client.get(url(r), {"rule": "top_n", "top_n": "2"})
    assert preview.status_code == 200 and not preview.context["preview"].can_confirm
    refused = client.post(url(r), {"rule": "top_n", "top_n": "2"})
    assert refused.status_code == 400
    assert r.round2.name in refused.context["error"]
    assert not Advancement.objects.exists()


def test_invalid_rule_is_a_form_error(client, r):
    client.force_login(r.organiser)
    response = client.post(url(r), {"rule": "top_n", "top_n": ""})
    assert response.status_code == 400 and "top_n" in response.context["form"].errors


def test_undo_refused_after_the_start_shows_why(client, r):
    client.force_login(r.organiser)
    client.post(url(r), {"rule": "top_n", "top_n": "1"})
    done = Advancement.objects.get()
    Event.objects.filter(pk=r.round2.pk).update(status=Event.Status.COMPETITION)
    detail_url = reverse("results:advancement_detail", args=[done.pk])
    assert r.round2.name in client.get(detail_url).content.decode()
    response = client.post(detail_url, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Entry.objects.filter(skill=r.target).count() == 1


@pytest.mark.parametrize("who", ["lead", "judge", "plain"])
def test_non_organisers_are_forbidden(client, r, who):
    user = {
        "lead": lambda: f.lead(),
        "judge": lambda: f.judge(r.source, role="chief").user,
        "plain": lambda: f.user(),
    }[who]()
    client.force_login(user)
    assert client.get(url(r)).status_code == 403
    assert client.post(url(r), {"rule": "top_n", "top_n": "2"}).status_code == 403
    assert not Advancement.objects.exists()


def test_anonymous_goes_to_login(client, r):
    response = client.get(url(r))
    assert response.status_code == 302 and "login" in response["Location"]
