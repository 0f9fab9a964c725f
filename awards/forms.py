"""The certificate layout editor's form: page settings plus one row of inputs
per certificate field (position in mm, size, alignment, text, font, colour)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import certificates
from .models import CertificateLayout, Orientation, PageSize

FIELD_LABELS = {
    "title": _("Heading"),
    "athlete": _("Athlete"),
    "delegation": _("Delegation"),
    "programme": _("Programme"),
    "skill": _("Skill"),
    "award": _("Award"),
    "note": _("Closing line"),
    "issuing_body": _("Issuing body"),
    "date": _("Date"),
    "serial": _("Serial number"),
    "qr": _("QR code"),
}
ALIGN_CHOICES = [
    ("left", _("left")),
    ("center", _("centre")),
    ("right", _("right")),
]
FONT_CHOICES = [("song", _("Song (宋体)")), ("kai", _("Kai (楷体)")), ("hei", _("Hei (黑体)"))]
BACKGROUND_TYPES = (".png", ".jpg", ".jpeg", ".pdf")
MAX_BACKGROUND = 20 * 1024 * 1024


class LayoutForm(forms.Form):
    page_size = forms.ChoiceField(label=_("page size"), choices=PageSize.choices)
    orientation = forms.ChoiceField(label=_("orientation"), choices=Orientation.choices)
    draw_border = forms.BooleanField(label=_("draw a decorative border"), required=False)
    certificate_date = forms.DateField(
        label=_("date printed"),
        required=False,
        help_text=_("Empty: the last day of the event."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    background = forms.FileField(
        label=_("background (PNG, JPEG or PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(BACKGROUND_TYPES)}),
    )
    clear_background = forms.BooleanField(label=_("remove the background"), required=False)

    def __init__(self, *args, layout: CertificateLayout, **kwargs):
        specs = certificates.layout_fields(layout.fields, layout.page_size, layout.orientation)
        initial = {
            "page_size": layout.page_size,
            "orientation": layout.orientation,
            "draw_border": layout.draw_border,
            "certificate_date": layout.certificate_date,
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.layout = layout
        self.specs = specs
        for name in certificates.FIELDS:
            spec = specs[name]
            num = {"step": "0.5", "class": "num-input"}
            self.fields[f"{name}__x"] = forms.FloatField(
                initial=spec.x, widget=forms.NumberInput(attrs=num)
            )
            self.fields[f"{name}__y"] = forms.FloatField(
                initial=spec.y, widget=forms.NumberInput(attrs=num)
            )
            self.fields[f"{name}__size"] = forms.FloatField(
                initial=spec.size, min_value=0, widget=forms.NumberInput(attrs=num)
            )
            if name == "qr":
                continue
            self.fields[f"{name}__align"] = forms.ChoiceField(
                choices=ALIGN_CHOICES, initial=spec.align
            )
            self.fields[f"{name}__text"] = forms.CharField(
                initial=spec.text, required=name not in certificates.STATIC_FIELDS, max_length=200
            )
            self.fields[f"{name}__font"] = forms.ChoiceField(
                choices=FONT_CHOICES, initial=spec.font
            )
            self.fields[f"{name}__color"] = forms.RegexField(
                regex=r"^#[0-9a-fA-F]{6}$",
                initial=spec.color,
                widget=forms.TextInput(attrs={"type": "color"}),
            )

    def rows(self) -> list[dict]:
        """One row per certificate field, for the template's table."""
        out = []
        for name in certificates.FIELDS:
            out.append(
                {
                    "name": name,
                    "label": FIELD_LABELS[name],
                    "cells": [
                        self[f"{name}__{attr}"]
                        for attr in ("x", "y", "size", "align", "text", "font", "color")
                        if f"{name}__{attr}" in self.fields
                    ],
                }
            )
        return out

    def clean_background(self):
        upload = self.cleaned_data.get("background")
        if upload:
            if not upload.name.lower().endswith(BACKGROUND_TYPES):
                raise forms.ValidationError(_("Upload a PNG, JPEG or PDF file."))
            if upload.size > MAX_BACKGROUND:
                raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload

    def field_settings(self) -> dict[str, dict]:
        """The layout's ``fields`` JSON from the cleaned form, keeping keys the
        form does not show (max_width, after) from the stored layout."""
        data = self.cleaned_data
        out = {}
        for name in certificates.FIELDS:
            spec = self.specs[name]
            row = {"max_width": spec.max_width, "after": spec.after}
            for attr in ("x", "y", "size", "align", "text", "font", "color"):
                key = f"{name}__{attr}"
                if key in data:
                    row[attr] = data[key] if data[key] is not None else getattr(spec, attr)
                else:
                    row[attr] = getattr(spec, attr)
            if name in certificates.STATIC_FIELDS:
                row["text"] = data.get(f"{name}__text") or ""
            out[name] = row
        return out

    def apply(self, layout: CertificateLayout) -> None:
        """Copy the form onto a (possibly unsaved) layout object."""
        data = self.cleaned_data
        layout.page_size = data["page_size"]
        layout.orientation = data["orientation"]
        layout.draw_border = data["draw_border"]
        layout.certificate_date = data["certificate_date"]
        layout.fields = self.field_settings()
