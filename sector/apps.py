from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SectorConfig(AppConfig):
    """Sector programmes (岗位练兵、技术比武): rewards of titles and awards, the
    public programme page with its stages, theory exams from an exam system,
    and the selection funnel across rounds."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sector"
    verbose_name = _("Sector programmes")
