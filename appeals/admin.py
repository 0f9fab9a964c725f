"""Organisers read appeals in the admin; every change goes through the
appeal pages (``appeals.services``), so the trace cannot be bypassed."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import OrganiserInline, OrganiserModelAdmin

from .models import Appeal, AppealAttachment, AppealEvent


class _ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AppealEventInline(_ReadOnly, OrganiserInline, admin.TabularInline):
    model = AppealEvent
    extra = 0
    readonly_fields = ("at", "action", "actor", "text")
    fields = readonly_fields


class AppealAttachmentInline(_ReadOnly, OrganiserInline, admin.TabularInline):
    model = AppealAttachment
    extra = 0
    readonly_fields = ("download", "content_type", "size", "uploaded_at")
    fields = readonly_fields

    @admin.display(description=_("file"))
    def download(self, obj: AppealAttachment) -> str:
        # Through the checking view: the storage has no public URL.
        return format_html(
            '<a href="{}">{}</a>', reverse("appeals:attachment", args=[obj.pk]), obj.original_name
        )


@admin.register(Appeal)
class AppealAdmin(_ReadOnly, OrganiserModelAdmin):
    list_display = ["__str__", "skill", "delegation", "status", "filed_at", "decided_at", "page"]
    list_filter = ["status", "skill__event"]
    search_fields = ["entry__competitor_no", "delegation__code", "delegation__name", "text"]
    date_hierarchy = "filed_at"
    readonly_fields = (
        "entry",
        "skill",
        "delegation",
        "status",
        "text",
        "filed_by",
        "filed_at",
        "deadline",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields
    inlines = [AppealAttachmentInline, AppealEventInline]
    list_select_related = ["entry", "skill", "delegation"]

    @admin.display(description=_("answer / decide"))
    def page(self, obj: Appeal) -> str:
        return format_html('<a href="{}">→</a>', reverse("appeals:detail", args=[obj.pk]))
