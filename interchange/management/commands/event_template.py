"""python manage.py event_template --output FILE.xlsx

An empty event workbook: each sheet has a Chinese title row above the row of
column keys, which the importer accepts as it is.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from interchange.event_workbook.writer import template_workbook


class Command(BaseCommand):
    help = "Write an empty event workbook template (Chinese title row above the keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, **options) -> None:
        template_workbook().save(options["output"])
        self.stdout.write(f"wrote {options['output']}")
