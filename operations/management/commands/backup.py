"""python manage.py backup --output DIR [--programme CODE]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write a dated archive (tar) of the whole database (pg_dump custom format, or a "
        "consistent SQLite copy) and the stored files, with a manifest of row counts, "
        "file checksums and versions. --programme CODE keeps only the files that "
        "programme's rows reference; the database part is always whole."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="directory for the archive")
        parser.add_argument("--programme", help="programme code: include only its files")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(options["output"], programme=options["programme"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        m = result.manifest
        rows = sum(m["database"]["rows"].values())
        self.stdout.write(
            f"{result.path}\n"
            f"  database: {m['database']['vendor']} {m['database']['server_version']}, "
            f"{len(m['database']['rows'])} tables, {rows} rows\n"
            f"  files: {m['files']['count']} ({m['files']['bytes']} bytes), {m['files']['scope']}"
        )
        if m["files"]["missing"]:
            self.stderr.write(
                f"  {len(m['files']['missing'])} referenced files were missing from the "
                f"storage (listed in the manifest), e.g. {m['files']['missing'][0]}"
            )
