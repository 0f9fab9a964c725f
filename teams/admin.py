# admin: ready for import-export
"""Organisers manage delegations, quotas, athletes, entries and judges here.

Organisers are the only role that reaches the admin, so full ID numbers are
shown here; everywhere else they are masked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from portal.admin import OrganiserInline, OrganiserModelAdmin
from portal.import_formats import BoundedImportExportMixin

from . import services
from .models import (
    Athlete,
    Delegation,
    DelegationLead,
    Entry,
    EntryMember,
    Judge,
    JudgeAssignment,
    Quota,
)
from .resources import DelegationResource, EntryRowAdminResource, JudgeAssignmentAdminResource

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Counts(TypedDict):
    _athletes: int
    _judges: int


class DelegationLeadInline(OrganiserInline, admin.TabularInline):
    model = DelegationLead
    extra = 0
    autocomplete_fields = ["user"]


class QuotaInline(OrganiserInline, admin.TabularInline):
    model = Quota
    extra = 0
    autocomplete_fields = ["skill"]


@admin.register(Delegation)
class DelegationAdmin(BoundedImportExportMixin, OrganiserModelAdmin):
    # The event workbook's delegations sheet; rows stand alone, so import works here.
    resource_classes = [DelegationResource]
    list_display = ["code", "name", "athlete_count", "judge_count"]
    search_fields = ["code", "name"]
    inlines = [DelegationLeadInline, QuotaInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _athletes=Count("athletes", distinct=True), _judges=Count("judges", distinct=True)
            )
        )

    @admin.display(description=_("athletes"), ordering="_athletes")
    def athlete_count(self, obj: WithAnnotations[Delegation, _Counts]) -> int:
        return obj._athletes

    @admin.display(description=_("judges"), ordering="_judges")
    def judge_count(self, obj: WithAnnotations[Delegation, _Counts]) -> int:
        return obj._judges


@admin.register(Quota)
class QuotaAdmin(OrganiserModelAdmin):
    list_display = ["skill", "delegation", "max_entries"]
    list_filter = ["skill__event", "delegation"]
    search_fields = ["skill__code", "skill__name", "delegation__code", "delegation__name"]
    list_editable = ["max_entries"]
    autocomplete_fields = ["skill", "delegation"]
    list_select_related = ["skill", "delegation"]


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required once registration has closed; kept with the change in the history."),
    )


class AthleteAdminForm(forms.ModelForm):
    change_reason = _reason_field()

    class Meta:
        model = Athlete
        fields = [
            "delegation",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "employer",
            "phone",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk:
            # self.instance still holds the stored values here.
            new_values = {
                k: data[k]
                for k in ("name", "id_number", "gender", "birth_date", "delegation")
                if k in data
            }
            problem = services.athlete_change_problem(
                self.instance, new_values, data.get("change_reason")
            )
            if problem is not None:
                self.add_error("change_reason", problem)
        return data


def _history_table(changes: list[services.IdentityChange]) -> str:
    if not changes:
        return "—"
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                timezone.localtime(c.at).strftime("%Y-%m-%d %H:%M"),
                c.by,
                "；".join(f"{label}: {old} → {new}" for label, old, new in c.changes),
                c.reason or "—",
            )
            for c in changes
        ),
    )
    return format_html(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        _("When"),
        _("By"),
        _("Change"),
        _("Reason"),
        rows,
    )


@admin.register(Athlete)
class AthleteAdmin(SimpleHistoryAdmin, OrganiserModelAdmin):
    form = AthleteAdminForm
    list_display = ["name", "delegation", "gender", "birth_date", "id_number", "employer"]
    list_filter = ["delegation", "gender"]
    search_fields = ["name", "id_number", "employer", "delegation__name", "delegation__code"]
    autocomplete_fields = ["delegation"]
    list_select_related = ["delegation"]
    readonly_fields = ["identity_history"]

    @admin.display(description=_("Changes of name, ID number and delegation"))
    def identity_history(self, obj: Athlete) -> str:
        if obj.pk is None:
            return "—"
        return _history_table(services.athlete_identity_history(obj, masked=False))

    def save_model(self, request, obj, form, change) -> None:
        # The service has the last word on the rules the form already checked.
        services.save_athlete_as_organiser(
            obj, actor=request.user, reason=form.cleaned_data.get("change_reason", "")
        )


class EntryAdminForm(forms.ModelForm):
    change_reason = _reason_field()

    class Meta:
        model = Entry
        fields = ["skill", "delegation", "competitor_no", "status"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        skill = data.get("skill")
        if skill is not None:
            locked = not skill.event.registration_open()
            problem = services.change_reason_problem(locked, True, data.get("change_reason"))
            if problem is not None:
                self.add_error("change_reason", problem)
        return data


class EntryMemberFormSet(BaseInlineFormSet):
    """The members as the organiser leaves them must pass the same rules as a
    lead's registration and the event workbook (teams.services.entry_rule_errors)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        entry = self.instance
        if not entry.skill_id or not entry.delegation_id:
            return  # the entry's own form has the error
        athletes = [
            form.cleaned_data["athlete"]
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("athlete")
            and not form.cleaned_data.get("DELETE")
        ]
        errors = services.entry_rule_errors(
            entry.skill, entry.delegation, athletes, entry=entry if entry.pk else None
        )
        if errors:
            raise ValidationError(errors)


class EntryMemberInline(OrganiserInline, admin.TabularInline):
    model = EntryMember
    formset = EntryMemberFormSet
    extra = 0
    autocomplete_fields = ["athlete"]


@admin.register(Entry)
class EntryAdmin(ExportMixin, SimpleHistoryAdmin, OrganiserModelAdmin):
    # Export only: entries import through the event workbook page (rules span rows).
    resource_classes = [EntryRowAdminResource]
    list_display = ["competitor_no", "skill", "delegation", "member_names", "status"]
    list_filter = ["skill__event", "status", "skill", "delegation"]
    search_fields = ["competitor_no", "skill__code", "skill__name", "athletes__name"]
    autocomplete_fields = ["skill", "delegation"]
    list_select_related = ["skill", "delegation"]
    inlines = [EntryMemberInline]
    ordering = ["skill__event", "skill__code", "competitor_no"]
    form = EntryAdminForm

    def save_model(self, request, obj, form, change) -> None:
        obj._change_reason = form.cleaned_data.get("change_reason", "").strip() or None
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change) -> None:
        # Members added or removed carry the entry's reason into their history.
        reason = form.cleaned_data.get("change_reason", "").strip() or None
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._change_reason = reason
            obj.delete()
        for obj in instances:
            obj._change_reason = reason
            obj.save()
        formset.save_m2m()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__athlete")

    @admin.display(description=_("athletes"))
    def member_names(self, obj: Entry) -> str:
        return "、".join(m.athlete.name for m in obj.members.all())


class JudgeAssignmentInline(OrganiserInline, admin.TabularInline):
    model = JudgeAssignment
    extra = 0
    autocomplete_fields = ["skill"]


@admin.register(Judge)
class JudgeAdmin(OrganiserModelAdmin):
    list_display = ["code", "name", "delegation", "skill_list", "user"]
    list_filter = ["delegation", "assignments__role", "assignments__skill__event"]
    search_fields = ["code", "name", "delegation__name", "assignments__skill__code"]
    autocomplete_fields = ["delegation", "user"]
    list_select_related = ["delegation", "user"]
    inlines = [JudgeAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assignments__skill")

    @admin.display(description=_("skills"))
    def skill_list(self, obj: Judge) -> str:
        return ", ".join(
            f"{a.skill.code}{_(' (chief)') if a.role == JudgeAssignment.Role.CHIEF else ''}"
            for a in obj.assignments.all()
        )


@admin.register(JudgeAssignment)
class JudgeAssignmentAdmin(ExportMixin, OrganiserModelAdmin):
    # Export only: judges import through the event workbook page (one chief per skill).
    resource_classes = [JudgeAssignmentAdminResource]
    list_display = ["judge", "skill", "role"]
    list_filter = ["role", "skill__event", "skill"]
    search_fields = ["judge__code", "judge__name", "skill__code", "skill__name"]
    autocomplete_fields = ["judge", "skill"]
    list_select_related = ["judge", "skill"]
