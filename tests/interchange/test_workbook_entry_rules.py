"""The event workbook asks the same entry rule function as the lead's page
and the admin (teams.services.entry_rule_errors), and a problem it reports
rolls the whole import back, located and in both languages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from interchange.event_workbook import context, entry_writer, importer
from teams import services
from teams.models import Athlete
from tests.interchange.test_workbook_import import errors_of, model_counts, sample, write_book


@pytest.mark.django_db
def test_the_import_asks_the_shared_rule_for_every_entry(tmp_path, monkeypatch):
    asked = []

    def spy(skill, delegation, athletes, *, entry=None, enforce_quota=True):
        asked.append((skill.code, delegation.code, len(athletes), enforce_quota))
        return services.entry_rule_errors(
            skill, delegation, athletes, entry=entry, enforce_quota=enforce_quota
        )

    monkeypatch.setattr(entry_writer, "entry_rule_errors", spy)
    report = importer.import_workbook(write_book(tmp_path / "ok.xlsx", sample()), "ev")
    assert report.committed
    entries = {(e[0], e[1]) for e in sample()["entries"]}
    assert len(asked) == len(entries)
    # Quotas limit the leads' self-registration, not the organisers' workbook.
    assert {q for *_rest, q in asked} == {False}


@pytest.mark.django_db
def test_a_rule_problem_rolls_the_import_back(tmp_path, monkeypatch):
    def refuse(skill, delegation, athletes, *, entry=None, enforce_quota=True):
        return [ValidationError(gettext_lazy("An entry needs at least one athlete."))]

    monkeypatch.setattr(entry_writer, "entry_rule_errors", refuse)
    report = importer.import_workbook(write_book(tmp_path / "no.xlsx", sample()), "ev")
    assert not report.committed
    assert errors_of(report)[0] == ("entries", 2, "competitor_no")
    assert report.errors[0].message_en == "An entry needs at least one athlete."
    assert report.errors[0].message_zh == "参赛单元至少需要一名选手。"
    assert set(model_counts().values()) == {0}


@pytest.mark.django_db
def test_a_name_changed_by_the_workbook_is_in_the_audit_trail_with_its_reason(tmp_path):
    book = sample()
    assert importer.import_workbook(write_book(tmp_path / "a.xlsx", book), "ev").committed
    book["entries"][0][3] = "张叁"  # the same ID number, a corrected name
    assert importer.import_workbook(write_book(tmp_path / "b.xlsx", book), "ev").committed
    athlete = Athlete.objects.get(name="张叁")
    latest = athlete.history.order_by("-history_id").first()
    assert latest.name == "张叁"
    assert latest.history_change_reason == context.IMPORT_REASON
