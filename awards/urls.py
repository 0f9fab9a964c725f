"""Awards pages. Included at the site root (``path("", include("awards.urls"))``)
so the QR code's ``/verify/<serial>/`` stays short; everything else lives
under ``awards/``."""

from django.urls import path

from . import views

app_name = "awards"

urlpatterns = [
    path("verify/<str:serial>/", views.verify, name="verify"),
    path("awards/events/<slug:event_code>/medals/", views.medal_table, name="medal_table"),
    path(
        "awards/programmes/<slug:programme_code>/medals/",
        views.programme_medal_table,
        name="programme_medal_table",
    ),
    path(
        "awards/events/<slug:event_code>/certificates/",
        views.certificates_page,
        name="certificates",
    ),
    path(
        "awards/events/<slug:event_code>/my-certificates/",
        views.lead_certificates,
        name="lead_certificates",
    ),
    path("awards/certificates/<str:serial>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path(
        "awards/programmes/<slug:programme_code>/layout/",
        views.layout_editor,
        name="layout_editor",
    ),
    path(
        "awards/programmes/<slug:programme_code>/layout/preview/",
        views.layout_preview,
        name="layout_preview",
    ),
]
