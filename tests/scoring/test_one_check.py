"""One check, three paths: a tablet tap, a batch import and the organisers'
admin refuse the same hostile writes with the same code and message, and
accept the same odd-but-valid ones with the same stored value
(``scoring.checks.check_mark``, docs/integrity.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from scoring.admin import MarkForm
from scoring.batch import MarkWrite, write_marks
from scoring.models import LedgerRecord, Mark, SkillMarking
from scoring.refusals import BatchRefused
from tablets import services as tablets
from tablets.auth import COOKIE
from tablets.models import TabletSession
from teams.models import Entry
from tests import factories as f

from .builders import SchemeSkill, scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def s() -> SchemeSkill:
    return scheme_skill(n_entries=2, n_judges=2, m_aspects=["2.50", "67.50"])


@dataclass(frozen=True)
class Outcome:
    """What a path answered: a refusal's (code, message), or the value stored."""

    code: str | None
    message: str | None = None
    stored: Decimal | None = None


class _Undo(Exception):
    pass


def _rolled_back(run: Callable[[], Outcome]) -> Outcome:
    """``run`` inside a transaction that is undone, so each path starts alike."""
    found: list[Outcome] = []
    try:
        with transaction.atomic():
            found.append(run())
            raise _Undo
    except _Undo:
        pass
    return found[0]


def _stored(w: MarkWrite) -> Outcome:
    mark = Mark.objects.get(entry=w.entry, aspect=w.aspect)
    return Outcome(None, stored=mark.value)


def by_tablet(w: MarkWrite) -> Outcome:
    assert w.judge is not None
    _session, token = tablets.start_session(
        w.judge, via=TabletSession.Via.PIN, user_agent="pytest", ip="127.0.0.1"
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[COOKIE] = token
    body = {"client_key": "k-1", "entry": w.entry.pk, "aspect": w.aspect.pk, "value": w.value}
    answer = client.post("/tablet/api/mark", json.dumps(body), content_type="application/json")
    data = answer.json()
    if answer.status_code == 200:
        return _stored(w)
    return Outcome(data["code"], data["message"])


def by_batch(w: MarkWrite) -> Outcome:
    try:
        write_marks(w.entry.skill, [w])
    except BatchRefused as exc:
        refusal = exc.refusals[0]
        return Outcome(refusal.code, refusal.message)
    return _stored(w)


def by_admin(w: MarkWrite) -> Outcome:
    data = {
        "entry": w.entry.pk,
        "aspect": w.aspect.pk,
        "judge": w.judge.pk if w.judge else "",
        "value": w.value,
        "reason": "correction",
    }
    form = MarkForm(data=data)
    if form.is_valid():
        return _stored(w)
    error = form.errors.as_data()["__all__"][0]
    return Outcome(error.code, error.messages[0])


# -- the hostile table ------------------------------------------------------------------


def signed_off(s: SchemeSkill) -> MarkWrite:
    SkillMarking.objects.update_or_create(
        skill=s.skill, defaults={"status": SkillMarking.Status.SIGNED_OFF}
    )
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "1")


def withdrawn_entry(s: SchemeSkill) -> MarkWrite:
    Entry.objects.filter(pk=s.entries[0].pk).update(status=Entry.Status.WITHDRAWN)
    return MarkWrite(s.entries[0], s.j_aspects[0], s.judges[0], "2")


def recused_judge(s: SchemeSkill) -> MarkWrite:
    judge = f.judge(s.skill, delegation=s.entries[0].delegation)
    return MarkWrite(s.entries[0], s.j_aspects[0], judge, "2")


def out_of_range(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "2.51")


def judgement_out_of_range(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.j_aspects[0], s.judges[0], "4")


def full_width_digits(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "１")


def wrong_skill(s: SchemeSkill) -> MarkWrite:
    other = scheme_skill(n_entries=1, n_judges=1, event=s.skill.event)
    return MarkWrite(s.entries[0], other.m_aspects[0], s.judges[0], "1")


def negative_zero(s: SchemeSkill) -> MarkWrite:
    return MarkWrite(s.entries[0], s.m_aspects[0], s.judges[0], "-0")


HOSTILE = [
    (signed_off, "locked"),
    (withdrawn_entry, "not_ranked"),
    (recused_judge, "own_delegation"),
    (out_of_range, "out_of_range"),
    (judgement_out_of_range, "out_of_range"),
    (full_width_digits, "not_a_number"),
    (wrong_skill, "wrong_skill"),
]

PATHS = {"tablet": by_tablet, "batch": by_batch, "admin": by_admin}


@pytest.mark.parametrize(("build", "code"), HOSTILE, ids=[b.__name__ for b, _c in HOSTILE])
def test_every_path_refuses_alike(s, build, code):
    w = build(s)
    with translation.override("en"):
        answers = {name: _rolled_back(lambda p=path: p(w)) for name, path in PATHS.items()}
    assert answers["tablet"].code == code
    assert answers["tablet"].message
    assert answers["batch"] == answers["tablet"], answers
    assert answers["admin"] == answers["tablet"], answers
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()


def test_every_path_stores_negative_zero_as_zero(s):
    w = negative_zero(s)
    answers = {name: _rolled_back(lambda p=path: p(w)) for name, path in PATHS.items()}
    assert set(answers.values()) == {Outcome(None, stored=Decimal("0.00"))}
    assert str(answers["tablet"].stored) == "0.00"


def test_a_refusal_reads_its_message_in_the_active_language(s):
    """The panel's refusal is translated when read, not when the rule ran."""
    w = recused_judge(s)
    with translation.override("en"):
        english = _rolled_back(lambda: by_batch(w))
    with translation.override("zh-hans"):
        chinese = _rolled_back(lambda: by_batch(w))
    assert english.code == chinese.code == "own_delegation"
    assert english.message != chinese.message
