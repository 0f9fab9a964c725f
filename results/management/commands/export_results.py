"""python manage.py export_results --event CODE --output FILE.xlsx

Writes the results workbook of docs/formats.md: the ``rankings`` sheet with
each entry's award and title, and the ``medal_table`` sheet. Results are the
stored ones, recomputed first for any skill whose marks changed since.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from awards.exporters import MedalTableExporter, event_award_columns
from competitions.models import Event
from portal.exporters import write_workbook
from scoring.exporters import RankingsExporter


class Command(BaseCommand):
    help = "Export an event's results workbook (rankings, medal table) to an .xlsx file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", required=True, help="event code")
        parser.add_argument("--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, **options) -> None:
        event = Event.objects.filter(code=options["event"]).first()
        if event is None:
            raise CommandError(f"Unknown event: {options['event']}")
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError("The output file must end in .xlsx")
        if not output.parent.is_dir():
            raise CommandError(f"No such directory: {output.parent}")
        exporters = [
            RankingsExporter(event, awards=event_award_columns(event)),
            MedalTableExporter(event),
        ]
        write_workbook(exporters, output)
        self.stdout.write(
            f"wrote {output} (rankings of {event.skills.count()} skills and the medal table)"
        )
