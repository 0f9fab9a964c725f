from django.contrib.admin.apps import AdminConfig

from portal import checks  # noqa: F401  (registers the portal's system checks)


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.OrganiserAdminSite"
