"""scoring's domain events: what each signal carries, that it is sent inside
the transaction of the change (a rollback leaves receivers' on-commit work
undone), and that the layers stay one-way."""

from __future__ import annotations

import pytest
from django.db import transaction

from scoring import refusals, signals, signoff, status
from scoring.marks import write_mark
from scoring.models import LedgerRecord, MarkingGroup, SkillMarking
from teams import services as teams
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """Every scoring signal's calls, as (signal name, kwargs)."""
    calls: list[tuple[str, dict]] = []
    receivers = {}
    for name in ("skill_signed_off", "skill_reopened", "results_changed", "panel_changed"):

        def receiver(sender, signal, name=name, **kwargs):
            calls.append((name, {"sender": sender, **kwargs}))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield calls
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def marked():
    s = scheme_skill(n_entries=2, n_judges=2)
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="10")
        for aspect in s.j_aspects:
            for judge in s.judges:
                write_mark(entry=entry, aspect=aspect, judge=judge, value="2")
    return s


def test_sign_off_announces_sign_off_then_results(heard):
    s = marked()
    heard.clear()
    record = signoff.sign_off(s.skill, s.chief.user)
    assert [name for name, _ in heard] == ["skill_signed_off", "results_changed"]
    signed = heard[0][1]
    assert signed["sender"] is SkillMarking and signed["skill"] == s.skill
    assert signed["record"] == record and signed["by_user"] == s.chief.user
    assert signed["marking"].is_signed_off
    assert heard[1][1]["skill"] == s.skill
    # The results the receivers are told about are stored already.
    assert SkillMarking.objects.get(skill=s.skill).results_computed_at is not None


def test_reopen_announces_with_the_reason(heard):
    s = marked()
    signoff.sign_off(s.skill, s.chief.user)
    heard.clear()
    record = signoff.reopen(s.skill, s.chief.user, "评分有误")
    assert [name for name, _ in heard] == ["skill_reopened"]
    kw = heard[0][1]
    assert kw["reason"] == "评分有误" and kw["record"] == record
    assert record.action == LedgerRecord.Action.REOPEN and not kw["marking"].is_signed_off


def test_refused_sign_off_announces_nothing(heard):
    s = scheme_skill(n_entries=2, n_judges=2)  # no marks: incomplete
    with pytest.raises(refusals.Incomplete):
        signoff.sign_off(s.skill, s.chief.user)
    assert not [n for n, _ in heard if n in ("skill_signed_off", "results_changed")]


def test_receivers_work_is_undone_with_a_rolled_back_sign_off(
    django_capture_on_commit_callbacks,
):
    """Sent inside the transaction: on-commit work queued by a receiver
    vanishes when the sign-off's transaction rolls back."""
    s = marked()
    queued: list[int] = []

    def receiver(sender, skill, **kwargs):
        transaction.on_commit(lambda: queued.append(skill.pk))

    signals.results_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                signoff.sign_off(s.skill, s.chief.user)
                raise RuntimeError("the request failed later")
        assert queued == [] and not SkillMarking.objects.get(skill=s.skill).is_signed_off
        with django_capture_on_commit_callbacks(execute=True):
            signoff.sign_off(s.skill, s.chief.user)
        assert queued == [s.skill.pk]
    finally:
        signals.results_changed.disconnect(receiver)


def test_panel_edits_announce_the_skill_after_marking_it_stale(heard):
    s = marked()
    status.marking_status(s.skill)  # results stored
    seen_stale = []

    def check(sender, skill_id, **kwargs):
        seen_stale.append(SkillMarking.objects.get(skill_id=skill_id).results_computed_at is None)

    signals.panel_changed.connect(check)
    try:
        heard.clear()
        f.judge(s.skill)
        group = MarkingGroup.objects.create(skill=s.skill, name="第一组")
        s.judges[0].marking_groups.add(group)  # from the judge's side
    finally:
        signals.panel_changed.disconnect(check)
    skill_ids = [kw["skill_id"] for name, kw in heard if name == "panel_changed"]
    assert skill_ids and set(skill_ids) == {s.skill.pk}
    assert all(seen_stale)


def test_teams_asks_scoring_whether_names_are_revealed(monkeypatch):
    s = marked()
    assert teams.names_revealed(s.skill) is False
    signoff.sign_off(s.skill, s.chief.user)
    assert teams.names_revealed(s.skill) is True
    # Without scoring's rule registered, teams reveals nothing.
    monkeypatch.setattr(teams, "_reveal_rule", None)
    assert teams.names_revealed(s.skill) is False


def test_lower_layers_import_nothing_above_them():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("scoring", "teams", "awards", "results", "tablets")
    above = {"scoring": ("awards", "appeals", "tablets", "results", "draws", "sector", "accounts")}
    above["teams"] = ("scoring", *above["scoring"])
    for app, higher in above.items():
        for module in graph.find_children(app) | graph.find_descendants(app):
            for imported in graph.find_modules_directly_imported_by(module):
                assert imported.split(".")[0] not in higher, (module, imported)
    # awards' services are split by question: none of them queues work itself.
    awards_services = (
        "awarding batches issuing layouts medals previews rendering serials "
        "verification visibility zips"
    ).split()
    for a, b in (
        *((f"awards.{name}", "awards.tasks") for name in awards_services),
        ("results.services", "results.tasks"),
        ("results.services", "results.exporters"),
    ):
        assert not graph.chain_exists(importer=a, imported=b), (a, b)
