# admin: ready for import-export
"""Organisers manage delegations, quotas, athletes, entries and judges here.

Organisers are the only role that reaches the admin, so full ID numbers are
shown here; everywhere else they are masked.
"""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from portal.admin import OrganiserInline, OrganiserModelAdmin
from portal.import_formats import BoundedImportExportMixin

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
    def athlete_count(self, obj: Delegation) -> int:
        return obj._athletes

    @admin.display(description=_("judges"), ordering="_judges")
    def judge_count(self, obj: Delegation) -> int:
        return obj._judges


@admin.register(Quota)
class QuotaAdmin(OrganiserModelAdmin):
    list_display = ["skill", "delegation", "max_entries"]
    list_filter = ["skill__event", "delegation"]
    search_fields = ["skill__code", "skill__name", "delegation__code", "delegation__name"]
    list_editable = ["max_entries"]
    autocomplete_fields = ["skill", "delegation"]
    list_select_related = ["skill", "delegation"]


@admin.register(Athlete)
class AthleteAdmin(OrganiserModelAdmin):
    list_display = ["name", "delegation", "gender", "birth_date", "id_number", "employer"]
    list_filter = ["delegation", "gender"]
    search_fields = ["name", "id_number", "employer", "delegation__name", "delegation__code"]
    autocomplete_fields = ["delegation"]
    list_select_related = ["delegation"]


class EntryMemberInline(OrganiserInline, admin.TabularInline):
    model = EntryMember
    extra = 0
    autocomplete_fields = ["athlete"]


@admin.register(Entry)
class EntryAdmin(ExportMixin, OrganiserModelAdmin):
    # Export only: entries import through the event workbook page (rules span rows).
    resource_classes = [EntryRowAdminResource]
    list_display = ["competitor_no", "skill", "delegation", "member_names", "status"]
    list_filter = ["skill__event", "status", "skill", "delegation"]
    search_fields = ["competitor_no", "skill__code", "skill__name", "athletes__name"]
    autocomplete_fields = ["skill", "delegation"]
    list_select_related = ["skill", "delegation"]
    inlines = [EntryMemberInline]
    ordering = ["skill__event", "skill__code", "competitor_no"]

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
