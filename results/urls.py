"""Included at the site root: ``path("", include("results.urls"))``."""

from django.urls import URLPattern, URLResolver, include, path

from . import advancement_views, publication_views, views

app_name = "results"

urlpatterns: list[URLPattern | URLResolver] = [
    # public
    path("results/", views.results_index, name="index"),
    path("results/exports/<int:job_id>/", views.export_job, name="export_job"),
    path("results/<slug:event_code>/", views.event_results, name="event"),
    path(
        "results/<slug:event_code>/skills/<str:skill_code>/",
        views.skill_ranking,
        name="skill",
    ),
    path("results/<slug:event_code>/medals/", views.medal_table, name="medals"),
    path("results/<slug:event_code>/scoreboard/", views.scoreboard, name="scoreboard"),
    path(
        "results/<slug:event_code>/scoreboard/live/",
        views.scoreboard_live,
        name="scoreboard_live",
    ),
    path("results/<slug:event_code>/export/", views.rankings_export, name="rankings_export"),
    # delegation lead
    path("lead/", views.lead_home, name="lead_home"),
    path("lead/<slug:event_code>/", views.lead_dashboard, name="lead_dashboard"),
    path("lead/<slug:event_code>/results.xlsx", views.lead_workbook, name="lead_workbook"),
    # organiser
    path("organiser/events/", views.organiser_events, name="organiser_events"),
    path("organiser/events/<slug:event_code>/", views.organiser_event, name="organiser_event"),
    path(
        "organiser/events/<slug:event_code>/readiness/",
        views.organiser_readiness,
        name="organiser_readiness",
    ),
]

# Organisers' publication and selection-round pages keep their addresses
# under /competitions/ (bookmarks, the printed run sheet), but live here: they
# act on scoring's results, which the competitions app sits below.
urlpatterns += [
    path(
        "competitions/",
        include(publication_views.urlpatterns + advancement_views.urlpatterns),
    ),
]
