"""Write an event's rewards workbook: sheets ``rewards`` and ``totals`` (docs/rewards.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from competitions.models import Event
from sector import rewards


class Command(BaseCommand):
    help = "Write sheets rewards and totals of an event's rewards (bonus, credits) to FILE.xlsx."

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args, **options):
        event = Event.objects.select_related("programme").filter(code=options["event"]).first()
        if event is None:
            raise CommandError(f"No event {options['event']}.")
        try:
            n_rows, n_delegations = rewards.export_rewards(event, options["output"])
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc}") from None
        self.stdout.write(
            f"{options['output']}: {n_rows} reward rows, {n_delegations} delegations."
        )
