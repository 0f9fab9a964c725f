"""Appeal services: the window, who may file, attachments, answers and
decisions, and that upholding reopens marking and unpublishes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from appeals import services
from appeals.models import Appeal, AppealAttachment, AppealEvent
from appeals.services import AppealRefused, Decision
from competitions import publication
from competitions.models import PublicationLog
from results import publishing
from scoring.models import LedgerRecord, SkillMarking
from tests.appeals import files
from tests.appeals.builders import published_world, world

pytestmark = pytest.mark.django_db

# 2026-05-17 02:00 UTC = 10:00 in Shanghai; a 2-hour window ends at 12:00 there.
PUBLISHED_AT = dt.datetime(2026, 5, 17, 2, 0, tzinfo=dt.UTC)
DEADLINE = PUBLISHED_AT + dt.timedelta(hours=2)


@pytest.fixture
def w():
    return published_world(at=PUBLISHED_AT)


def file(w, **kw):
    kw.setdefault("now", PUBLISHED_AT + dt.timedelta(minutes=30))
    return services.file_appeal(w.entry_a, w.lead_a, kw.pop("text", "第3题评分有误"), **kw)


# ---------------------------------------------------------------- window


def test_filing_at_the_last_moment_is_accepted(w):
    appeal = file(w, now=DEADLINE)
    assert appeal.status == Appeal.Status.FILED
    assert (appeal.filed_at, appeal.deadline) == (DEADLINE, DEADLINE)
    assert (appeal.skill, appeal.delegation) == (w.skill, w.del_a)
    event = appeal.events.get()
    assert (event.action, event.actor, event.at, event.text) == (
        AppealEvent.Action.FILED,
        w.lead_a,
        DEADLINE,
        "第3题评分有误",
    )


def test_filing_just_after_the_window_is_refused_with_the_deadline(w):
    with pytest.raises(AppealRefused) as exc:
        file(w, now=DEADLINE + dt.timedelta(seconds=1))
    assert exc.value.code == "window"
    assert "北京时间 2026-05-17 12:00" in exc.value.message
    assert not Appeal.objects.exists()
    assert "2026-05-17 12:00" in services.filing_problem(
        w.lead_a, w.entry_a, now=DEADLINE + dt.timedelta(seconds=1)
    )
    assert services.filing_problem(w.lead_a, w.entry_a, now=DEADLINE) is None


def test_the_window_is_the_programmes_setting():
    w = published_world(at=PUBLISHED_AT, window_hours=24)
    assert services.appeal_deadline(w.skill) == PUBLISHED_AT + dt.timedelta(hours=24)
    file(w, now=PUBLISHED_AT + dt.timedelta(hours=23, minutes=59))
    with pytest.raises(AppealRefused) as exc:
        file(w, now=PUBLISHED_AT + dt.timedelta(hours=24, seconds=1))
    assert "北京时间 2026-05-18 10:00" in exc.value.message


def test_no_appeal_before_publication():
    w = world()
    with pytest.raises(AppealRefused) as exc:
        services.file_appeal(w.entry_a, w.lead_a, "x")
    assert exc.value.code == "window"
    assert services.appeal_deadline(w.skill) is None


def test_no_appeal_after_unpublishing(w):
    publishing.unpublish(w.skill, w.organiser, "check")
    with pytest.raises(AppealRefused):
        file(w)


def test_republishing_opens_a_new_window(w):
    later = PUBLISHED_AT + dt.timedelta(days=1)
    publishing.unpublish(w.skill, w.organiser, "check")
    publishing.publish(w.skill, w.organiser, now=later)
    appeal = file(w, now=later + dt.timedelta(hours=1))
    assert appeal.deadline == later + dt.timedelta(hours=2)


# ---------------------------------------------------------------- who files


def test_a_lead_cannot_appeal_another_delegations_entry(w):
    with pytest.raises(PermissionDenied):
        services.file_appeal(w.entry_b, w.lead_a, "x", now=PUBLISHED_AT)
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("who", ["organiser", "chief", "judge", "no_role"])
def test_only_leads_file(w, who):
    with pytest.raises(PermissionDenied):
        services.file_appeal(w.entry_a, getattr(w, who), "x", now=PUBLISHED_AT)


def test_text_is_required(w):
    with pytest.raises(AppealRefused) as exc:
        file(w, text="   ")
    assert exc.value.code == "text_required"


# ---------------------------------------------------------------- attachments


def test_allowed_attachments_are_stored_privately(w, settings):
    uploads = [
        files.pdf(),
        files.upload("photo.JPG", files.JPG),
        files.upload("scan.png", files.PNG),
        files.upload("说明.docx", files.docx_bytes()),
    ]
    appeal = file(w, attachments=uploads)
    stored = list(appeal.attachments.order_by("pk"))
    assert [(a.original_name, a.content_type) for a in stored] == [
        ("评分表.pdf", "application/pdf"),
        ("photo.JPG", "image/jpeg"),
        ("scan.png", "image/png"),
        ("说明.docx", services.DOCX),
    ]
    first = stored[0]
    assert first.size == len(files.PDF)
    # Stored under a random name in the private root, not under MEDIA_ROOT.
    path = first.file.path
    assert path.startswith(settings.APPEALS_PRIVATE_ROOT)
    assert "评分表" not in path
    with first.file.open("rb") as fh:
        assert fh.read() == files.PDF
    with pytest.raises(NotImplementedError):
        first.file.url  # noqa: B018 — no public URL exists


@pytest.mark.parametrize(
    "name, content, code",
    [
        ("tool.exe", b"MZ\x90\x00", "attachment_type"),
        ("notes.txt", b"hello", "attachment_type"),
        ("noextension", files.PDF, "attachment_type"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "attachment_type"),
        ("fake.png", files.PDF, "attachment_type"),
        ("fake.docx", b"PK\x03\x04 broken zip", "attachment_type"),
    ],
)
def test_attachment_types_are_refused(w, name, content, code):
    with pytest.raises(AppealRefused) as exc:
        file(w, attachments=[files.pdf(), files.upload(name, content)])
    assert exc.value.code == code
    assert name in exc.value.message
    assert not Appeal.objects.exists()
    assert not AppealAttachment.objects.exists()


def test_attachments_over_10_mb_are_refused(w):
    limit = services.MAX_ATTACHMENT_BYTES
    just_fits = files.upload("ok.pdf", files.PDF + b"\0" * (limit - len(files.PDF)))
    assert file(w, attachments=[just_fits]).attachments.get().size == limit
    too_big = files.upload("big.pdf", files.PDF + b"\0" * (limit + 1 - len(files.PDF)))
    with pytest.raises(AppealRefused) as exc:
        file(w, attachments=[too_big])
    assert exc.value.code == "attachment_size"
    assert "big.pdf" in exc.value.message
    assert Appeal.objects.count() == 1


def test_at_most_five_attachments(w):
    with pytest.raises(AppealRefused) as exc:
        file(w, attachments=[files.pdf(f"{i}.pdf") for i in range(6)])
    assert exc.value.code == "too_many_attachments"


# ---------------------------------------------------------------- answers


def test_chief_judge_and_organiser_answer(w):
    appeal = file(w)
    services.answer(appeal, w.chief, "已复核评分记录", now=PUBLISHED_AT + dt.timedelta(hours=1))
    assert appeal.status == Appeal.Status.ANSWERED
    services.answer(appeal, w.organiser, "仲裁组已受理")
    assert list(appeal.events.values_list("action", "actor")) == [
        ("filed", w.lead_a.pk),
        ("answered", w.chief.pk),
        ("answered", w.organiser.pk),
    ]


@pytest.mark.parametrize("who", ["judge", "other_chief", "lead_a", "lead_b", "no_role"])
def test_others_cannot_answer(w, who):
    appeal = file(w)
    with pytest.raises(PermissionDenied):
        services.answer(appeal, getattr(w, who), "x")
    assert appeal.events.count() == 1


def test_answer_needs_text(w):
    with pytest.raises(AppealRefused):
        services.answer(file(w), w.chief, "")


# ---------------------------------------------------------------- decisions


def test_reject_keeps_results_published(w):
    appeal = file(w)
    at = PUBLISHED_AT + dt.timedelta(hours=3)
    services.decide(appeal, w.organiser, Decision.REJECT, "评分无误", now=at)
    assert (appeal.status, appeal.decided_by, appeal.decided_at) == (
        Appeal.Status.REJECTED,
        w.organiser,
        at,
    )
    assert appeal.events.last().action == AppealEvent.Action.REJECTED
    assert publication.is_published(w.skill)
    assert SkillMarking.objects.get(skill=w.skill).is_signed_off


@pytest.mark.parametrize("who", ["chief", "judge", "lead_a", "no_role"])
def test_only_organisers_decide(w, who):
    appeal = file(w)
    with pytest.raises(PermissionDenied):
        services.decide(appeal, getattr(w, who), Decision.UPHOLD, "x")
    appeal.refresh_from_db()
    assert appeal.is_open
    assert publication.is_published(w.skill)


def test_a_decided_appeal_is_closed(w):
    appeal = file(w)
    services.decide(appeal, w.organiser, Decision.REJECT, "评分无误")
    with pytest.raises(AppealRefused) as exc:
        services.decide(appeal, w.organiser, Decision.UPHOLD, "改判")
    assert exc.value.code == "decided"
    with pytest.raises(AppealRefused):
        services.answer(appeal, w.chief, "补充")


def test_decision_needs_reasons_and_a_known_decision(w):
    appeal = file(w)
    with pytest.raises(AppealRefused):
        services.decide(appeal, w.organiser, Decision.REJECT, " ")
    with pytest.raises(AppealRefused):
        services.decide(appeal, w.organiser, "maybe", "x")


def test_upholding_reopens_marking_and_unpublishes(w):
    appeal = file(w)
    services.answer(appeal, w.chief, "第3题测量记录有误")
    at = timezone.now()
    services.decide(appeal, w.organiser, Decision.UPHOLD, "重新测量第3题", now=at)

    assert appeal.status == Appeal.Status.UPHELD
    marking = SkillMarking.objects.get(skill=w.skill)
    assert marking.status == SkillMarking.Status.OPEN
    record = LedgerRecord.objects.get(skill=w.skill, action=LedgerRecord.Action.REOPEN)
    assert record.actor == w.organiser
    assert f"#{appeal.pk}" in record.reason and "重新测量第3题" in record.reason

    assert not publication.is_published(w.skill)
    log = PublicationLog.objects.filter(skill=w.skill).first()
    assert log.action == PublicationLog.Action.REOPENED
    assert log.reason == record.reason

    assert [(e.action, e.actor) for e in appeal.events.all()] == [
        ("filed", w.lead_a),
        ("answered", w.chief),
        ("upheld", w.organiser),
    ]
    assert all(e.at for e in appeal.events.all())


def test_upholding_a_second_appeal_when_marking_is_already_open(w):
    first = file(w)
    second = services.file_appeal(
        w.entry_a, w.lead_a, "另一处", now=PUBLISHED_AT + dt.timedelta(minutes=40)
    )
    services.decide(first, w.organiser, Decision.UPHOLD, "改")
    services.decide(second, w.organiser, Decision.UPHOLD, "也改")
    assert second.status == Appeal.Status.UPHELD
    assert LedgerRecord.objects.filter(action=LedgerRecord.Action.REOPEN).count() == 1


# ---------------------------------------------------------------- seeing


def test_who_sees_an_appeal(w):
    appeal = file(w)
    assert {u for u in (w.organiser, w.chief, w.lead_a) if services.may_see(u, appeal)} == {
        w.organiser,
        w.chief,
        w.lead_a,
    }
    for other in (w.judge, w.other_chief, w.lead_b, w.no_role):
        assert not services.may_see(other, appeal)
        assert not services.visible_appeals(other).exists()
    assert list(services.visible_appeals(w.chief)) == [appeal]
    assert list(services.visible_appeals(w.lead_a)) == [appeal]


def test_appealable_entries_are_the_leads_within_the_window(w):
    found = services.appealable_entries(w.lead_a, now=PUBLISHED_AT)
    assert [(a.entry, a.deadline) for a in found] == [(w.entry_a, DEADLINE)]
    assert services.appealable_entries(w.lead_a, now=DEADLINE + dt.timedelta(seconds=1)) == []
    assert services.appealable_entries(w.organiser, now=PUBLISHED_AT) == []
