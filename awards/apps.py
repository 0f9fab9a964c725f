from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "awards"
    verbose_name = _("Awards")

    def ready(self) -> None:
        from scoring.signals import results_changed
        from teams.signals import athlete_identity_changed

        from . import receivers  # visibility: the zips' download rules

        athlete_identity_changed.connect(
            receivers.reissue_certificates_of_renamed_athlete,
            dispatch_uid="awards.reissue_certificates_of_renamed_athlete",
        )
        results_changed.connect(
            receivers.queue_awards_of_changed_results,
            dispatch_uid="awards.queue_awards_of_changed_results",
        )
