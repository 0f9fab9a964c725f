"""Organisers' console for awards: policy settings and layouts are editable;
awards, medal tables and batches are read-only (services write them);
certificates can be revoked."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from competitions.models import AwardPolicy
from portal.admin import OrganiserModelAdmin

from . import issuing, layouts
from .models import (
    Award,
    AwardSettings,
    Certificate,
    CertificateBatch,
    CertificateLayout,
)


class ReadOnlyAdmin(OrganiserModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AwardSettings)
class AwardSettingsAdmin(OrganiserModelAdmin):
    list_display = [
        "programme",
        "skill",
        "first_percent",
        "second_percent",
        "third_percent",
        "excellence_threshold",
        "title_cutoff_individual",
        "title_cutoff_pair",
        "title_cutoff_team",
    ]
    list_filter = ["programme"]
    raw_id_fields = ["skill"]
    fieldsets = [
        (None, {"fields": ["programme", "skill"]}),
        (
            _("Ratio policy (一/二/三等奖)"),
            {"fields": ["first_percent", "second_percent", "third_percent"]},
        ),
        (_("WorldSkills policy"), {"fields": ["excellence_threshold"]}),
        (
            _("National policy: title"),
            {
                "fields": [
                    "title_name",
                    "title_cutoff_individual",
                    "title_cutoff_pair",
                    "title_cutoff_team",
                ]
            },
        ),
        (
            _("Titles policy (技术能手 / 优胜者)"),
            {"fields": ["expert_percent", "winner_percent", "winner_title_name"]},
        ),
    ]


@admin.register(CertificateLayout)
class CertificateLayoutAdmin(OrganiserModelAdmin):
    list_display = ["programme", "page_size", "orientation", "version", "editor", "updated_at"]
    readonly_fields = ["version", "updated_at", "editor"]
    # Backgrounds are uploaded in the layout editor, which normalises them.
    exclude = ["background", "background_render"]

    @admin.display(description=_("editor"))
    def editor(self, obj: CertificateLayout) -> str:
        if not obj.pk:
            return "-"
        url = reverse("awards:layout_editor", args=[obj.programme.code])
        return format_html('<a href="{}">{}</a>', url, _("Open the layout editor"))

    def save_model(self, request, obj, form, change) -> None:
        # Same path as the editor: the version goes up so batches redraw.
        layouts.save_layout(
            obj, page_changed=bool({"page_size", "orientation"} & set(form.changed_data))
        )


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["entry", "skill", "rank", "kind", "title", "policy_name", "computed_at"]
    list_filter = ["kind", "title", "skill__event"]
    search_fields = ["entry__competitor_no", "skill__code", "skill__name"]
    list_select_related = ["entry__skill", "skill"]
    readonly_fields = ("entry", "skill", "rank", "kind", "title", "policy_name", "computed_at")
    fields = readonly_fields

    @admin.display(description=_("policy"), ordering="policy")
    def policy_name(self, obj: Award) -> str:
        """The policy by its name, not its stored key."""
        try:
            return str(AwardPolicy(obj.policy).label)
        except ValueError:
            return obj.policy


@admin.register(CertificateBatch)
class CertificateBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "event", "status", "done", "total", "errors", "created_at", "archive"]
    list_filter = ["status", "event"]
    readonly_fields = [
        "event",
        "status",
        "total",
        "done",
        "rendered",
        "errors",
        "error_log",
        "created_by",
        "created_at",
        "finished_at",
        "archive",  # the zip: handed out only through files' checked download view
    ]


@admin.register(Certificate)
class CertificateAdmin(OrganiserModelAdmin):
    list_display = [
        "serial",
        "athlete",
        "delegation",
        "award_text",
        "event",
        "generated_at",
        "revoked",
    ]
    list_filter = ["revoked", "category", "event"]
    search_fields = ["serial", "athlete__name"]
    list_select_related = ["athlete", "delegation", "event"]
    readonly_fields = [
        "serial",
        "programme",
        "event",
        "entry",
        "athlete",
        "delegation",
        "category",
        "award_kind",
        "award_text",
        "issued_at",
        "fingerprint",
        "layout_version",
        "generated_at",
        "render_count",
        "revoked",
        "revoked_at",
    ]
    exclude = ["file"]
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # certificates are issued by issuing.issue_certificates

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a serial must keep answering the QR code

    @admin.action(description=_("Revoke the selected certificates"))
    def revoke(self, request, queryset) -> None:
        n = 0
        for cert in queryset.filter(revoked=False):
            issuing.revoke_certificate(cert, _("revoked by %(user)s") % {"user": request.user})
            n += 1
        self.message_user(
            request,
            ngettext("%d certificate revoked.", "%d certificates revoked.", n) % n,
            messages.SUCCESS,
        )
