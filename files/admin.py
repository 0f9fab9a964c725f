from django.contrib import admin

from .models import GeneratedFile


@admin.register(GeneratedFile)
class GeneratedFileAdmin(admin.ModelAdmin):
    list_display = ["kind", "filename", "status", "progress", "owner", "created_at", "expires_at"]
    list_filter = ["kind", "status"]
    # Handed out only through the permission-checked download view.
    exclude = ["file"]
    readonly_fields = [f.name for f in GeneratedFile._meta.fields if f.name != "file"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False
