from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from teams.services import register_reveal_rule

        from . import signals, signoff  # noqa: F401  (signals connects the receivers)

        # Names are revealed to judges on sign-off: scoring's rule, asked by
        # teams' pages (teams is below scoring and cannot import it).
        register_reveal_rule(signoff.names_revealed)
