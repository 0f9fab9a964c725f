"""The interchange app's pages: the event workbook (import jobs, export,
template) and each skill's marking scheme (CIS or aspects sheet). Their
addresses are the ones they had before the app existed."""

from django.urls import path

from . import scheme_views, views

app_name = "interchange"
urlpatterns = [
    path("competitions/workbook/", views.event_workbook, name="event_workbook"),
    path("competitions/workbook/jobs/<int:job_id>/", views.import_job, name="import_job"),
    path(
        "competitions/workbook/jobs/<int:job_id>/progress/",
        views.import_job_progress,
        name="import_job_progress",
    ),
    path(
        "competitions/workbook/template.xlsx",
        views.event_workbook_template,
        name="event_workbook_template",
    ),
    path(
        "competitions/workbook/<slug:code>.xlsx",
        views.event_workbook_export,
        name="event_workbook_export",
    ),
    *scheme_views.urlpatterns,
]
