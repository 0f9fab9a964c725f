"""Every write and rule of the awards app (docs/awards.md).

Awards come from signed-off results only; medal tables and certificates
follow from stored awards. Celery tasks (``awards.tasks``) are thin wrappers
around the functions here; ``awards.tasks`` also holds the functions that
queue them (with ``transaction.on_commit``), so this module never imports the
tasks and the tasks import it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
import subprocess
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import quote

import rules
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Event, Programme, Skill
from competitions.publication import is_published
from scoring.models import EntryResult, SkillMarking
from teams.models import Delegation, Entry, EntryMember

from . import certificates, policies
from .models import (
    Award,
    AwardSettings,
    BatchDelegationZip,
    Certificate,
    CertificateBatch,
    CertificateChunk,
    CertificateLayout,
    MedalTable,
    MedalTableRow,
    SerialCounter,
)

log = logging.getLogger(__name__)


class AwardsRefused(Exception):
    """Awards cannot be computed (e.g. the skill's results are not signed off)."""


# ------------------------------------------------------------------ visibility


def results_visible(event: Event, user) -> bool:
    """May this user see the event's awards, medal table and certificates?

    Organisers always; delegation leads and the public once the organiser has
    published every skill of the event (competitions.publication decides)."""
    from competitions.publication import event_results_visible_to

    return event_results_visible_to(user, event)


def may_download_certificate(cert: Certificate, user) -> bool:
    """``awards.download_certificate`` (awards/permissions.py)."""
    return rules.has_perm("awards.download_certificate", user, cert)


def may_download_delegation_zip(batch: CertificateBatch, delegation: Delegation, user) -> bool:
    """``awards.download_delegation_zip`` (awards/permissions.py): a
    per-delegation zip goes to that delegation's lead (and organisers)."""
    return rules.has_perm("awards.download_delegation_zip", user, (batch, delegation))


# ------------------------------------------------------------------ awards


def settings_for(skill: Skill) -> AwardSettings:
    """The skill's override, else the programme's default, else built-in defaults."""
    override = AwardSettings.objects.filter(skill=skill).first()
    if override is not None:
        return override
    default = AwardSettings.objects.filter(
        programme_id=skill.event.programme_id, skill__isnull=True
    ).first()
    return default or AwardSettings(programme_id=skill.event.programme_id)


def _require_signed_off(skill: Skill) -> None:
    marking = SkillMarking.objects.filter(skill=skill).first()
    if marking is None or marking.status != SkillMarking.Status.SIGNED_OFF:
        raise AwardsRefused(
            _(
                "The results of %(skill)s are not signed off: awards are computed "
                "from signed-off results only."
            )
            % {"skill": skill}
        )


def compute_awards(skill: Skill) -> list[Award]:
    """Apply the skill's policy to its signed-off ranked results and store one
    Award row per winning entry. Idempotent: a re-run rewrites the same rows."""
    with transaction.atomic():
        # Lock the marking row so a reopen cannot slip in between check and write.
        SkillMarking.objects.select_for_update().filter(skill=skill).first()
        _require_signed_off(skill)
        results = list(
            EntryResult.objects.filter(
                skill=skill,
                rank__isnull=False,
                entry__status=Entry.Status.REGISTERED,
            ).values_list("entry_id", "rank", "scale_score")
        )
        # rank__isnull=False above: every rank is an int.
        ranked = [policies.Ranked(key=e, rank=cast(int, r), scale_score=s) for e, r, s in results]
        conf = settings_for(skill)
        outcomes = policies.apply_policy(
            skill.award_policy,
            ranked,
            team_size=skill.team_size,
            settings=conf.as_policy_settings(),
        )
        rank_of = {r.key: r.rank for r in ranked}
        now = timezone.now()
        winners = {o.key: o for o in outcomes if o.award or o.title}
        Award.objects.filter(skill=skill).exclude(entry_id__in=winners).delete()
        existing = {a.entry_id: a for a in Award.objects.filter(skill=skill)}
        stored = []
        for key, outcome in winners.items():
            award = existing.get(key) or Award(entry_id=key, skill=skill)
            award.kind = outcome.award
            award.title = outcome.title
            award.title_kind = outcome.title_code if outcome.title else ""
            award.policy = skill.award_policy
            award.rank = rank_of[key]
            award.computed_at = now
            stored.append(award)
        Award.objects.bulk_update(
            [a for a in stored if a.pk],
            ["kind", "title", "title_kind", "policy", "rank", "computed_at"],
        )
        Award.objects.bulk_create([a for a in stored if not a.pk])
    return sorted(stored, key=lambda a: (a.rank, a.entry_id))


def skill_medals(event: Event) -> list[dict]:
    """Gold/silver/bronze/excellence counts of each skill of the event."""
    counts = (
        Skill.objects.filter(event=event)
        .annotate(
            gold=Count("awards", filter=Q(awards__kind=policies.GOLD)),
            silver=Count("awards", filter=Q(awards__kind=policies.SILVER)),
            bronze=Count("awards", filter=Q(awards__kind=policies.BRONZE)),
            excellence=Count("awards", filter=Q(awards__kind=policies.EXCELLENCE)),
        )
        .order_by("code")
    )
    return [
        {
            "skill": s,
            "gold": s.gold,
            "silver": s.silver,
            "bronze": s.bronze,
            "excellence": s.excellence,
        }
        for s in counts
    ]


def _store_table(programme: Programme, event: Event | None, awards: Iterable) -> MedalTable:
    pairs = [(code, kind) for code, kind in awards]
    tallies = policies.order_medal_table(policies.tally(pairs).values())
    by_code = Delegation.objects.in_bulk([t.delegation_code for t in tallies], field_name="code")
    with transaction.atomic():
        if event is not None:
            table, _created = MedalTable.objects.select_for_update().get_or_create(
                event=event, defaults={"programme": programme, "computed_at": timezone.now()}
            )
        else:
            table, _created = MedalTable.objects.select_for_update().get_or_create(
                programme=programme, event=None, defaults={"computed_at": timezone.now()}
            )
        table.rows.all().delete()
        MedalTableRow.objects.bulk_create(
            MedalTableRow(
                table=table,
                position=i,
                place=t.place,
                delegation=by_code[t.delegation_code],
                gold=t.gold,
                silver=t.silver,
                bronze=t.bronze,
                excellence=t.excellence,
            )
            for i, t in enumerate(tallies, start=1)
        )
        table.computed_at = timezone.now()
        table.save(update_fields=["computed_at"])
    return table


def _medal_pairs(awards_qs) -> list[tuple[str, str | None]]:
    # One row per entry, so a team's medal counts once for its delegation.
    return list(
        awards_qs.filter(kind__in=[*policies.MEDALS, policies.EXCELLENCE]).values_list(
            "entry__delegation__code", "kind"
        )
    )


def compute_medal_table(event: Event) -> MedalTable:
    """Store the event's medal table: delegations with at least one medal or excellence."""
    return _store_table(
        event.programme, event, _medal_pairs(Award.objects.filter(skill__event=event))
    )


def compute_programme_medal_table(programme: Programme) -> MedalTable:
    return _store_table(
        programme,
        None,
        _medal_pairs(Award.objects.filter(skill__event__programme=programme)),
    )


def award_columns(skill: Skill) -> dict[int, tuple[str, str]]:
    """For the results workbook: entry id → (award, title) as printed in Chinese."""
    conf = settings_for(skill)
    return {
        a.entry_id: (
            policies.CHINESE_NAMES.get(a.kind or "", ""),
            conf.title_text(a.title_code) if a.title else "",
        )
        for a in Award.objects.filter(skill=skill)
    }


def medal_table_rows(event: Event) -> list[dict]:
    """For the results workbook's medal_table sheet (docs/formats.md)."""
    table = MedalTable.objects.filter(event=event).first() or compute_medal_table(event)
    return [
        {
            "place": r.place,
            "delegation_code": r.delegation.code,
            "gold": r.gold,
            "silver": r.silver,
            "bronze": r.bronze,
            "excellence": r.excellence,
            "delegation_name": r.delegation.name,
        }
        for r in table.rows.select_related("delegation")
    ]


# ------------------------------------------------------------------ certificates


@dataclass
class IssueSummary:
    issued: int = 0
    revoked: int = 0
    kept: int = 0


# Crockford's base32: digits and capitals without I, L, O, U, so a serial
# read out over the phone cannot be misheard as another (docs/verification.md).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_LENGTH = 5  # 32⁵ ≈ 33.5 million possibilities per serial number
SERIAL_MAX_LENGTH = 60  # the model field's length; anything longer is unknown
_CROCKFORD_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})


def random_check() -> str:
    """The random part of a serial, from the operating system's CSPRNG."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(CHECK_LENGTH))


def format_serial(programme: Programme, number: int, check: str) -> str:
    """``JS2026-2026-000123-7KQ4M``: the programme, its year, a running number
    (never re-used) and a random check part, so serials cannot be walked."""
    return f"{programme.code.upper()}-{programme.year}-{number:06d}-{check}"


def normalise_serial(text: str) -> str:
    """A serial as typed or read out: capitals, surrounding spaces dropped,
    and in the check part I/L read as 1 and O as 0 (Crockford)."""
    text = text.strip().upper()
    head, dash, check = text.rpartition("-")
    if not dash:
        return text
    return f"{head}-{check.translate(_CROCKFORD_READ)}"


def _allocate_serials(programme: Programme, count: int) -> list[str]:
    """Reserve ``count`` new serial numbers; the counter row lock serialises
    concurrent issuers, and the counter never goes down."""
    if count == 0:
        return []
    SerialCounter.objects.bulk_create([SerialCounter(programme=programme)], ignore_conflicts=True)
    counter = SerialCounter.objects.select_for_update().get(programme=programme)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [format_serial(programme, n, random_check()) for n in range(first, first + count)]


def revoke_certificate(cert: Certificate, reason: str) -> None:
    Certificate.objects.filter(pk=cert.pk, revoked=False).update(
        revoked=True, revoked_at=timezone.now(), revoked_reason=reason[:200]
    )


def issue_certificates(event: Event) -> IssueSummary:
    """Bring the event's certificates in line with its awards: one live
    certificate per athlete (each member of a team) for every award and for
    the title. A certificate whose award changed or disappeared is revoked and
    the athlete gets a new one with a new serial; serials are never re-used."""
    summary = IssueSummary()
    programme = event.programme
    with transaction.atomic():
        desired: dict[tuple[int, int, str], tuple[str, str, int]] = {}
        title_settings: dict[int, AwardSettings] = {}
        awards = Award.objects.filter(skill__event=event).select_related("entry", "skill")
        members = defaultdict(list)
        for m in EntryMember.objects.filter(entry__award__skill__event=event).order_by("pk"):
            members[m.entry_id].append(m.athlete_id)
        for award in awards:
            for athlete_id in members[award.entry_id]:
                if award.kind:
                    desired[(award.entry_id, athlete_id, Certificate.Category.AWARD)] = (
                        award.kind,
                        policies.CHINESE_NAMES[award.kind],
                        award.entry.delegation_id,
                    )
                if award.title:
                    if award.skill_id not in title_settings:
                        title_settings[award.skill_id] = settings_for(award.skill)
                    # The 技术能手 title keeps the kind "title" its certificates
                    # always had; the titles policy's 优胜者 is "winner".
                    code = award.title_code
                    desired[(award.entry_id, athlete_id, Certificate.Category.TITLE)] = (
                        "title" if code == policies.TECHNICAL_EXPERT else code,
                        title_settings[award.skill_id].title_text(code),
                        award.entry.delegation_id,
                    )
        live = {
            (c.entry_id, c.athlete_id, c.category): c
            for c in Certificate.objects.select_for_update().filter(event=event, revoked=False)
        }
        for key, cert in live.items():
            want = desired.get(key)
            if want is None or want[0] != cert.award_kind or want[1] != cert.award_text:
                revoke_certificate(cert, "award changed" if want else "award withdrawn")
                summary.revoked += 1
            else:
                summary.kept += 1
        missing = [
            k
            for k in desired
            if k not in live
            or live[k].award_kind != desired[k][0]
            or live[k].award_text != desired[k][1]
        ]
        serials = _allocate_serials(programme, len(missing))
        Certificate.objects.bulk_create(
            Certificate(
                serial=serial,
                programme=programme,
                event=event,
                entry_id=entry_id,
                athlete_id=athlete_id,
                delegation_id=desired[(entry_id, athlete_id, category)][2],
                category=category,
                award_kind=desired[(entry_id, athlete_id, category)][0],
                award_text=desired[(entry_id, athlete_id, category)][1],
            )
            for (entry_id, athlete_id, category), serial in zip(missing, serials, strict=True)
        )
        summary.issued = len(missing)
    return summary


def layout_for(programme: Programme) -> CertificateLayout:
    layout, _created = CertificateLayout.objects.get_or_create(
        programme=programme,
        defaults={"fields": certificates.default_fields()},
    )
    return layout


_background_cache: dict[tuple[int, int], bytes | None] = {}


def drawing_layout(layout: CertificateLayout) -> certificates.Layout:
    """The plain layout the renderer draws, background bytes read once per version."""
    key = (layout.pk or 0, layout.version)
    if key not in _background_cache:
        data = None
        if layout.background_render:
            with default_storage.open(layout.background_render.name, "rb") as fh:
                data = fh.read()
        _background_cache.clear()  # one layout at a time is all a worker needs
        _background_cache[key] = data
    return certificates.Layout(
        page_size=layout.page_size,
        orientation=layout.orientation,
        fields=certificates.layout_fields(layout.fields, layout.page_size, layout.orientation),
        draw_border=layout.draw_border,
        background=_background_cache[key],
        version=layout.version,
    )


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def verify_url(serial: str) -> str:
    """The absolute URL the QR code carries (PORTAL_BASE_URL + /verify/<serial>/).

    Settings give a development site a local default; in production an unset
    PORTAL_BASE_URL would print a dead QR code on every certificate, so it is
    an error here too (the system check says so at start)."""
    base = getattr(settings, "PORTAL_BASE_URL", "")
    if not base:
        raise ImproperlyConfigured("PORTAL_BASE_URL must be set when DEBUG is off")
    try:
        path = reverse("awards:verify", args=[serial])
    except NoReverseMatch:  # awards.urls not included in this URLconf (e.g. a bare worker)
        path = f"/verify/{quote(serial)}/"
    return base.rstrip("/") + path


def certificate_data(cert: Certificate, layout: CertificateLayout) -> certificates.CertificateData:
    """What the certificate prints, from the current names in the database
    (a corrected name changes the fingerprint, so the PDF is redrawn)."""
    event = cert.event
    day = (
        layout.certificate_date
        or event.ends_on
        or timezone.localdate(cert.issued_at or timezone.now())
    )
    return certificates.CertificateData(
        programme=cert.programme.name,
        athlete=cert.athlete.name,
        delegation=cert.delegation.name,
        skill=cert.entry.skill.name,
        award=cert.award_text,
        date=chinese_date(day),
        issuing_body=cert.programme.issuing_body,
        serial=cert.serial,
        verify_url=verify_url(cert.serial),
    )


def _certificates_for_render(ids: Iterable[int]):
    return Certificate.objects.filter(pk__in=list(ids), revoked=False).select_related(
        "programme", "event", "athlete", "delegation", "entry__skill"
    )


def render_certificate(
    cert: Certificate, layout: CertificateLayout, drawn: certificates.Layout | None = None
) -> bool:
    """Render and store the PDF unless an identical one is stored already.
    Returns True when it rendered."""
    data = certificate_data(cert, layout)
    fp = certificates.fingerprint(data, layout.version)
    if cert.fingerprint == fp and cert.file and default_storage.exists(cert.file.name):
        return False
    pdf = certificates.render_pdf(data, drawn or drawing_layout(layout))
    name = cert.file.field.generate_filename(cert, f"{cert.serial}.pdf")
    # Same name on every render: remove the old file first, or the storage
    # would pick a new suffixed name and leave the old one behind.
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(pdf))
    Certificate.objects.filter(pk=cert.pk).update(
        file=stored,
        fingerprint=fp,
        layout_version=layout.version,
        generated_at=timezone.now(),
        render_count=F("render_count") + 1,
    )
    cert.file.name, cert.fingerprint = stored, fp
    return True


# ------------------------------------------------------------------ batches


def chunk_size() -> int:
    return int(getattr(settings, "AWARDS_CERTIFICATE_CHUNK", 100))


def batch_ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "AWARDS_BATCH_TTL_HOURS", 24 * 7)))


def create_batch(event: Event, user=None, *, size: int | None = None) -> CertificateBatch:
    """A new, empty batch; ``tasks.start_batch`` creates one and queues it."""
    return CertificateBatch.objects.create(
        event=event, created_by=user, chunk_size=max(1, size or chunk_size())
    )


def prepare_batch(batch: CertificateBatch) -> list[int]:
    """Issue the event's certificates and cut the live ones into chunks; on a
    redelivery the chunks already made are kept. Returns the open chunk ids."""
    with transaction.atomic():
        batch = CertificateBatch.objects.select_for_update().get(pk=batch.pk)
        if not batch.chunks.exists():
            issue_certificates(batch.event)
            ids = list(
                Certificate.objects.filter(event=batch.event, revoked=False)
                .order_by("delegation__code", "serial")
                .values_list("pk", flat=True)
            )
            size = batch.chunk_size
            CertificateChunk.objects.bulk_create(
                CertificateChunk(batch=batch, index=i // size, certificate_ids=ids[i : i + size])
                for i in range(0, len(ids), size)
            )
            batch.total = len(ids)
        if batch.status == CertificateBatch.Status.PENDING:
            batch.status = CertificateBatch.Status.RENDERING
        batch.save(update_fields=["total", "status"])
    return list(batch.chunks.filter(completed=False).values_list("pk", flat=True))


def _refresh_batch_counts(batch_id: int) -> None:
    totals = CertificateChunk.objects.filter(batch_id=batch_id).aggregate(
        done=Coalesce(Sum("done"), 0), errors=Coalesce(Sum("errors"), 0)
    )
    CertificateBatch.objects.filter(pk=batch_id).update(**totals)


PROGRESS_EVERY = 10


def render_chunk(chunk_id: int) -> bool:
    """Render one chunk; returns True when this call completed the last chunk
    (the caller then packs the batch). Safe to run again: certificates whose
    stored PDF matches their fingerprint are skipped, and the counts are set,
    not added, so a redelivered chunk never counts twice."""
    chunk = CertificateChunk.objects.select_related("batch__event__programme").get(pk=chunk_id)
    if chunk.completed:
        return False
    CertificateChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    layout = layout_for(chunk.batch.event.programme)
    drawn = drawing_layout(layout)
    done = errors = rendered = 0
    problems: list[str] = []
    certs = {c.pk: c for c in _certificates_for_render(chunk.certificate_ids)}
    for i, cert_id in enumerate(chunk.certificate_ids, start=1):
        cert = certs.get(cert_id)
        if cert is None:  # revoked meanwhile: nothing to draw, nothing owed
            done += 1
            continue
        try:
            rendered += render_certificate(cert, layout, drawn)
            done += 1
        except DatabaseError:
            raise  # the database is away: let the task retry the chunk
        except Exception as exc:  # one bad certificate must not sink the batch
            errors += 1
            problems.append(f"{cert.serial}: {exc}")
            log.exception("certificate %s failed", cert.serial)
        if i % PROGRESS_EVERY == 0:
            CertificateChunk.objects.filter(pk=chunk_id).update(done=done, errors=errors)
            _refresh_batch_counts(chunk.batch_id)
    CertificateChunk.objects.filter(pk=chunk_id).update(done=done, errors=errors)
    if problems:
        CertificateBatch.objects.filter(pk=chunk.batch_id).update(
            error_log=Concat(F("error_log"), Value("\n".join(problems) + "\n"))
        )
    if rendered:
        CertificateBatch.objects.filter(pk=chunk.batch_id).update(rendered=F("rendered") + rendered)
    return complete_chunk(chunk_id)


def complete_chunk(chunk_id: int) -> bool:
    """Mark a chunk complete; True for the one call that finds every chunk of
    the batch complete. Runs in autocommit on purpose: each statement sees
    what the other chunks committed, so at least one of two chunks finishing
    together sees the batch complete, and the conditional status update lets
    exactly one of them go on to pack it."""
    chunk = CertificateChunk.objects.get(pk=chunk_id)
    CertificateChunk.objects.filter(pk=chunk_id, completed=False).update(completed=True)
    _refresh_batch_counts(chunk.batch_id)
    if CertificateChunk.objects.filter(batch_id=chunk.batch_id, completed=False).exists():
        return False
    return bool(
        CertificateBatch.objects.filter(
            pk=chunk.batch_id, status=CertificateBatch.Status.RENDERING
        ).update(status=CertificateBatch.Status.ZIPPING)
    )


def fail_batch(batch_id: int, reason: str) -> None:
    """Retries of the batch's own task exhausted: say so on the progress page."""
    CertificateBatch.objects.filter(pk=batch_id).exclude(
        status=CertificateBatch.Status.DONE
    ).update(
        status=CertificateBatch.Status.FAILED,
        finished_at=timezone.now(),
        error_log=Concat(F("error_log"), Value(f"{reason}\n")),
    )


def fail_chunk(chunk_id: int, reason: str) -> bool:
    """A chunk that exhausted its retries: count what it did not draw as
    errors and let the batch finish with what it has."""
    chunk = CertificateChunk.objects.get(pk=chunk_id)
    missing = len(chunk.certificate_ids) - chunk.done
    CertificateChunk.objects.filter(pk=chunk_id).update(errors=max(missing, chunk.errors))
    CertificateBatch.objects.filter(pk=chunk.batch_id).update(
        error_log=Concat(F("error_log"), Value(f"chunk {chunk.index}: {reason}\n"))
    )
    return complete_chunk(chunk_id)


def _zip_name(cert: Certificate) -> str:
    safe = "".join(ch for ch in cert.athlete.name if ch not in '/\\:*?"<>|')
    return f"{cert.entry.skill.code}-{safe}-{cert.award_text}-{cert.serial}.pdf"


def finish_batch(batch_id: int) -> CertificateBatch:
    """Pack the batch: one zip of everything and one per delegation, stored
    with an expiry. Re-running replaces the zips."""
    with transaction.atomic():
        # The row lock makes a second packer (a redelivered message) wait and
        # then find the batch done, instead of packing the same files twice.
        batch = (
            CertificateBatch.objects.select_for_update().select_related("event").get(pk=batch_id)
        )
        if batch.status == CertificateBatch.Status.DONE:
            return batch
        _pack(batch)
    batch.refresh_from_db()
    return batch


def _pack(batch: CertificateBatch) -> None:
    ids = [i for c in batch.chunks.all() for i in c.certificate_ids]
    certs = (
        _certificates_for_render(ids)
        .exclude(file="")
        .order_by("delegation__code", "entry__skill__code", "serial")
    )
    prefix = f"awards/batches/{batch.pk}"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        everything = zipfile.ZipFile(tmpdir / "all.zip", "w", zipfile.ZIP_STORED)
        per_delegation: dict[int, tuple[zipfile.ZipFile, Path, list[int]]] = {}
        for cert in certs:
            try:
                with default_storage.open(cert.file.name, "rb") as fh:
                    pdf = fh.read()
            except OSError:
                continue
            name = _zip_name(cert)
            # PDFs are compressed already: storing is as small and much faster.
            everything.writestr(f"{cert.delegation.code}/{name}", pdf)
            if cert.delegation_id not in per_delegation:
                path = tmpdir / f"{cert.delegation_id}.zip"
                per_delegation[cert.delegation_id] = (
                    zipfile.ZipFile(path, "w", zipfile.ZIP_STORED),
                    path,
                    [0],
                )
            zf, _path, count = per_delegation[cert.delegation_id]
            zf.writestr(name, pdf)
            count[0] += 1
        everything.close()
        for old in batch.delegation_zips.all():
            default_storage.delete(old.file.name)
            old.delete()
        if batch.zip_file:
            default_storage.delete(batch.zip_file.name)
        with open(tmpdir / "all.zip", "rb") as fh:
            zip_name = default_storage.save(f"{prefix}/{batch.event.code}-certificates.zip", fh)
        codes = dict(Delegation.objects.filter(pk__in=per_delegation).values_list("pk", "code"))
        for delegation_id, (zf, path, count) in per_delegation.items():
            zf.close()
            with open(path, "rb") as fh:
                name = default_storage.save(
                    f"{prefix}/{batch.event.code}-{codes[delegation_id]}.zip", fh
                )
            BatchDelegationZip.objects.create(
                batch=batch, delegation_id=delegation_id, file=name, count=count[0]
            )
    now = timezone.now()
    _refresh_batch_counts(batch.pk)
    CertificateBatch.objects.filter(pk=batch.pk).update(
        zip_file=zip_name,
        status=CertificateBatch.Status.DONE,
        finished_at=now,
        expires_at=now + batch_ttl(),
    )


def batch_progress(batch: CertificateBatch) -> dict:
    return {
        "id": batch.pk,
        "status": batch.status,
        "status_display": str(batch.get_status_display()),
        "done": batch.done,
        "total": batch.total,
        "errors": batch.errors,
        "finished": batch.finished,
        "percent": round(100 * batch.done / batch.total) if batch.total else 0,
    }


def batch_files_available(batch: CertificateBatch, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        batch.status == CertificateBatch.Status.DONE
        and batch.zip_file
        and (batch.expires_at is None or batch.expires_at > now)
    )


def purge_expired_batches(now: dt.datetime | None = None) -> int:
    """Delete the zips of expired batches (the certificates themselves stay)."""
    now = now or timezone.now()
    purged = 0
    for batch in CertificateBatch.objects.filter(expires_at__lte=now).exclude(zip_file=""):
        for z in batch.delegation_zips.all():
            default_storage.delete(z.file.name)
            z.delete()
        default_storage.delete(batch.zip_file.name)
        CertificateBatch.objects.filter(pk=batch.pk).update(zip_file="")
        purged += 1
    return purged


# ------------------------------------------------------------------ layout


def normalise_background(upload_name: str, data: bytes, pagesize: tuple[float, float]) -> bytes:
    """Turn an uploaded image or PDF into one JPEG at 150 dpi of the page size:
    reportlab copies JPEG bytes into each PDF without re-encoding them."""
    from PIL import Image

    if upload_name.lower().endswith(".pdf") or data[:5] == b"%PDF-":
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "bg.pdf"
            src.write_bytes(data)
            # poppler-utils (Debian) rasterises the first page.
            subprocess.run(
                [
                    "pdftoppm",
                    "-r",
                    "150",
                    "-singlefile",
                    "-f",
                    "1",
                    "-png",
                    str(src),
                    str(Path(tmp) / "bg"),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            data = (Path(tmp) / "bg.png").read_bytes()
    image: Image.Image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.split()[-1])
        image = flat
    else:
        image = image.convert("RGB")
    w_px = round(pagesize[0] / 72 * 150)
    h_px = round(pagesize[1] / 72 * 150)
    image = image.resize((w_px, h_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def page_size_points(layout: CertificateLayout) -> tuple[float, float]:
    return certificates.Layout(page_size=layout.page_size, orientation=layout.orientation).pagesize


def layout_signature(layout: CertificateLayout) -> tuple:
    """What a certificate's look depends on (the background file aside)."""
    return (
        layout.page_size,
        layout.orientation,
        layout.draw_border,
        layout.certificate_date,
        # compared as the renderer sees them: 12 and 12.0, or a missing
        # default key and its default value, are no change
        certificates.layout_fields(layout.fields, layout.page_size, layout.orientation),
    )


def save_layout(
    layout: CertificateLayout,
    *,
    background: tuple[str, bytes] | None = None,
    clear_background: bool = False,
    page_changed: bool = False,
) -> CertificateLayout:
    """Save a layout change and bump its version, so the next batch renders
    every certificate drawn with the previous version again."""
    pagesize = page_size_points(layout)
    if clear_background:
        layout.background = ""
        layout.background_render = ""
    if background is not None:
        name, data = background
        jpeg = normalise_background(name, data, pagesize)
        layout.background.save(Path(name).name, ContentFile(data), save=False)
        layout.background_render.save(
            Path(name).stem + "-render.jpg", ContentFile(jpeg), save=False
        )
    elif layout.background and page_changed:
        # new page proportions: redo the normalised copy
        with default_storage.open(layout.background.name, "rb") as fh:
            jpeg = normalise_background(layout.background.name, fh.read(), pagesize)
        layout.background_render.save(
            Path(layout.background.name).stem + "-render.jpg", ContentFile(jpeg), save=False
        )
    layout.version = (layout.version or 0) + 1
    layout.save()
    return layout


def signed_off_skills(event: Event) -> list[Skill]:
    """The skills of the event whose awards can be computed."""
    return list(Skill.objects.filter(event=event, marking__status=SkillMarking.Status.SIGNED_OFF))


def preview_pdf(layout: CertificateLayout, background: bytes | None = None) -> bytes:
    """The sample certificate drawn by the same code as the real ones."""
    drawn = drawing_layout(layout) if layout.pk and background is None else None
    plain = certificates.Layout(
        page_size=layout.page_size,
        orientation=layout.orientation,
        fields=certificates.layout_fields(layout.fields, layout.page_size, layout.orientation),
        draw_border=layout.draw_border,
        background=(background or None) if drawn is None else drawn.background,
        version=layout.version,
    )
    data = certificates.SAMPLE
    programme = layout.programme
    data = certificates.CertificateData(
        programme=programme.name,
        athlete=data.athlete,
        delegation=data.delegation,
        skill=data.skill,
        award=data.award,
        date=chinese_date(layout.certificate_date or timezone.localdate()),
        issuing_body=programme.issuing_body or data.issuing_body,
        serial=format_serial(programme, 1, "7KQ4M"),
        verify_url=verify_url(format_serial(programme, 1, "7KQ4M")),
    )
    return certificates.render_pdf(data, plain)


def pdf_to_png(pdf: bytes, dpi: int = 60) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "p.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-singlefile", "-png", str(src), str(Path(tmp) / "p")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(tmp) / "p.png").read_bytes()


# ------------------------------------------------------------------ verification


@dataclass(frozen=True)
class Verification:
    status: str  # "valid", "revoked" or "unknown"
    name: str = ""
    skill: str = ""
    award: str = ""
    event: str = ""


def verify(serial: str) -> Verification:
    """What the public verification page may say: name, skill, award, event.

    A certificate whose skill is not published is answered exactly as a
    serial that does not exist: the organiser may issue certificates before
    publishing, and the page must not tell anybody more than the results do."""
    if len(serial) > SERIAL_MAX_LENGTH:
        return Verification("unknown")
    cert = (
        Certificate.objects.filter(serial=normalise_serial(serial))
        .select_related("athlete", "entry__skill", "event")
        .first()
    )
    if cert is None or not is_published(cert.entry.skill):
        return Verification("unknown")
    if cert.revoked:
        return Verification("revoked")
    return Verification(
        "valid",
        name=cert.athlete.name,
        skill=cert.entry.skill.name,
        award=cert.award_text,
        event=cert.event.name,
    )
