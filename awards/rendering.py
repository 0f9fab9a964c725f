"""What a certificate prints and its PDF, stored once per content
(docs/awards.md); the sample certificate of the layout editor is drawn by
the same code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import certificates
from .layouts import drawing_layout
from .models import (
    Certificate,
    CertificateLayout,
)
from .serials import format_serial


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


def certificates_for_render(ids: Iterable[int]):
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
