from django.apps import AppConfig


class AwardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "awards"

    def ready(self) -> None:
        from teams.signals import athlete_identity_changed

        from . import receivers

        athlete_identity_changed.connect(
            receivers.reissue_certificates_of_renamed_athlete,
            dispatch_uid="awards.reissue_certificates_of_renamed_athlete",
        )
