"""Draws, closed pools and nominations are read-only here: the services
write them (a draw is a public record; a further draw goes through the
draw page with its reason)."""

from __future__ import annotations

from django.contrib import admin

from portal.admin import OrganiserModelAdmin

from .models import Draw, Nomination, PoolClosure


class ReadOnlyAdmin(OrganiserModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["skill", "seq", "source_skill", "count", "seed", "at", "by"]
    list_filter = ["skill__event"]


@admin.register(PoolClosure)
class PoolClosureAdmin(ReadOnlyAdmin):
    list_display = ["skill", "source_skill", "seed_source", "at", "by"]


@admin.register(Nomination)
class NominationAdmin(ReadOnlyAdmin):
    list_display = ["skill", "delegation", "source_competitor_no", "created_entry", "at", "by"]
    list_filter = ["skill__event"]
