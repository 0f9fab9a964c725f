from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterchangeConfig(AppConfig):
    """The event workbook and the marking schemes in and out of Excel
    (docs/formats.md); above scoring, below results (docs/architecture.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "interchange"
    verbose_name = _("Workbooks and schemes")
