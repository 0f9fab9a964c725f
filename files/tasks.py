"""Celery task of the files app: the periodic purge (portal.settings'
CELERY_BEAT_SCHEDULE runs it hourly)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="files.purge_expired")
def purge_expired() -> int:
    return services.purge_expired()
