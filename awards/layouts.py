"""Certificate layouts: the one of a programme, what the renderer draws from
it, and saving a change (docs/awards.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from competitions.models import Programme

from . import certificates
from .models import CertificateLayout
from .previews import normalise_background


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
