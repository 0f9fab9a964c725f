from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from competitions.models import Event, Skill

from .services import REASON_MAX, SEED_MAX


def _source_events(final: Skill):
    return Event.objects.filter(
        programme_id=final.event.programme_id, skills__code=final.code
    ).exclude(pk=final.event_id)


class CloseForm(forms.Form):
    source_event = forms.ModelChoiceField(label=_("Draw from event"), queryset=Event.objects.none())
    seed_source = forms.CharField(
        label=_("Where the seed will come from"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. the first prize number of a named lottery on a named date."),
    )

    def __init__(self, *args, final: Skill, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["source_event"]).queryset = _source_events(final)


class DrawForm(forms.Form):
    source_event = forms.ModelChoiceField(label=_("Draw from event"), queryset=Event.objects.none())
    count = forms.IntegerField(label=_("How many to draw"), min_value=1, max_value=10000)
    # Not stripped: the seed is hashed exactly as typed, and the service refuses spaces at the ends.
    seed = forms.CharField(label=_("Seed"), max_length=SEED_MAX, strip=False)
    reason = forms.CharField(
        label=_("Reason (required for a further draw)"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, final: Skill, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["source_event"]).queryset = _source_events(final)
