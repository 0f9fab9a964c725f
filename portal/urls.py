from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("results.home_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("interchange.urls")),
    path("scoring/", include("scoring.urls")),
    path("tablet/", include("tablets.urls")),
    path("appeals/", include("appeals.urls")),
    path("draws/", include("draws.urls")),
    path("sector/", include("sector.urls")),
    path("files/", include("files.urls")),
    path("", include("awards.urls")),
    path("", include("results.urls")),
    path("", include("teams.urls")),
]
