"""The one view decorator's answers (docs/roles.md): sign-in first, 403
without the role or permission, 404 for a hidden object or a missing one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from portal.authz import GUARD_ATTRIBUTE, permission_required

ROLE, PERM = "authz_test.role", "authz_test.perm"
THINGS = {1: SimpleNamespace(owner="ann"), 2: SimpleNamespace(owner="bob")}


def _thing(request, pk):
    if pk not in THINGS:
        raise Http404
    return THINGS[pk]


@pytest.fixture(autouse=True)
def _rules():
    rules.add_perm(ROLE, rules.predicate(lambda user: user.name in {"ann", "bob"}))
    rules.add_perm(PERM, rules.predicate(lambda user, thing: thing.owner == user.name))
    yield
    rules.remove_perm(ROLE)
    rules.remove_perm(PERM)


def _user(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, is_authenticated=True)


def _call(view, user, method="get", **kwargs):
    request = getattr(RequestFactory(), method)("/things/")
    request.user = user
    return view(request, **kwargs)


def _view(**options):
    return permission_required(PERM, fn=_thing, **options)(lambda request, pk: HttpResponse("ok"))


def test_anonymous_is_sent_to_sign_in():
    response = _call(_view(role=ROLE), AnonymousUser(), pk=1)
    assert response.status_code == 302 and "next=/things/" in response["Location"]


def test_the_owner_gets_the_page():
    assert _call(_view(role=ROLE, hide=True), _user("ann"), pk=1).content == b"ok"


def test_without_the_role_403_even_for_a_missing_object():
    for pk in (1, 99):
        with pytest.raises(PermissionDenied):
            _call(_view(role=ROLE, hide=True), _user("eve"), pk=pk)


def test_someone_elses_object_is_404_when_hidden_else_403():
    with pytest.raises(Http404):
        _call(_view(role=ROLE, hide=True), _user("bob"), pk=1)
    with pytest.raises(PermissionDenied):
        _call(_view(role=ROLE), _user("bob"), pk=1)


def test_a_missing_object_is_404():
    with pytest.raises(Http404):
        _call(_view(role=ROLE), _user("ann"), pk=99)


def test_methods_limits_the_check():
    view = permission_required(ROLE, methods=["POST"])(lambda request: HttpResponse("ok"))
    assert _call(view, _user("eve")).content == b"ok"
    with pytest.raises(PermissionDenied):
        _call(view, _user("eve"), method="post")


def test_an_unknown_permission_refuses():
    view = permission_required("authz_test.nobody_registered_this")(lambda r: HttpResponse())
    with pytest.raises(PermissionDenied):
        _call(view, _user("ann"))


def test_the_view_carries_its_guards():
    assert getattr(_view(role=ROLE), GUARD_ATTRIBUTE) == (ROLE, PERM)
