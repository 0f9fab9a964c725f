"""The site's URLs plus awards.urls at the root, until portal/urls.py includes it."""

from django.urls import include, path

from portal import urls as portal_urls

urlpatterns = list(portal_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "awards" for p in urlpatterns):
    urlpatterns.insert(0, path("", include("awards.urls")))
