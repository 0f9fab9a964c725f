from django.contrib.admin.apps import AdminConfig

from . import i18n


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.OrganiserAdminSite"

    def ready(self) -> None:
        super().ready()
        # Chinese without any script: compile the catalogues Django is about
        # to load if they are missing or older than their .po files.
        i18n.compile_stale()
