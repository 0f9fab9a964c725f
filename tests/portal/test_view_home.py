"""The landing page: each role finds its way from there."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_judges_home_links_to_the_tablet_and_chiefs_to_the_board(client):
    skill = f.skill()
    chief = f.judge(skill, role="chief")
    client.force_login(chief.user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("tablets:home") in html and reverse("tablets:board_index") in html
    assert f"<h2>裁判长 · {chief.code}</h2>" in html  # the chief is called chief judge
    judge = f.judge(skill)
    client.force_login(judge.user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("tablets:home") in html and reverse("tablets:board_index") not in html
    assert f"<h2>裁判员 · {judge.code}</h2>" in html


def test_organiser_home_lists_events_with_their_dashboards(client):
    event = f.event(name="2026年全省决赛")
    client.force_login(f.organiser())
    html = client.get(reverse("home")).content.decode()
    assert "2026年全省决赛" in html
    assert reverse("results:organiser_event", args=[event.code]) in html
    assert reverse("awards:certificates", args=[event.code]) in html


def test_lead_home_links_to_the_results_dashboard(client):
    client.force_login(f.lead())
    html = client.get(reverse("home")).content.decode()
    assert reverse("results:lead_home") in html and reverse("teams:delegation") in html


def test_a_visitor_finds_results_medals_screen_verification_and_sign_in(client):
    from tests.results.builders import U_SKILL_NAME, world

    w = world()
    before = client.get(reverse("home"))
    assert before.status_code == 200  # no longer sent to a login page
    page = before.content.decode()
    assert reverse("results:event", args=[w.event.code]) not in page  # nothing published yet
    assert reverse("verify_lookup") in page and reverse("login") in page
    assert reverse("tablets:login") in page
    w.publish()
    page = client.get(reverse("home")).content.decode()
    for url in [
        reverse("results:event", args=[w.event.code]),
        reverse("results:medals", args=[w.event.code]),
        reverse("results:scoreboard", args=[w.event.code]),
    ]:
        assert url in page
        assert client.get(url).status_code == 200
    assert "证书查验" in page and "工作人员登录" in page
    assert U_SKILL_NAME not in page and "司马青云" not in page  # links, not the results themselves
    # the organisers' console is not advertised to visitors
    assert reverse("admin:index") not in page


def test_signed_in_users_keep_their_role_home_and_see_the_public_results(client):
    from tests.results.builders import world

    w = world()
    w.publish()
    client.force_login(w.lead_a)
    page = client.get(reverse("home")).content.decode()
    assert reverse("results:lead_home") in page
    assert reverse("results:medals", args=[w.event.code]) in page
    assert "工作人员登录" not in page


@pytest.mark.parametrize("typed", ["CN-2026-0007", "  CN-2026-0007 "])
def test_the_verification_form_opens_the_serials_page(client, typed):
    r = client.get(reverse("verify_lookup"), {"serial": typed})
    assert r.status_code == 302
    assert r["Location"] == reverse("awards:verify", args=["CN-2026-0007"])
    assert client.get(r["Location"]).status_code == 404  # no such certificate: said so there


@pytest.mark.parametrize("typed", ["", "a/b", "X" * 61, "x" * 5000])
def test_the_verification_form_refuses_what_no_serial_looks_like(client, typed):
    r = client.get(reverse("verify_lookup"), {"serial": typed})
    assert r.status_code == 400
    page = r.content.decode()
    assert 'aria-invalid="true"' in page and "证书编号" in page
    assert 'value="' + typed[:62] not in page or len(typed) <= 61  # the echo is bounded
