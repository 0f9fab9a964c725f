"""Included at ``accounts/`` (beside Django's login and logout there)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_new, name="new"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/leads-template.xlsx", views.leads_template, name="leads_template"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/reset/", views.account_reset, name="reset"),
    path("welcome/<str:token>/", views.welcome, name="welcome"),
]
