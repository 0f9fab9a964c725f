"""The site's home and the verification form behind it (names without a
namespace: every template links to {% url 'home' %})."""

from django.urls import path

from . import home

urlpatterns = [
    path("", home.home, name="home"),
    path("verify/", home.verify_lookup, name="verify_lookup"),
]
