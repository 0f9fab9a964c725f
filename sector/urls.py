from django.urls import path

from . import views

app_name = "sector"

urlpatterns = [
    path("programmes/<slug:code>/", views.programme_page, name="programme"),
    path("programmes/<slug:code>/rewards/", views.rewards_edit, name="rewards"),
    path("programmes/<slug:code>/selection/", views.funnel_page, name="funnel"),
    path(
        "programmes/<slug:code>/selection/athletes/<int:athlete_id>/",
        views.athlete_path,
        name="path",
    ),
    path("events/<slug:event_code>/rewards.xlsx", views.rewards_download, name="rewards_download"),
    path("events/<slug:event_code>/theory/", views.theory_upload, name="theory"),
    path(
        "lead/<slug:event_code>/rewards.xlsx",
        views.lead_rewards_download,
        name="lead_rewards_download",
    ),
]
