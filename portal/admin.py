"""The admin is the organisers' console: only organisers get in."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from teams.roles import is_organiser


class OrganiserAdminSite(admin.AdminSite):
    site_header = _("Skills Competition Portal · Organisers")
    site_title = _("Skills Competition Portal")
    index_title = _("Programme configuration")

    def has_permission(self, request) -> bool:
        return is_organiser(request.user)


class OrganiserModelAdmin(admin.ModelAdmin):
    """Base for the portal's own models: organisers may do everything here;
    the rules that limit them live in the services the admin calls."""

    list_per_page = 50

    def has_view_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    has_module_permission = has_view_permission

    def has_add_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)


class OrganiserInline:
    """Mixin for inlines with the same rule."""

    def has_view_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)
