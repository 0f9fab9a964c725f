"""Django's own user pages are for superusers; organisers manage accounts
on the portal's account pages, and are sent there."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.shortcuts import redirect

from teams.roles import is_organiser


class PortalUserAdmin(UserAdmin):
    def changelist_view(self, request, extra_context=None):
        if not request.user.is_superuser and is_organiser(request.user):
            return redirect("accounts:list")
        return super().changelist_view(request, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        if not request.user.is_superuser and is_organiser(request.user):
            return redirect("accounts:new")
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not request.user.is_superuser and is_organiser(request.user) and object_id.isdigit():
            return redirect("accounts:detail", pk=int(object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or is_organiser(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or is_organiser(request.user)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
