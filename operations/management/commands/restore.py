"""python manage.py restore ARCHIVE [--force]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore an archive made by `backup` into the configured database and file "
        "storage. Checks every checksum first. Refuses a database that already has "
        "tables, and stored files that differ, unless --force, which replaces the whole "
        "database (PostgreSQL: schema public is dropped and re-created). Stop the web "
        "and worker processes first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a non-empty database and differing stored files",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"no such archive: {archive}")
        try:
            result = restore_backup(archive, force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        m = result.manifest
        self.stdout.write(
            f"restored {archive.name} (made {m['created_at']})\n"
            f"  database: {sum(result.rows.values())} rows in {len(result.rows)} tables, "
            "row counts match the manifest\n"
            f"  files: {result.files_written} written, {result.files_unchanged} already present"
        )
