from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data: the believable programme behind ``manage.py seed_demo`` and
    the benchmarks. The top layer: it builds through every other app's
    services, and no other app imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = _("Demo data")
