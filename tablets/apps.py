from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TabletsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tablets"
    verbose_name = _("Judges' tablets")

    def ready(self) -> None:
        from scoring.signals import collect_sign_off_warnings

        from . import receivers

        collect_sign_off_warnings.connect(
            receivers.open_remarks_before_sign_off,
            dispatch_uid="tablets.open_remarks_before_sign_off",
        )
