# admin: ready for import-export
"""Organisers configure programmes, events and skills here."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import OrganiserInline, OrganiserModelAdmin
from portal.import_formats import BoundedImportExportMixin

from .models import Event, Phase, Programme, Skill
from .resources import SkillAdminResource

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _EventCount(TypedDict):
    _events: int


class _SkillCount(TypedDict):
    _skills: int


class _EntryCount(TypedDict):
    _entries: int


class PhaseInline(OrganiserInline, admin.TabularInline):
    model = Phase
    extra = 0
    min_num = 0
    fields = ["kind", "name", "starts_on", "ends_on", "description"]


class EventInline(OrganiserInline, admin.TabularInline):
    model = Event
    extra = 0
    fields = ["code", "name", "kind", "status", "starts_on", "ends_on", "venue"]
    show_change_link = True


@admin.register(Programme)
class ProgrammeAdmin(OrganiserModelAdmin):
    list_display = ["name", "code", "year", "default_award_policy", "event_count"]
    list_filter = ["year", "default_award_policy"]
    search_fields = ["name", "code"]
    inlines = [PhaseInline, EventInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "year", "issuing_body"]}),
        (
            _("Rules"),
            {
                "fields": [
                    "default_award_policy",
                    "scale_median",
                    "scale_spread",
                    "appeal_window_hours",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_events=Count("events"))

    @admin.display(description=_("events"), ordering="_events")
    def event_count(self, obj: WithAnnotations[Programme, _EventCount]) -> int:
        return obj._events


class SkillInline(OrganiserInline, admin.TabularInline):
    model = Skill
    extra = 0
    fields = ["code", "name", "team_size", "category", "award_policy", "judgement_aggregation"]
    show_change_link = True


@admin.register(Event)
class EventAdmin(OrganiserModelAdmin):
    list_display = [
        "name",
        "code",
        "programme",
        "kind",
        "status",
        "starts_on",
        "ends_on",
        "venue",
        "registration_deadline",
        "skill_count",
        "workbook",
    ]
    list_filter = ["programme", "kind", "status"]
    search_fields = ["name", "code", "venue"]
    date_hierarchy = "starts_on"
    list_select_related = ["programme"]
    inlines = [SkillInline]
    fieldsets = [
        (None, {"fields": ["programme", "code", "name", "kind", "status"]}),
        (_("Dates and venue"), {"fields": ["starts_on", "ends_on", "venue"]}),
        (_("Registration"), {"fields": ["registration_deadline"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_skills=Count("skills"))

    @admin.display(description=_("skills"), ordering="_skills")
    def skill_count(self, obj: WithAnnotations[Event, _SkillCount]) -> int:
        return obj._skills

    @admin.display(description=_("Excel workbook"))
    def workbook(self, obj: Event) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?event={}">{}</a>',
            reverse("interchange:event_workbook_export", args=[obj.code]),
            _("download"),
            reverse("interchange:event_workbook"),
            obj.code,
            _("import"),
        )


@admin.register(Skill)
class SkillAdmin(BoundedImportExportMixin, OrganiserModelAdmin):
    # Same columns as the event workbook's skills sheet, plus the event code.
    resource_classes = [SkillAdminResource]
    list_display = [
        "code",
        "name",
        "event",
        "team_size",
        "category",
        "award_policy",
        "judgement_aggregation",
        "entry_count",
        "scheme_link",
    ]
    list_filter = ["event", "category", "award_policy", "judgement_aggregation", "team_size"]
    search_fields = ["code", "name"]
    list_select_related = ["event"]
    ordering = ["event", "code"]
    readonly_fields = ["scheme_link"]
    fieldsets = [
        (None, {"fields": ["event", "code", "name", "team_size", "category", "scheme_link"]}),
        (
            _("Rules"),
            {"fields": ["award_policy", "judgement_aggregation", "discrepancy_tolerance"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    @admin.display(description=_("entries"), ordering="_entries")
    def entry_count(self, obj: WithAnnotations[Skill, _EntryCount]) -> int:
        return obj._entries

    @admin.display(description=_("Marking scheme"))
    def scheme_link(self, obj: Skill) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("interchange:skill_scheme", args=[obj.pk]),
            _("Marking scheme (view, upload CIS)"),
        )
