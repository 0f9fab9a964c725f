"""Accounts managed by organisers in the browser: create with a role, sign in
first by a one-time link or a printed temporary password, deactivate, reset.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import SignInLink
from teams import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def organiser_client() -> tuple[Client, User]:
    org = f.organiser(username="zuweihui")
    client = Client()
    client.force_login(org)
    return client, org


def welcome_path(html: str) -> str:
    found = re.search(r'class="welcome-link" href="https?://[^/]+(/accounts/welcome/[^"]+)"', html)
    assert found, "no sign-in link on the credentials sheet"
    return found.group(1)


NEW_PASSWORD = "Kx7-qualified-bricks"


def set_password(path: str) -> Client:
    c = Client()
    page = c.get(path)
    assert page.status_code == 200
    response = c.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    return c


# ------------------------------------------------------------------ pages


def test_organiser_creates_a_lead_who_signs_in_by_the_one_time_link():
    client, _org = organiser_client()
    nanjing = f.delegation(code="NJ", name="南京市")
    page = client.get(reverse("accounts:new") + "?role=lead")
    assert page.status_code == 200
    response = client.post(
        reverse("accounts:new"),
        {
            "username": "nj-lead",
            "name": "张强",
            "email": "",
            "role": "lead",
            "delegation": nanjing.pk,
            "method": "link",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "nj-lead" in html and "南京市" in html
    user = User.objects.get(username="nj-lead")
    assert roles.lead_delegation(user) == nanjing
    assert not user.has_usable_password()

    lead = set_password(welcome_path(html))
    home = lead.get("/")
    assert home.status_code == 200
    assert reverse("teams:delegation") in home.content.decode()  # the lead's navigation
    assert lead.get(reverse("results:lead_home")).status_code in (200, 302)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # The link works once.
    again = Client().get(welcome_path(html))
    assert again.status_code == 404
    assert "已失效" in again.content.decode()


def test_chief_judge_account_for_a_skill_names_the_chief():
    client, _org = organiser_client()
    skill = f.skill(code="S02", name="移动机器人")
    judge = f.judge(skill, with_user=False, name="李明")
    response = client.post(
        reverse("accounts:new"),
        {
            "username": "chief-s02",
            "name": "李明",
            "role": "chief",
            "skill": skill.pk,
            "judge": judge.pk,
            "method": "password",
        },
    )
    assert response.status_code == 200
    password = re.search(r'class="mono password">([^<]+)<', response.content.decode()).group(1)
    user = User.objects.get(username="chief-s02")
    assert roles.is_chief_of(user, skill)
    signed_in = Client().post(reverse("login"), {"username": "chief-s02", "password": password})
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("home")


def test_a_refused_account_shows_why_and_writes_nothing():
    client, _org = organiser_client()
    skill = f.skill()
    f.judge(skill, role="chief")
    other = f.judge(with_user=False)
    f.user(username="Taken")
    response = client.post(
        reverse("accounts:new"),
        {
            "username": "new-chief",
            "name": "王",
            "role": "chief",
            "skill": skill.pk,
            "judge": other.pk,
            "method": "link",
        },
    )
    assert response.status_code == 200
    assert "已有裁判长" in response.content.decode()
    assert not User.objects.filter(username="new-chief").exists()
    response = client.post(
        reverse("accounts:new"),
        {"username": "taken", "name": "王", "role": "organiser", "method": "link"},
    )
    assert "已被占用" in response.content.decode()
    assert User.objects.filter(username__iexact="taken").count() == 1


@pytest.mark.parametrize("who", ["anonymous", "lead", "judge"])
def test_account_pages_are_for_organisers_only(who):
    c = Client()
    if who == "lead":
        c.force_login(f.lead())
    elif who == "judge":
        c.force_login(f.judge(f.skill(), role="chief").user)
    target = f.user()
    for url in (
        reverse("accounts:list"),
        reverse("accounts:new"),
        reverse("accounts:bulk"),
        reverse("accounts:detail", args=[target.pk]),
    ):
        response = c.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 403
    response = c.post(reverse("accounts:reset", args=[target.pk]), {"method": "password"})
    assert response.status_code in (302, 403)
    target.refresh_from_db()
    assert target.check_password("pw-Secret-123")


def test_deactivated_account_loses_its_session_and_cannot_sign_in():
    client, _org = organiser_client()
    lead = f.lead(username="leaving")
    lead_client = Client()
    lead_client.force_login(lead)
    assert lead_client.get(reverse("teams:delegation")).status_code == 200
    response = client.post(reverse("accounts:detail", args=[lead.pk]), {"action": "deactivate"})
    assert response.status_code == 302
    after = lead_client.get(reverse("teams:delegation"))
    assert after.status_code == 302 and "/accounts/login/" in after["Location"]
    lead.refresh_from_db()
    assert not lead.is_active
    page = client.get(reverse("accounts:detail", args=[lead.pk])).content.decode()
    assert "已停用" in page


def test_reset_stops_the_old_password_and_replaces_earlier_links():
    client, org = organiser_client()
    lead = f.lead(username="forgetful")
    first = services.issue_link(lead, org)
    response = client.post(reverse("accounts:reset", args=[lead.pk]), {"method": "link"})
    lead.refresh_from_db()
    assert not lead.check_password("pw-Secret-123")
    assert services.link_for_token(first.token) is None  # replaced
    set_password(welcome_path(response.content.decode()))
    lead.refresh_from_db()
    assert lead.check_password(NEW_PASSWORD)


def test_an_organiser_cannot_lock_themselves_out_or_take_over_a_superuser():
    client, org = organiser_client()
    client.post(reverse("accounts:detail", args=[org.pk]), {"action": "deactivate"})
    org.refresh_from_db()
    assert org.is_active
    root = User.objects.create_superuser("root", password="root-Secret-1")
    client.post(reverse("accounts:reset", args=[root.pk]), {"method": "password"})
    root.refresh_from_db()
    assert root.check_password("root-Secret-1")


def test_expired_or_revoked_links_do_not_set_a_password():
    org = f.organiser()
    user = f.lead()
    expired = services.issue_link(user, org)
    SignInLink.objects.filter(user=user).update(expires_at=timezone.now() - dt.timedelta(1))
    assert services.redeem(expired.token, NEW_PASSWORD) is None
    live = services.issue_link(user, org)
    services.set_active(user, False, org)
    assert services.redeem(live.token, NEW_PASSWORD) is None
    user.refresh_from_db()
    assert not user.check_password(NEW_PASSWORD)
    assert services.redeem("not-a-token" * 20, NEW_PASSWORD) is None


def test_organiser_in_django_user_admin_is_sent_to_the_account_pages():
    client, _org = organiser_client()
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:list")
    index = client.get("/admin/").content.decode()
    assert "/admin/auth/user/" in index


def test_roles_added_and_removed_on_the_account_page():
    client, _org = organiser_client()
    user = f.user(username="multi")
    d = f.delegation(name="苏州市")
    client.post(
        reverse("accounts:detail", args=[user.pk]),
        {"action": "add_role", "role": "lead", "delegation": d.pk},
    )
    client.post(
        reverse("accounts:detail", args=[user.pk]), {"action": "add_role", "role": "organiser"}
    )
    user = User.objects.get(pk=user.pk)
    assert roles.lead_delegation(user) == d and roles.is_organiser(user)
    client.post(reverse("accounts:detail", args=[user.pk]), {"action": "remove_lead"})
    client.post(reverse("accounts:detail", args=[user.pk]), {"action": "remove_organiser"})
    user = User.objects.get(pk=user.pk)
    assert roles.lead_delegation(user) is None and not roles.is_organiser(user)


def test_organiser_denied_an_admin_page_is_shown_the_account_pages():
    client, _org = organiser_client()
    response = client.get("/admin/auth/group/")
    assert response.status_code == 403
    html = response.content.decode()
    assert reverse("accounts:list") in html
    assert "请联系组委会" not in html


def test_a_link_sets_a_password_once_only():
    org = f.organiser()
    user = f.lead()
    link = services.issue_link(user, org)
    assert services.redeem(link.token, NEW_PASSWORD) == user
    assert services.redeem(link.token, "Another-pass-999") is None
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert SignInLink.objects.get(user=user).used_at is not None
    assert len(SignInLink.objects.get(user=user).token_hash) == 64
    assert link.token not in SignInLink.objects.get(user=user).token_hash
