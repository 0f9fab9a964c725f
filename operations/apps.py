from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running the portal: backups, restores, the client address behind a proxy."""

    name = "operations"
    verbose_name = _("Operations")
