"""The organisers' publication pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competitions import publication
from competitions.models import PublicationLog
from tests.appeals.builders import published_world, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page(w):
    return reverse("results:publication_event", args=[w.event.code])


def unpublish_url(w):
    return reverse("results:publication_unpublish", args=[w.skill.pk])


def test_index_lists_events(client):
    w = world()
    client.force_login(w.organiser)
    response = client.get(reverse("results:publication_index"))
    assert response.status_code == 200
    assert page(w) in response.content.decode()


def test_event_page_shows_states_and_buttons(client):
    w = world()
    client.force_login(w.organiser)
    html = client.get(page(w)).content.decode()
    assert w.skill.code in html and w.other_skill.code in html
    assert f'name="skill" value="{w.skill.pk}"' in html  # publish button for the signed-off one
    assert f'name="skill" value="{w.other_skill.pk}"' not in html
    assert reverse("results:advancement_skill", args=[w.skill.pk]) in html


def test_publishing_asks_for_confirmation_first(client):
    w = world()
    client.force_login(w.organiser)
    asked = client.post(page(w), {"skill": w.skill.pk})
    assert asked.status_code == 200
    assert not publication.is_published(w.skill)  # nothing published yet
    html = asked.content.decode()
    assert "确认公布成绩" in html and 'name="confirm" value="1"' in html
    assert f'name="skill" value="{w.skill.pk}"' in html
    assert "公众" in html  # says who will see them
    assert client.post(page(w), {"skill": w.skill.pk, "confirm": "yes"}).status_code == 200
    assert not publication.is_published(w.skill)  # only the confirmation form's value counts


def test_unpublish_is_a_clear_button_to_its_form(client):
    w = published_world()
    client.force_login(w.organiser)
    html = client.get(page(w)).content.decode()
    assert f'<a class="button danger" href="{unpublish_url(w)}">撤回公布</a>' in html


def test_publish_from_the_page(client):
    w = world()
    client.force_login(w.organiser)
    response = client.post(page(w), {"skill": w.skill.pk, "confirm": "1"}, follow=True)
    assert response.redirect_chain[-1] == (page(w), 302)
    assert publication.is_published(w.skill)
    html = response.content.decode()
    assert unpublish_url(w) in html  # now the unpublish form
    assert 'id="log"' in html and w.organiser.username in html


def test_publishing_an_open_skill_shows_the_refusal(client):
    w = world()
    client.force_login(w.organiser)
    response = client.post(page(w), {"skill": w.other_skill.pk, "confirm": "1"}, follow=True)
    assert not publication.is_published(w.other_skill)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_skill_of_another_event_is_404(client):
    w = world()
    stranger = world()
    client.force_login(w.organiser)
    assert client.post(page(w), {"skill": stranger.skill.pk, "confirm": "1"}).status_code == 404
    assert not publication.is_published(stranger.skill)


def test_unpublish_asks_for_a_reason(client):
    w = published_world()
    client.force_login(w.organiser)
    form = client.get(unpublish_url(w))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    refused = client.post(unpublish_url(w), {"reason": "  "})
    assert refused.status_code == 400
    assert publication.is_published(w.skill)
    done = client.post(unpublish_url(w), {"reason": "核对成绩"})
    assert done.status_code == 302 and done["Location"] == page(w)
    assert not publication.is_published(w.skill)
    assert PublicationLog.objects.filter(reason="核对成绩", actor=w.organiser).exists()
    # Shown in the page's log.
    assert "核对成绩" in client.get(page(w)).content.decode()


def test_unpublish_of_a_skill_not_published_says_so(client):
    w = world()
    client.force_login(w.organiser)
    assert client.post(unpublish_url(w), {"reason": "x"}).status_code == 400


@pytest.mark.parametrize("who", ["chief", "judge", "lead_a", "no_role"])
def test_non_organisers_are_forbidden(client, who):
    w = published_world()
    client.force_login(getattr(w, who))
    assert client.get(page(w)).status_code == 403
    assert client.post(page(w), {"skill": w.skill.pk, "confirm": "1"}).status_code == 403
    assert client.post(unpublish_url(w), {"reason": "x"}).status_code == 403
    assert publication.is_published(w.skill)


def test_anonymous_goes_to_login(client):
    w = world()
    response = client.get(page(w))
    assert response.status_code == 302 and "login" in response["Location"]
