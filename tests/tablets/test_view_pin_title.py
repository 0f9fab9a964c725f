"""A judge's first PIN is not announced as a reset; a later one says the old PIN is gone."""

from __future__ import annotations

import pytest
from django.test import Client

from tablets.models import JudgeCredential

pytestmark = pytest.mark.django_db


def test_first_pin_then_new_pin(world):
    JudgeCredential.objects.filter(judge=world.jc).delete()
    chief = Client()
    chief.force_login(world.chief.user)
    url = f"/tablet/board/{world.skill.pk}/judges/{world.jc.pk}/pin/"
    first = chief.post(url).content.decode()
    assert "<h1>初始密码</h1>" in first
    assert "重置" not in first and "原来的密码已失效" not in first
    again = chief.post(url).content.decode()
    assert "<h1>重新生成密码</h1>" in again and "原来的密码已失效" in again
