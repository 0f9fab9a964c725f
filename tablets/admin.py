from django.contrib import admin

from .models import JudgeCredential, JudgeLink, RemarkRequest, TabletSession


@admin.register(TabletSession)
class TabletSessionAdmin(admin.ModelAdmin):
    list_display = [
        "judge",
        "via",
        "device",
        "ip_address",
        "created_at",
        "last_seen_at",
        "revoked_at",
    ]
    list_filter = ["via"]
    search_fields = ["judge__code"]
    readonly_fields = ["key_hash"]


@admin.register(JudgeCredential)
class JudgeCredentialAdmin(admin.ModelAdmin):
    list_display = ["judge", "set_at", "set_by"]
    readonly_fields = ["pin_hash"]


@admin.register(JudgeLink)
class JudgeLinkAdmin(admin.ModelAdmin):
    list_display = ["judge", "created_at", "revoked_at"]
    readonly_fields = ["token_hash"]


@admin.register(RemarkRequest)
class RemarkRequestAdmin(admin.ModelAdmin):
    list_display = ["entry", "aspect", "judge", "requested_by", "created_at", "resolved_at"]
