from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TabletsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tablets"
    verbose_name = _("Judges' tablets")
