"""Every URL of the site is guarded by the authorization layer or is public
on purpose (docs/roles.md): a new view without a guard fails here."""

from __future__ import annotations

from collections.abc import Iterator

import rules
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, include, path

from portal.authz import GUARD_ATTRIBUTE, permission_required
from tablets.auth import SESSION_GUARD
from teams.permissions import is_organiser

# Public on purpose: what a visitor sees (published results, medal tables on
# the results pages, the ceremony screen, draw re-checks, the sector
# programme page, certificate verification), signing in (the site's, the
# one-time welcome link's, the tablets'), the language switch and health.
PUBLIC = {
    "home",
    "verify_lookup",
    "healthz",
    "login",
    "logout",
    "set_language",
    "accounts:welcome",
    "awards:verify",
    "results:index",
    "results:event",
    "results:skill",
    "results:medals",
    "results:scoreboard",
    "results:scoreboard_live",
    "draws:event",
    "draws:skill",
    "sector:programme",
    "tablets:login",
    "tablets:link",
    "tablets:sw",
}


def _patterns(patterns, namespace: str = "") -> Iterator[tuple[str, object]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _patterns(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else str(p.name)), p.callback


def unguarded(patterns) -> list[str]:
    """URL names whose view neither carries a guard of the layer nor is public;
    the organisers' admin site guards its own pages."""
    return sorted(
        name
        for name, view in _patterns(patterns)
        if not name.startswith("admin:")
        and not getattr(view, GUARD_ATTRIBUTE, ())
        and name not in PUBLIC
    )


def test_every_view_is_guarded_or_public():
    assert unguarded(get_resolver().url_patterns) == []


def test_every_guard_is_a_registered_permission():
    guards = {
        guard
        for _name, view in _patterns(get_resolver().url_patterns)
        for guard in getattr(view, GUARD_ATTRIBUTE, ())
    }
    assert guards, "no guarded view found"
    unknown = sorted(g for g in guards if g != SESSION_GUARD and not rules.perm_exists(g))
    assert unknown == []


def test_the_public_list_names_only_real_urls():
    names = {name for name, _view in _patterns(get_resolver().url_patterns)}
    assert PUBLIC - names == set()


def test_a_new_view_without_a_guard_is_reported():
    def bare(request):
        return HttpResponse()

    guarded = permission_required("teams.organiser")(bare)
    patterns = [
        path("bare/", bare, name="bare"),
        path("ok/", guarded, name="ok"),
        path("app/", include(([path("x/", bare, name="x")], "app"))),
    ]
    assert unguarded(patterns) == ["app:x", "bare"]


def test_the_admin_site_asks_the_organiser_rule():
    # The admin's pages are behind AdminSite.has_permission: the same rule.
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()
    assert not admin.site.has_permission(request)
    rules.set_perm("teams.organiser", rules.always_true)
    try:
        assert admin.site.has_permission(request)
    finally:
        rules.set_perm("teams.organiser", is_organiser)
