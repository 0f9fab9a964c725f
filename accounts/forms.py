from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from competitions.models import Event, Skill
from portal.admin import label_choices
from teams.models import Delegation, Judge

from . import services

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

ROLE_CHOICES = [
    (services.ROLE_LEAD, _("Delegation lead (per delegation)")),
    (services.ROLE_CHIEF, _("Chief judge (per skill)")),
    (services.ROLE_ORGANISER, _("Organiser")),
]
METHOD_CHOICES = [
    ("link", _("One-time sign-in link (the person sets a password)")),
    ("password", _("Temporary password on a printed sheet")),
]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    delegation = forms.ModelChoiceField(
        label=_("Delegation"),
        queryset=Delegation.objects.order_by("code"),
        required=False,
        help_text=_("For a delegation lead."),
    )
    skill = forms.ModelChoiceField(
        label=_("Skill"),
        queryset=Skill.objects.order_by("-event__starts_on", "event__code", "code"),
        required=False,
        help_text=_("For a chief judge."),
    )
    judge = forms.ModelChoiceField(
        label=_("Judge"),
        queryset=Judge.objects.order_by("code"),
        required=False,
        help_text=_(
            "For a chief judge: the judge (from the judges list) this account signs in as."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("delegation", "skill", "judge"):
            label_choices(self.fields[name])

    def spec(self) -> services.RoleSpec:
        d = self.cleaned_data
        return services.RoleSpec(
            d["role"], delegation=d.get("delegation"), skill=d.get("skill"), judge=d.get("judge")
        )


class AccountForm(RoleForm):
    username = forms.CharField(label=_("Username"), max_length=services.USERNAME_MAX)
    name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    method = forms.ChoiceField(
        label=_("First sign-in"),
        choices=METHOD_CHOICES,
        initial="link",
        widget=forms.RadioSelect,
    )
    field_order = ["username", "name", "email", "role", "delegation", "skill", "judge", "method"]


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)


class ResetForm(forms.Form):
    method = forms.ChoiceField(
        label=_("New sign-in"), choices=METHOD_CHOICES, initial="link", widget=forms.RadioSelect
    )


class BulkForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (.xlsx)"),
        help_text=_(
            "The event workbook (its judges sheet: one account per chief judge) and/or a "
            "leads sheet: delegation_code, username, name, email."
        ),
    )
    event = forms.ModelChoiceField(
        label=_("Event of the judges sheet"),
        queryset=Event.objects.order_by("-starts_on", "code"),
        required=False,
    )
    method = forms.ChoiceField(
        label=_("First sign-in"), choices=METHOD_CHOICES, initial="link", widget=forms.RadioSelect
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx workbook."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload
