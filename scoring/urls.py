"""Scoring URLs. Marks, panels and sign-off live in views.py; results,
rankings and judge consistency in results_views.py. Each module keeps its own
``urlpatterns`` list."""

from . import results_views, views

app_name = "scoring"
urlpatterns = [*views.urlpatterns, *results_views.urlpatterns]
