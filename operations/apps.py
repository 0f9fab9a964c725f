from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the portal: backups, restores, the client address behind a proxy."""

    name = "operations"
    verbose_name = "Operations"
