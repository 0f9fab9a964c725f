from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from competitions.models import Event
from teams import roles


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A landing page listing what this user may do, by role."""
    user = request.user
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
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
