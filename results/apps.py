from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "results"
    verbose_name = _("Results and rankings")

    def ready(self) -> None:
        # Celery's autodiscovery imports ``tasks`` modules only.
        # Registers the workbooks' download rule (files.permissions).
        from . import (
            refresh,  # noqa: F401
            services,  # noqa: F401
        )
