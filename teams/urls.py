from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("delegation/", views.delegation, name="delegation"),
    path("delegation/athletes/add/", views.athlete_add, name="athlete_add"),
    path("delegation/athletes/<int:pk>/edit/", views.athlete_edit, name="athlete_edit"),
    path(
        "delegation/skills/<int:skill_pk>/register/",
        views.register_entry,
        name="register_entry",
    ),
    path("delegation/entries/<int:pk>/withdraw/", views.withdraw_entry, name="withdraw_entry"),
    path("judge/skills/<int:pk>/", views.judge_skill, name="judge_skill"),
]
