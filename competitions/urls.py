from django.urls import path

from . import views

app_name = "competitions"
urlpatterns = [
    path("workbook/", views.event_workbook, name="event_workbook"),
    path("workbook/jobs/<int:job_id>/", views.import_job, name="import_job"),
    path(
        "workbook/jobs/<int:job_id>/progress/",
        views.import_job_progress,
        name="import_job_progress",
    ),
    path("workbook/template.xlsx", views.event_workbook_template, name="event_workbook_template"),
    path("workbook/<slug:code>.xlsx", views.event_workbook_export, name="event_workbook_export"),
]
