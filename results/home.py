"""The home page: a visitor sees the published results, the medal tables,
the ceremony screen and certificate verification, with sign-in for staff; a
signed-in user also sees what their roles may do. It lives with the results
(the top layer), which may read every app below it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from competitions.models import Event
from teams import roles

from . import services as results

SERIAL_MAX = 60  # awards.Certificate.serial


def _public_context(serial: str = "", error: str = "") -> dict:
    return {
        "public_events": results.events_with_results(),
        "serial": serial,
        "serial_error": error,
        "serial_max": SERIAL_MAX,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A visitor sees the published results, the medal tables, the ceremony
    screen and certificate verification, with sign-in for staff; a signed-in
    user sees what their roles may do."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html", _public_context())
    is_organiser = roles.is_organiser(user)
    return render(
        request,
        "home.html",
        {
            "is_organiser": is_organiser,
            "events": Event.objects.select_related("programme")[:12] if is_organiser else [],
            "delegation": roles.lead_delegation(user),
            "judge": roles.judge_of(user),
            "judged_skills": roles.judged_skills(user),
            "chief_skills": roles.chief_skills(user),
            **_public_context(),
        },
    )


@require_GET
def verify_lookup(request: HttpRequest) -> HttpResponse:
    """The home page's form: a typed serial goes to its verification page."""
    serial = "".join(request.GET.get("serial", "").split())[: SERIAL_MAX + 1]
    if serial and len(serial) <= SERIAL_MAX and "/" not in serial:
        return redirect("awards:verify", serial=serial)
    error = (
        _("Type the serial number printed on the certificate.")
        if not serial
        else _("This is not a certificate serial number.")
    )
    context = {**_public_context(serial, error), "public_only": True}
    return render(request, "home.html", context, status=400)
