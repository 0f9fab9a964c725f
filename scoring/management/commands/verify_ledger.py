"""python manage.py verify_ledger — "ok" (exit 0) or the first broken record (exit 1)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from scoring.ledger import verify_ledger


class Command(BaseCommand):
    help = "Verify the hash chain of every skill's mark ledger."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--skill", type=int, action="append", help="only this skill id (repeatable)"
        )

    def handle(self, *args, **options) -> None:
        report = verify_ledger(options.get("skill"))
        if report.ok:
            self.stdout.write("ok")
            return
        self.stdout.write(f"broken: skill {report.skill_id} record {report.seq}: {report.problem}")
        raise SystemExit(1)
