from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Outcome
from .rewards import parse_amount
from .theory import MAX_BYTES


def _plain(value) -> str:
    """1000.00 → "1000", 2.50 → "2.5" (never "1E+3")."""
    return format(value.normalize(), "f")


class RewardsForm(forms.Form):
    """One row of inputs per outcome: bonus (yuan), credits, note."""

    def __init__(self, *args, register: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for value, _label in Outcome.choices:
            found = register.get(value)
            self.fields[f"{value}__bonus"] = forms.CharField(
                label=_("bonus (yuan)"),
                required=False,
                max_length=14,
                initial=_plain(found.bonus_yuan) if found else "",
            )
            self.fields[f"{value}__credits"] = forms.CharField(
                label=_("credits"),
                required=False,
                max_length=14,
                initial=_plain(found.credits) if found else "",
            )
            self.fields[f"{value}__note"] = forms.CharField(
                label=_("note"),
                required=False,
                max_length=200,
                initial=found.note if found else "",
            )
        self.outcomes = list(Outcome.choices)

    def clean(self):
        data = super().clean()
        for value, _label in Outcome.choices:
            for part in ("bonus", "credits"):
                key = f"{value}__{part}"
                try:
                    data[key] = parse_amount(data.get(key))
                except ValidationError as exc:
                    self.add_error(key, exc)
        return data

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            value: (d[f"{value}__bonus"], d[f"{value}__credits"], d[f"{value}__note"])
            for value, _label in Outcome.choices
        }

    def rows(self):
        for value, label in self.outcomes:
            yield (
                value,
                label,
                self[f"{value}__bonus"],
                self[f"{value}__credits"],
                self[f"{value}__note"],
            )


class TheoryUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Exam results (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    dry_run = forms.BooleanField(label=_("Check only, write nothing"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than 10 MB."))
        return upload
