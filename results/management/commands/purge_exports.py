"""python manage.py purge_exports — delete expired result workbooks (cron or beat)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from results import services


class Command(BaseCommand):
    help = "Delete expired result workbooks and their export jobs."

    def handle(self, *args, **options) -> None:
        n = services.purge_expired()
        self.stdout.write(f"purged {n} expired export(s)")
