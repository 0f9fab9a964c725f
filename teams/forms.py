"""Forms of the delegation lead's pages.

They check what a form can check on its own (shapes, the ID number's
checksum, matching birth date and gender) so the lead sees errors next to the
fields; the services check everything again and have the last word.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill

from . import idnumbers
from .models import Athlete, Delegation, Gender
from .services import eligible_athletes


class AthleteForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
        help_text=_("18 characters; birth date and gender are taken from it when left blank."),
    )
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def __init__(
        self, *args, athlete: Athlete | None = None, locked: bool = False, **kwargs
    ) -> None:
        self.athlete = athlete
        if athlete is not None and "initial" not in kwargs:
            # Never put the full ID number into the page: leads see it masked.
            kwargs["initial"] = {
                "name": athlete.name,
                "gender": athlete.gender,
                "birth_date": athlete.birth_date,
                "employer": athlete.employer,
                "phone": athlete.phone,
            }
        super().__init__(*args, **kwargs)
        if athlete is not None and athlete.id_number:
            self.fields["id_number"].help_text = _(
                "Stored as %(masked)s. Leave blank to keep it; type a new number to replace it."
            ) % {"masked": athlete.masked_id_number}
        if locked:
            # Registration has closed: identity is the organisers' to change.
            # Name and ID number are still submitted, so a changed value is
            # refused with a message (teams.services.update_athlete); gender
            # and birth date keep their stored values.
            for name in ("name", "id_number"):
                self.fields[name].widget.attrs["readonly"] = "readonly"
            for name in ("gender", "birth_date"):
                self.fields[name].disabled = True
            self.fields["id_number"].help_text = _(
                "Locked since registration closed (stored as %(masked)s). "
                "Ask the organisers to correct it."
            ) % {"masked": athlete.masked_id_number if athlete else "—"}
            self.fields["name"].help_text = _(
                "Locked since registration closed. Ask the organisers to correct it."
            )

    def clean_id_number(self) -> str | None:
        value = idnumbers.normalise(self.cleaned_data.get("id_number"))
        if not value:
            return None
        idnumbers.validate_id_number(value)
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        id_number = data.get("id_number") or self.kept_id_number()
        if id_number and "id_number" not in self.errors:
            try:
                idnumbers.validate_matches(id_number, data.get("birth_date"), data.get("gender"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def kept_id_number(self) -> str | None:
        """The stored number, kept when the lead leaves the field blank."""
        return self.athlete.id_number if self.athlete is not None else None

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "gender": data.get("gender") or "",
            "birth_date": data.get("birth_date"),
            "id_number": data.get("id_number") or self.kept_id_number(),
            "employer": data.get("employer", ""),
            "phone": data.get("phone", ""),
        }


class AthleteChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Athlete) -> str:
        # The lead's own athletes; the masked number tells namesakes apart.
        return f"{obj.name}（{obj.masked_id_number}）" if obj.id_number else obj.name


class RegisterEntryForm(forms.Form):
    athletes = AthleteChoiceField(
        label=_("Athletes"),
        queryset=Athlete.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, delegation: Delegation, skill: Skill, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skill = skill
        # Scoped to the lead's delegation: another delegation's athlete is
        # simply not a valid choice.
        cast(AthleteChoiceField, self.fields["athletes"]).queryset = eligible_athletes(
            delegation, skill
        )
        self.fields["athletes"].help_text = _("Choose %(size)s.") % {"size": skill.team_size}

    def clean_athletes(self):
        chosen = self.cleaned_data["athletes"]
        if len(chosen) != self.skill.team_size:
            raise ValidationError(
                _("Choose exactly %(size)s athlete(s)."),
                params={"size": self.skill.team_size},
                code="wrong_team_size",
            )
        return chosen
