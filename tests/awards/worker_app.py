"""The Celery app for the worker test's subprocess: the portal's app, with
nothing changed — the test gives it its own Redis database through REDIS_URL
so no other worker on the machine takes its tasks."""

from portal.celery import app

__all__ = ["app"]
