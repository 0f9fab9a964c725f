from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "results"
    verbose_name = _("Results and rankings")

    def ready(self) -> None:
        # Registers the workbooks' download rule (files.permissions).
        from . import services  # noqa: F401
