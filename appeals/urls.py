from django.urls import path

from . import views

app_name = "appeals"
urlpatterns = [
    path("", views.appeal_list, name="list"),
    path("entries/<int:entry_id>/new/", views.appeal_file, name="file"),
    path("<int:pk>/", views.appeal_detail, name="detail"),
    path("attachments/<int:pk>/", views.appeal_attachment, name="attachment"),
]
