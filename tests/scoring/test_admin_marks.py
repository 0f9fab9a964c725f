"""The organisers' admin: marks only through write_mark, read-only ledger,
scheme editing and summary, sign-off / reopen actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from scoring import ledger, signoff
from scoring.marks import write_mark
from scoring.models import Aspect, LedgerRecord, Mark, SkillMarking
from tests import factories as f

from .builders import scheme_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    return scheme_skill(n_entries=2, n_judges=2)


@pytest.fixture
def organiser_client(client):
    user = f.organiser(is_staff=True)
    client.force_login(user)
    client.user = user
    return client


ADD = reverse("admin:scoring_mark_add")


def test_add_mark_goes_through_the_service(organiser_client, s):
    r = organiser_client.post(
        ADD,
        {
            "entry": s.entries[0].pk,
            "aspect": s.m_aspects[0].pk,
            "judge": s.judges[0].pk,
            "value": "12.5",
            "reason": "纸质评分表补录",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    mark = Mark.objects.get()
    assert mark.value == Decimal("12.50")
    record = LedgerRecord.objects.get()
    assert record.source == "admin" and record.actor == organiser_client.user
    assert record.reason == "纸质评分表补录"


def test_reason_is_required(organiser_client, s):
    r = organiser_client.post(
        ADD,
        {
            "entry": s.entries[0].pk,
            "aspect": s.m_aspects[0].pk,
            "judge": s.judges[0].pk,
            "value": "1",
        },
    )
    assert r.status_code == 200 and not Mark.objects.exists()


def test_recusal_refused_in_admin(organiser_client, s):
    entry = s.entries[0]
    recused = f.judge(s.skill, delegation=entry.delegation)
    r = organiser_client.post(
        ADD,
        {
            "entry": entry.pk,
            "aspect": s.m_aspects[0].pk,
            "judge": recused.pk,
            "value": "1",
            "reason": "x",
        },
    )
    assert r.status_code == 200
    assert "回避" in r.content.decode()
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()


def test_out_of_range_refused_in_admin(organiser_client, s):
    r = organiser_client.post(
        ADD,
        {
            "entry": s.entries[0].pk,
            "aspect": s.j_aspects[0].pk,
            "judge": s.judges[0].pk,
            "value": "5",
            "reason": "x",
        },
    )
    assert r.status_code == 200 and "评价分超出范围" in r.content.decode()
    assert not Mark.objects.exists()


def test_change_mark_with_reason_and_version_check(organiser_client, s):
    result = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="10")
    url = reverse("admin:scoring_mark_change", args=[result.mark.pk])
    assert organiser_client.get(url).status_code == 200
    # Someone changes it between the form's rendering and its posting.
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="11")
    data = {"judge": s.judges[1].pk, "value": "20", "reason": "复核", "expected_version": 1}
    r = organiser_client.post(url, data)
    assert r.status_code == 200 and "已被他人修改" in r.content.decode()
    assert Mark.objects.get().value == Decimal("11.00")
    data["expected_version"] = 2
    r = organiser_client.post(url, data)
    assert r.status_code == 302
    mark = Mark.objects.get()
    assert (mark.value, mark.version, mark.judge) == (Decimal("20.00"), 3, s.judges[1])
    assert LedgerRecord.objects.order_by("seq").last().reason == "复核"


def test_change_refused_after_sign_off(organiser_client, s):
    result = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="10")
    SkillMarking.objects.filter(skill=s.skill).update(status="signed_off")
    url = reverse("admin:scoring_mark_change", args=[result.mark.pk])
    r = organiser_client.post(
        url, {"judge": s.judges[0].pk, "value": "9", "reason": "x", "expected_version": 1}
    )
    assert r.status_code == 200 and "锁定" in r.content.decode()
    assert Mark.objects.get().value == Decimal("10.00")


def test_marks_cannot_be_deleted(organiser_client, s):
    result = write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")
    url = reverse("admin:scoring_mark_delete", args=[result.mark.pk])
    assert organiser_client.post(url, {"post": "yes"}).status_code == 403
    assert Mark.objects.exists()


def test_ledger_is_read_only(organiser_client, s):
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="1")
    record = LedgerRecord.objects.get()
    assert organiser_client.get(reverse("admin:scoring_ledgerrecord_changelist")).status_code == 200
    change = reverse("admin:scoring_ledgerrecord_change", args=[record.pk])
    assert organiser_client.get(change).status_code == 200
    organiser_client.post(change, {"reason": "edited"})
    assert LedgerRecord.objects.get().reason == ""
    assert organiser_client.get(reverse("admin:scoring_ledgerrecord_add")).status_code == 403
    delete = reverse("admin:scoring_ledgerrecord_delete", args=[record.pk])
    assert organiser_client.post(delete, {"post": "yes"}).status_code == 403


def test_non_organiser_staff_is_kept_out(client, s):
    client.force_login(f.user(is_staff=True))
    r = client.get(reverse("admin:scoring_mark_add"))
    assert r.status_code == 302


def test_scheme_pages(organiser_client, s):
    broken = scheme_skill(m_aspects=["40"], j_aspects=["20"])
    for name in ("criterion", "subcriterion", "aspect", "markinggroup", "skillmarking"):
        assert organiser_client.get(reverse(f"admin:scoring_{name}_changelist")).status_code == 200
    r = organiser_client.get(reverse("admin:scoring_scheme_summary"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "60.00" in html and "还差 40.00 分" in html
    assert (
        organiser_client.get(
            reverse("admin:scoring_aspect_change", args=[broken.j_aspects[0].pk])
        ).status_code
        == 200
    )


def test_aspect_max_mark_cannot_drop_below_given_marks(organiser_client, s):
    write_mark(entry=s.entries[0], aspect=s.m_aspects[0], judge=s.judges[0], value="35")
    aspect = s.m_aspects[0]
    url = reverse("admin:scoring_aspect_change", args=[aspect.pk])
    data = {
        "skill": s.skill.pk,
        "sub_criterion": aspect.sub_criterion_id,
        "code": aspect.code,
        "kind": "M",
        "description": aspect.description,
        "max_mark": "30",
        "order": 1,
        "descriptors-TOTAL_FORMS": 0,
        "descriptors-INITIAL_FORMS": 0,
        "descriptors-MIN_NUM_FORMS": 0,
        "descriptors-MAX_NUM_FORMS": 4,
    }
    r = organiser_client.post(url, data)
    assert r.status_code == 200
    assert Aspect.objects.get(pk=aspect.pk).max_mark == Decimal("40.00")


def _complete(s):
    for entry in s.entries:
        for aspect in s.m_aspects:
            write_mark(entry=entry, aspect=aspect, judge=s.judges[0], value="1")
        for aspect in s.j_aspects:
            for judge in s.judges:
                write_mark(entry=entry, aspect=aspect, judge=judge, value="2")


def test_sign_off_and_reopen_actions(organiser_client, s):
    _complete(s)
    marking = SkillMarking.objects.get(skill=s.skill)
    changelist = reverse("admin:scoring_skillmarking_changelist")
    r = organiser_client.post(
        changelist, {"action": "sign_off_action", ACTION_CHECKBOX_NAME: [marking.pk], "index": 0}
    )
    assert r.status_code == 302
    assert signoff.names_revealed(s.skill)
    # Reopen: first the form asking for the reason …
    r = organiser_client.post(
        changelist, {"action": "reopen_action", ACTION_CHECKBOX_NAME: [marking.pk], "index": 0}
    )
    assert r.status_code == 200 and 'name="reason"' in r.content.decode()
    assert signoff.names_revealed(s.skill)
    # … then the reason.
    r = organiser_client.post(
        changelist,
        {"action": "reopen_action", ACTION_CHECKBOX_NAME: [marking.pk], "reason": "复核成绩"},
    )
    assert r.status_code == 302
    assert not signoff.names_revealed(s.skill)
    assert LedgerRecord.objects.filter(action="reopen", reason="复核成绩").exists()


@pytest.mark.parametrize("typed", ["-0", "-0.00", "0.0"])
def test_negative_zero_in_the_admin_is_stored_and_verified_as_zero(organiser_client, s, typed):
    r = organiser_client.post(
        ADD,
        {
            "entry": s.entries[0].pk,
            "aspect": s.m_aspects[0].pk,
            "judge": s.judges[0].pk,
            "value": typed,
            "reason": "补录",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert str(Mark.objects.get().value) == "0.00"
    assert str(LedgerRecord.objects.get().new_value) == "0.00"
    assert ledger.verify_ledger().ok


def test_full_width_digit_in_the_admin_is_refused(organiser_client, s):
    r = organiser_client.post(
        ADD,
        {
            "entry": s.entries[0].pk,
            "aspect": s.m_aspects[0].pk,
            "judge": s.judges[0].pk,
            "value": "０",
            "reason": "补录",
        },
    )
    assert r.status_code == 200 and "不是数字" in r.content.decode()
    assert not Mark.objects.exists() and not LedgerRecord.objects.exists()
