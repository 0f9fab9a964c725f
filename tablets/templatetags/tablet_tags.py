"""``{% tablet_i18n %}``: the few words tablet.js shows, translated on the
server (so the JS needs no catalogue of its own) and embedded as JSON."""

from django import template
from django.utils.html import json_script
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def tablet_i18n() -> str:
    words = {
        "saved": _("Saved"),
        "pending": _("Waiting to send"),
        "sending": _("Sending…"),
        "refused": _("Refused"),
        "empty": _("Not marked"),
        "all_saved": _("All saved"),
        "n_pending": _("%(n)s marks waiting to send"),
        "offline": _("Offline"),
        "offline_kept": _(
            "Offline — marks are kept on this tablet and sent when the network returns."
        ),
        "signed_out": _(
            "This tablet is signed out. Sign in again: the marks not yet sent are kept."
        ),
        "stale": _("Changed meanwhile: now %(value)s on the server. Choose again."),
        "locked": _("Marks of this skill are signed off and locked."),
        "remark": _("The chief judge asks you to re-mark"),
        "remark_short": _("re-mark"),
        "retry": _("Not sent yet; retrying."),
        "unsent_logout": _(
            "%(n)s marks are not sent yet. Sign out anyway? They stay on this tablet."
        ),
        "invalid": _("Give a number from 0 to %(max)s."),
        "none": _("none"),
        "sign_in": _("Sign in"),
        "signed_out_short": _("Signed out"),
    }
    return json_script(words, "tablet-i18n")


@register.filter
def mark(value) -> str:
    """A mark or max mark without trailing zeros: 20, 9.5, 0.25."""
    from tablets.services import plain

    return plain(value)
