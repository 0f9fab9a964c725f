"""Appeals: filing, answering, deciding.

* **Filing** — the lead of the entry's delegation, against a *published*
  result, until ``published_at + Programme.appeal_window_hours`` (inclusive).
  After that the filing is refused with the deadline in Beijing time.
  Text is required; attachments are optional: pdf, jpg/jpeg, png or docx, at
  most 10 MB each, at most 5, checked by extension *and* content (a renamed
  executable is refused).
* **Seeing** — organisers, the chief judge of the skill, and the lead(s) of
  the appealing delegation. Nobody else, attachments included.
* **Answering** — the chief judge of the skill or an organiser, while open.
* **Deciding** (reject / uphold) — organisers only: they are the arbitration
  (仲裁), and a chief judge deciding an appeal against their own panel's
  marks would judge their own case. The chief judge answers; the decision is
  the organisers'. Upholding reopens the skill's marks through
  ``scoring.services.reopen`` (the appeal is the ledger reason) and, through
  ``competitions.publication.on_reopened``, unpublishes the results.

Every step is an ``AppealEvent`` (who, when, text), written in the same
transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from zoneinfo import ZoneInfo

import rules
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions import publication
from competitions.models import Skill, SkillPublication
from portal import spreadsheets
from teams import roles
from teams.models import Entry

from .models import Appeal, AppealAttachment, AppealEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_TEXT = 10_000

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# extension → (content type we serve it as, how its first bytes must look)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".docx": (DOCX, (b"PK\x03\x04",)),
}


class AppealRefused(Exception):
    """The rules refuse this step; ``message`` is for the person."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class Decision:
    REJECT = "reject"
    UPHOLD = "uphold"


# ---------------------------------------------------------------- window


def format_deadline(moment: dt.datetime) -> str:
    """The deadline as people at the venue read it, whatever the active zone:
    to the minute, in Beijing time (北京时间 2026-05-17 12:00)."""
    at = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return _("%(at)s Beijing time") % {"at": at}


def appeal_deadline(skill: Skill) -> dt.datetime | None:
    """End of the window of the skill's current publication (None: not published)."""
    at = publication.published_at(skill)
    if at is None:
        return None
    return at + dt.timedelta(hours=skill.event.programme.appeal_window_hours)


def filing_problem(user, entry: Entry, *, now: dt.datetime | None = None) -> str | None:
    """Why ``user`` cannot appeal ``entry``'s result now, or None (for pages;
    :func:`file_appeal` checks again under a lock)."""
    lead_of = roles.lead_delegation(user)
    if lead_of is None or lead_of.pk != entry.delegation_id:
        return _("Only the lead of the entry's delegation may appeal its result.")
    return _window_problem(entry.skill, now or timezone.now())


def _window_problem(skill: Skill, now: dt.datetime) -> str | None:
    deadline = appeal_deadline(skill)
    if deadline is None:
        return _("The results of %(skill)s are not published; there is nothing to appeal yet.") % {
            "skill": skill
        }
    if now > deadline:
        return _("The appeal window for %(skill)s closed at %(deadline)s.") % {
            "skill": skill,
            "deadline": format_deadline(deadline),
        }
    return None


# ---------------------------------------------------------------- attachments


def check_attachment(upload: UploadedFile) -> str:
    """The content type to store, or AppealRefused naming the file."""
    name = upload.name or ""
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise AppealRefused(
            _("%(name)s: only PDF, JPG, PNG and DOCX files can be attached.") % {"name": name},
            code="attachment_type",
        )
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise AppealRefused(
            _("%(name)s is larger than 10 MB.") % {"name": name}, code="attachment_size"
        )
    content_type, signatures = ALLOWED_TYPES[suffix]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(sig) for sig in signatures) or (
        suffix == ".docx" and not _is_docx(upload)
    ):
        raise AppealRefused(
            _("%(name)s is not a valid %(type)s file.")
            % {"name": name, "type": suffix[1:].upper()},
            code="attachment_type",
        )
    return content_type


def _is_docx(upload: UploadedFile) -> bool:
    """A zip holding a Word document, every part within the upload bounds
    (``portal.spreadsheets.check_zip``: no zip bomb is stored for a reader)."""
    try:
        spreadsheets.check_zip(upload, spreadsheets.Limits.from_settings())
        with zipfile.ZipFile(upload) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, spreadsheets.SpreadsheetRefused):
        return False
    finally:
        upload.seek(0)


# ---------------------------------------------------------------- who may


def may_see(user, appeal: Appeal) -> bool:
    """``appeals.see`` (appeals/permissions.py)."""
    return (
        user is not None and user.is_authenticated and rules.has_perm("appeals.see", user, appeal)
    )


def may_answer(user, appeal: Appeal) -> bool:
    """``appeals.answer`` (appeals/permissions.py)."""
    return user is not None and rules.has_perm("appeals.answer", user, appeal)


def may_decide(user, appeal: Appeal) -> bool:
    """``appeals.decide`` (appeals/permissions.py)."""
    return user is not None and rules.has_perm("appeals.decide", user, appeal)


def visible_appeals(user) -> QuerySet[Appeal]:
    """The appeals ``user`` may see: all (organisers), their skills' (chief
    judges), their delegation's (leads), none otherwise."""
    appeals = Appeal.objects.select_related("entry", "skill__event", "delegation")
    if user is None or not user.is_authenticated:
        return appeals.none()
    if roles.is_organiser(user):
        return appeals
    scope = Q(skill__in=roles.chief_skills(user))
    lead_of = roles.lead_delegation(user)
    if lead_of is not None:
        scope |= Q(delegation=lead_of)
    return appeals.filter(scope)


@dataclass(frozen=True)
class Appealable:
    entry: Entry
    deadline: dt.datetime


def appealable_entries(user, *, now: dt.datetime | None = None) -> list[Appealable]:
    """The lead's entries in published skills whose window is still open."""
    lead_of = roles.lead_delegation(user)
    if lead_of is None:
        return []
    now = now or timezone.now()
    rows = (
        SkillPublication.objects.filter(
            skill__in=publication.published_skills(), skill__entries__delegation=lead_of
        )
        .select_related("skill__event__programme")
        .distinct()
    )
    found: list[Appealable] = []
    for row in rows:
        if row.published_at is None:  # not possible for a published skill
            continue
        deadline = row.published_at + dt.timedelta(
            hours=row.skill.event.programme.appeal_window_hours
        )
        if now > deadline:
            continue
        for entry in (
            Entry.objects.filter(skill=row.skill, delegation=lead_of)
            .select_related("skill")
            .order_by("competitor_no")
        ):
            found.append(Appealable(entry, deadline))
    return found


# ---------------------------------------------------------------- steps


def _checked_filing(
    text: str, attachments: Sequence[UploadedFile]
) -> tuple[str, list[tuple[UploadedFile, str]]]:
    """The appeal's text and its files with their checked content types;
    ``AppealRefused`` when either is out of bounds (docs/uploads.md)."""
    text = (text or "").strip()
    if not text:
        raise AppealRefused(_("Please write what the appeal is about."), code="text_required")
    if len(text) > MAX_TEXT:
        raise AppealRefused(
            _("The appeal text is limited to %(n)d characters.") % {"n": MAX_TEXT},
            code="text_too_long",
        )
    attachments = list(attachments)
    if len(attachments) > MAX_ATTACHMENTS:
        raise AppealRefused(
            _("At most %(n)d files can be attached.") % {"n": MAX_ATTACHMENTS},
            code="too_many_attachments",
        )
    return text, [(upload, check_attachment(upload)) for upload in attachments]


def _attach(appeal: Appeal, checked: list[tuple[UploadedFile, str]], now: dt.datetime) -> None:
    for upload, content_type in checked:
        attachment = AppealAttachment(
            appeal=appeal,
            original_name=PurePath(upload.name or "").name[:200],
            content_type=content_type,
            size=upload.size or 0,
            uploaded_at=now,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()


def file_appeal(
    entry: Entry,
    by_user,
    text: str,
    attachments: Sequence[UploadedFile] = (),
    *,
    now: dt.datetime | None = None,
) -> Appeal:
    """A lead appeals their own entry's published result within the window."""
    lead_of = roles.lead_delegation(by_user) if by_user is not None else None
    if lead_of is None or lead_of.pk != entry.delegation_id:
        raise PermissionDenied(_("Only the lead of the entry's delegation may appeal its result."))
    text, checked = _checked_filing(text, attachments)
    now = now or timezone.now()
    skill = entry.skill
    with transaction.atomic():
        # The publication row is the lock: an unpublish cannot pass between
        # the window check and the insert.
        SkillPublication.objects.select_for_update().filter(skill_id=skill.pk).first()
        problem = _window_problem(skill, now)
        if problem:
            raise AppealRefused(problem, code="window")
        deadline = appeal_deadline(skill)
        assert deadline is not None, "_window_problem refuses an unpublished skill"
        appeal = Appeal.objects.create(
            entry=entry,
            skill=skill,
            delegation_id=entry.delegation_id,
            text=text,
            filed_by=by_user,
            filed_at=now,
            deadline=deadline,
        )
        _attach(appeal, checked, now)
        AppealEvent.objects.create(
            appeal=appeal, action=AppealEvent.Action.FILED, actor=by_user, text=text, at=now
        )
    return appeal


def _locked_open(appeal: Appeal) -> Appeal:
    locked = Appeal.objects.select_for_update().select_related("skill").get(pk=appeal.pk)
    if not locked.is_open:
        raise AppealRefused(
            _("This appeal was already decided (%(status)s).")
            % {"status": locked.get_status_display()},
            code="decided",
        )
    return locked


def answer(appeal: Appeal, by_user, text: str, *, now: dt.datetime | None = None) -> AppealEvent:
    """The chief judge's (or an organiser's) answer to an open appeal."""
    if not may_answer(by_user, appeal):
        raise PermissionDenied(
            _("Only the chief judge of this skill or an organiser may answer appeals.")
        )
    text = (text or "").strip()
    if not text:
        raise AppealRefused(_("Please write the answer."), code="text_required")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open(appeal)
        locked.status = Appeal.Status.ANSWERED
        locked.save(update_fields=["status"])
        event = AppealEvent.objects.create(
            appeal=locked, action=AppealEvent.Action.ANSWERED, actor=by_user, text=text, at=now
        )
    appeal.refresh_from_db()
    return event


def decide(
    appeal: Appeal,
    by_user,
    decision: str,
    text: str,
    *,
    now: dt.datetime | None = None,
) -> Appeal:
    """Reject or uphold an open appeal (organisers: the arbitration).

    Upholding reopens the skill's marks with the appeal as the ledger reason
    (if they are still signed off — an earlier upheld appeal may have
    reopened them already) and unpublishes the results.
    """
    # Imported here: scoring imports teams and competitions, not appeals, and
    # keeping it local keeps appeals importable while scoring is loading.
    from scoring import services as scoring

    if not may_decide(by_user, appeal):
        raise PermissionDenied(_("Only organisers (the arbitration) may decide appeals."))
    if decision not in (Decision.REJECT, Decision.UPHOLD):
        raise AppealRefused(_("Unknown decision."), code="decision")
    text = (text or "").strip()
    if not text:
        raise AppealRefused(_("Please give the reasons for the decision."), code="text_required")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open(appeal)
        skill = locked.skill
        if decision == Decision.UPHOLD:
            reason = _("Appeal #%(id)d upheld: %(text)s") % {"id": locked.pk, "text": text}
            if publication.is_signed_off(skill):
                try:
                    scoring.reopen(skill, by_user, reason)
                except scoring.MarkRefused as exc:
                    raise AppealRefused(exc.message, code=exc.code) from None
            # Idempotent: a no-op if scoring's reopen already unpublished.
            publication.on_reopened(skill, by_user, reason, now=now)
            locked.status = Appeal.Status.UPHELD
            action = AppealEvent.Action.UPHELD
        else:
            locked.status = Appeal.Status.REJECTED
            action = AppealEvent.Action.REJECTED
        locked.decided_at = now
        locked.decided_by = by_user
        locked.save(update_fields=["status", "decided_at", "decided_by"])
        AppealEvent.objects.create(appeal=locked, action=action, actor=by_user, text=text, at=now)
    appeal.refresh_from_db()
    return appeal
