from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import MAX_TEXT


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); the rules
    on type and size are the service's, so pages and scripts share them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("What is wrong with the result, and why"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=MAX_TEXT,
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, JPG, PNG or DOCX; up to 5 files of at most 10 MB each."),
    )
