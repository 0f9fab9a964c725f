"""Every page is reachable by links: walk the portal from "/" as each role.

The walk follows same-site ``<a href>`` links with GET only (forms are never
submitted, so nothing changes), bounded in pages and depth. It asserts that
each role's key pages are reached and that no link answers 5xx.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from competitions.models import Event, Skill
from teams.models import DelegationLead, JudgeAssignment

SMALL = {"delegations": 5, "skills": 4, "entries": 24, "judges": 24}
MAX_PAGES = 160
MAX_DEPTH = 4
# Links the walk does not follow: downloads and files (not pages), the
# language switch, and admin pages beyond the index (Django's own).
SKIP = re.compile(
    r"(\.xlsx|\.pdf|\.zip|/download/|/sw\.js|/i18n/|/static/|/media/|/healthz"
    r"|^/admin/.+|/accounts/logout/|/tablet/logout/|/export)"
)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        url = urldefrag(urljoin(base, href)).url
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        found.append(path)
    return found


def walk(client: Client) -> tuple[set[str], list[tuple[str, int, str]]]:
    """(paths reached with 200, [(path, status, from) for 5xx])."""
    seen: set[str] = {"/"}
    reached: set[str] = set()
    errors: list[tuple[str, int, str]] = []
    queue: deque[tuple[str, int, str]] = deque([("/", 0, "")])
    fetched = 0
    while queue and fetched < MAX_PAGES:
        path, depth, parent = queue.popleft()
        response = client.get(path, follow=True)
        fetched += 1
        if response.status_code >= 500:
            errors.append((path, response.status_code, parent))
            continue
        if response.status_code != 200:
            continue
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        reached.add(urlsplit(final).path)
        reached.add(urlsplit(path).path)
        if "text/html" not in response.get("Content-Type", "") or depth >= MAX_DEPTH:
            continue
        for link in links(response.content.decode(), final):
            if link in seen or SKIP.search(link):
                continue
            seen.add(link)
            queue.append((link, depth + 1, path))
    return reached, errors


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO(), seed=7, **SMALL)
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(username: str | None) -> Client:
    client = Client()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def _expect(role: str) -> list[str]:
    event = Event.objects.get(code="demo-final")
    if role == "organiser":
        skill = Skill.objects.filter(event=event).order_by("code").first()
        assert skill is not None
        return [
            reverse("results:organiser_events"),
            reverse("results:organiser_event", args=[event.code]),
            reverse("accounts:list"),
            reverse("accounts:new"),
            reverse("accounts:bulk"),
            reverse("interchange:event_workbook"),
            reverse("results:publication_index"),
            reverse("appeals:list"),
            reverse("admin:index"),
            reverse("interchange:skill_scheme", args=[skill.pk]),
            reverse("scoring:sign_off", args=[skill.pk]),
            reverse("results:index"),
        ]
    if role == "chief":
        chief = JudgeAssignment.objects.get(judge__user__username="chief", role="chief")
        return [
            reverse("tablets:board_index"),
            reverse("tablets:board", args=[chief.skill_id]),
            reverse("interchange:skill_scheme", args=[chief.skill_id]),
            reverse("scoring:sign_off", args=[chief.skill_id]),
            reverse("scoring:results", args=[chief.skill_id]),
        ]
    if role == "judge":
        return [reverse("tablets:home")]
    if role == "lead":
        lead = DelegationLead.objects.get(user__username="lead")
        assert lead
        return [reverse("teams:delegation"), reverse("results:lead_home"), reverse("appeals:list")]
    return [reverse("results:index"), reverse("login")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["organiser", "chief", "judge", "lead", "public"])
def test_walk_from_home_reaches_each_roles_pages_and_nothing_fails(demo, role):
    client = _client(None if role == "public" else role)
    reached, errors = walk(client)
    assert errors == [], f"{role}: links answering 5xx (path, status, linked from): {errors}"
    missing = [p for p in _expect(role) if p not in reached]
    assert missing == [], f"{role} cannot reach {missing} by links from /"


def test_link_parser_keeps_same_site_links_only():
    html = (
        '<a href="/a/">a</a><a href="b/?x=1#top">b</a>'
        '<a href="https://example.com/c/">c</a><a href="mailto:x@y">m</a>'
    )
    assert links(html, "/base/") == ["/a/", "/base/b/?x=1"]
