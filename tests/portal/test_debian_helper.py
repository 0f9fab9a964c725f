"""Tests that need Debian packages install them (root with apt-get) or skip
with a reason naming the packages."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Skipped

from tests import debian


@pytest.fixture
def fake(monkeypatch):
    state = {"installed": False, "calls": []}
    monkeypatch.setitem(debian.PRESENT, "fonts-fake", lambda: state["installed"])
    monkeypatch.setattr(debian, "_tried", set())

    def install(packages):
        state["calls"].append(list(packages))
        state["installed"] = True
        return ""

    monkeypatch.setattr(debian, "install", install)
    return state


def test_present_packages_need_nothing(fake):
    fake["installed"] = True
    debian.require("fonts-fake")
    assert fake["calls"] == []


def test_missing_packages_are_installed_when_allowed(fake, monkeypatch):
    monkeypatch.setattr(debian, "can_install", lambda: (True, ""))
    debian.require("fonts-fake")  # no skip: installed
    assert fake["calls"] == [["fonts-fake"]]


def test_missing_packages_skip_with_the_install_command_when_not_allowed(fake, monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_APT", "0")
    with pytest.raises(Skipped, match=r"apt-get install fonts-fake \(PORTAL_TEST_APT=0\)"):
        debian.require("fonts-fake")
    assert fake["calls"] == []


def test_a_failed_install_is_tried_once_per_run(fake, monkeypatch):
    monkeypatch.setattr(debian, "can_install", lambda: (True, ""))
    monkeypatch.setattr(debian, "install", lambda p: fake["calls"].append(p) or "no network")
    with pytest.raises(Skipped, match="no network"):
        debian.require("fonts-fake")
    with pytest.raises(Skipped, match="failed earlier"):
        debian.require("fonts-fake")
    assert len(fake["calls"]) == 1


def test_every_package_the_suite_asks_for_has_a_presence_check():
    for package in (*debian.CERTIFICATE_FONTS, "poppler-utils", "chromium", "nginx-light"):
        assert callable(debian.PRESENT[package])
