from django.contrib.admin.apps import AdminConfig
from django.utils.module_loading import autodiscover_modules
from rules.apps import RulesConfig

from portal import checks  # noqa: F401  (registers the portal's system checks)

from . import i18n


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.OrganiserAdminSite"

    def __init__(self, app_name, app_module) -> None:
        # Chinese without any script: compile the catalogues that are missing
        # or older than their .po files. This app comes first in
        # INSTALLED_APPS and Django builds the app configs before it imports
        # any model, admin module or view, so nothing has loaded a catalogue yet.
        i18n.compile_stale()
        super().__init__(app_name, app_module)


class AuthzConfig(RulesConfig):
    """django-rules, discovering each app's ``permissions.py`` instead of
    ``rules.py`` (scoring/rules.py holds the marking rules, not
    authorization): the named permissions of docs/roles.md are registered
    when the apps are ready."""

    def ready(self) -> None:
        autodiscover_modules("permissions")
