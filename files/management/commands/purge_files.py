"""python manage.py purge_files — delete expired generated files (cron or beat)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from files import services


class Command(BaseCommand):
    help = "Delete expired generated files (workbooks, certificate zips) and their rows."

    def handle(self, *args, **options) -> None:
        n = services.purge_expired()
        self.stdout.write(f"purged {n} expired file(s)")
