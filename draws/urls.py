from django.urls import path

from . import views

app_name = "draws"

urlpatterns = [
    path("<slug:event_code>/", views.event_draws, name="event"),
    path("<slug:event_code>/nominate/", views.nominate_page, name="nominate_page"),
    path("<slug:event_code>/nominate/<str:skill_code>/", views.nominate, name="nominate"),
    path("<slug:event_code>/<str:skill_code>/", views.skill_draws, name="skill"),
    path("<slug:event_code>/<str:skill_code>/manage/", views.manage, name="manage"),
]
