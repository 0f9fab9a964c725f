"""A client key replayed by another judge's tablet learns nothing and saves nothing."""

from __future__ import annotations

import pytest

from scoring.models import LedgerRecord, Mark
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_judge_of_another_skill_replaying_a_key_is_refused(world, tablet, post_mark):
    own, _ = tablet(world.jb)
    assert (
        post_mark(own, world.entries["101"], world.aspect("M2"), "3.5", "k-jb-1").json()["status"]
        == "saved"
    )
    outsider = f.judge(f.skill(event=world.skill.event))
    other, _ = tablet(outsider)
    answer = post_mark(other, world.entries["101"], world.aspect("M2"), "3.5", "k-jb-1")
    assert answer.json().get("status") != "saved"
    assert "replayed" not in answer.json() or answer.json()["replayed"] is not True
    assert Mark.objects.count() == 1 and LedgerRecord.objects.count() == 1


def test_another_judge_of_the_skill_replaying_a_key_is_refused(world, tablet, post_mark):
    own, _ = tablet(world.jb)
    post_mark(own, world.entries["101"], world.aspect("M2"), "3.5", "k-jb-2")
    other, _ = tablet(world.jc)
    answer = post_mark(other, world.entries["101"], world.aspect("M2"), "3.5", "k-jb-2")
    assert answer.json().get("status") != "saved"
    assert LedgerRecord.objects.get().judge == world.jb
