"""python manage.py export_event --event CODE --output FILE.xlsx

Writes the event's workbook (the sheets of docs/formats.md); importing it back
changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from competitions.models import Event
from interchange.event_workbook.writer import build_workbook


class Command(BaseCommand):
    help = "Export an event's workbook (delegations, skills, entries, judges)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", required=True, help="event code")
        parser.add_argument("--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, **options) -> None:
        event = Event.objects.filter(code=options["event"]).first()
        if event is None:
            raise CommandError(f"No event with code {options['event']}")
        build_workbook(event).save(options["output"])
        self.stdout.write(f"wrote {options['output']}")
