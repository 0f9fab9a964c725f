"""Every role against every page of the portal's core and the teams app,
with the exact answer each must get (docs/roles.md).

200 the page; 302 to the login page (anonymous) or to the admin's login
(signed in without the organiser role); 403 a role without access; 404 an
object of another delegation, so its existence is not even confirmed.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import get_resolver, reverse
from django.utils import timezone

from competitions.models import Event
from teams.models import Athlete
from tests import factories as f

ROLES = ["anonymous", "organiser", "chief", "judge", "lead_a", "lead_b", "no_role"]

LOGIN = "login"  # LOGIN_URL: 302 there, ?next= the page
ADMIN_LOGIN = "admin_login"  # the admin sends signed-in non-organisers to its own login

# page -> expected answer per role, in ROLES order.
MATRIX: dict[str, tuple] = {
    # name:             anon   org  chief judge lead_a lead_b none
    "home": (200, 200, 200, 200, 200, 200, 200),
    "healthz": (200, 200, 200, 200, 200, 200, 200),
    "login": (200, 200, 200, 200, 200, 200, 200),
    "verify_lookup": (400, 400, 400, 400, 400, 400, 400),  # public; no serial typed
    "delegation": (LOGIN, 403, 403, 403, 200, 200, 403),
    "athlete_add": (LOGIN, 403, 403, 403, 200, 200, 403),
    "athlete_edit": (LOGIN, 403, 403, 403, 200, 404, 403),
    "register_entry": (LOGIN, 403, 403, 403, 200, 200, 403),
    "withdraw_entry": (LOGIN, 403, 403, 403, 200, 404, 403),
    "judge_skill": (LOGIN, 403, 200, 200, 403, 403, 403),
    "judge_other_skill": (LOGIN, 403, 403, 403, 403, 403, 403),
    "admin_index": (
        ADMIN_LOGIN,
        200,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
    ),
    "admin_athletes": (
        ADMIN_LOGIN,
        200,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
    ),
}

CASES = [(page, role, MATRIX[page][i]) for page in MATRIX for i, role in enumerate(ROLES)]


@pytest.fixture
def site(db, settings):
    """Delegations A and B with a lead each; A has an athlete and an entry in
    skill S; a chief judge and a judge (home delegation B) on S; another
    skill nobody judges; an organiser and a user with no role."""
    # Users are made per test; a fast hasher keeps that cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = f.event(
        status=Event.Status.REGISTRATION,
        registration_deadline=timezone.now() + dt.timedelta(days=3),
    )
    skill = f.skill(event=event)
    other_skill = f.skill(event=event)
    del_a, del_b = f.delegation(), f.delegation()
    f.quota(skill, del_a, 2)
    f.quota(skill, del_b, 2)
    athlete = f.athlete(delegation=del_a)
    entry = f.entry(skill, athletes=[athlete])
    users = {
        "anonymous": None,
        "organiser": f.organiser(),
        "chief": f.judge(skill, role="chief").user,
        "judge": f.judge(skill, delegation=del_b).user,
        "lead_a": f.lead(del_a),
        "lead_b": f.lead(del_b),
        "no_role": f.user(),
    }
    urls = {
        "home": reverse("home"),
        "healthz": reverse("healthz"),
        "login": reverse("login"),
        "verify_lookup": reverse("verify_lookup"),
        "delegation": reverse("teams:delegation"),
        "athlete_add": reverse("teams:athlete_add"),
        "athlete_edit": reverse("teams:athlete_edit", args=[athlete.pk]),
        "register_entry": reverse("teams:register_entry", args=[skill.pk]),
        "withdraw_entry": reverse("teams:withdraw_entry", args=[entry.pk]),
        "judge_skill": reverse("teams:judge_skill", args=[skill.pk]),
        "judge_other_skill": reverse("teams:judge_skill", args=[other_skill.pk]),
        "admin_index": reverse("admin:index"),
        "admin_athletes": "/admin/teams/athlete/",
    }
    return users, urls


@pytest.mark.parametrize(("page", "role", "expected"), CASES, ids=[f"{p}-{r}" for p, r, _ in CASES])
def test_access(client, site, page, role, expected):
    users, urls = site
    if page == "admin_athletes" and Athlete not in admin.site._registry:
        pytest.skip("teams.Athlete is not registered in the admin yet")
    if users[role] is not None:
        client.force_login(users[role])
    url = urls[page]
    response = client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={quote(url)}"
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('admin:login')}?next={quote(url)}"
    else:
        assert response.status_code == expected, response.content.decode()[:500]
        if expected == 403:
            assert "无权访问" in response.content.decode()
        if expected == 404:
            assert "页面不存在" in response.content.decode()


def test_matrix_has_one_answer_per_role():
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


def test_every_core_and_teams_url_is_in_the_matrix():
    """A new page in the portal's core or the teams app must join the matrix."""
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        namespace = getattr(pattern, "namespace", None)
        if namespace == "teams":
            names |= {f"teams:{p.name}" for p in pattern.url_patterns}
        elif getattr(pattern, "name", None):
            names.add(pattern.name)
    # Matrix rows by URL name; logout is POST-only and tested below.
    covered = {"home", "healthz", "login", "logout", "verify_lookup"} | {
        "teams:delegation",
        "teams:athlete_add",
        "teams:athlete_edit",
        "teams:register_entry",
        "teams:withdraw_entry",
        "teams:judge_skill",
    }
    assert names <= covered, sorted(names - covered)


# ---- writes: the same scoping holds for POST


@pytest.mark.parametrize("page", ["athlete_edit", "withdraw_entry"])
def test_lead_of_another_delegation_cannot_post(client, site, page):
    users, urls = site
    client.force_login(users["lead_b"])
    response = client.post(urls[page], {"name": "改名", "athletes": []})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["organiser", "chief", "judge", "no_role"])
def test_non_leads_cannot_post_lead_forms(client, site, role):
    users, urls = site
    client.force_login(users[role])
    for page in ("athlete_add", "athlete_edit", "register_entry", "withdraw_entry"):
        assert client.post(urls[page], {"name": "x"}).status_code == 403, page


def test_anonymous_post_goes_to_login_and_changes_nothing(client, site):
    _, urls = site
    response = client.post(urls["athlete_add"], {"name": "匿名"})
    assert response.status_code == 302
    assert not Athlete.objects.filter(name="匿名").exists()


def test_logout_is_post_only(client, site):
    users, _ = site
    client.force_login(users["lead_a"])
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


# ---- login throttling (django-axes)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_ENABLED = True
    user = f.user(username="judge_wang", password="Right-Password-1")
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": "judge_wang", "password": "wrong"})
    right = client.post(url, {"username": "judge_wang", "password": "Right-Password-1"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "registration/locked_out.html" in [t.name for t in right.templates]
    assert user.is_active


def test_a_wrong_password_or_two_do_not_lock(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    f.user(username="lead_li", password="Right-Password-1")
    url = reverse("login")
    for _ in range(2):
        assert client.post(url, {"username": "lead_li", "password": "wrong"}).status_code == 200
    response = client.post(url, {"username": "lead_li", "password": "Right-Password-1"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
