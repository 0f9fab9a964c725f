"""Draw finalists by computer (docs/draws.md) and print ``competitor_no<TAB>key``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from competitions.models import Event, Skill
from draws import services


class Command(BaseCommand):
    help = (
        "Draw COUNT entries of SKILL from the source event into the final: the COUNT "
        "smallest keys sha256(seed|competitor_no). Prints competitor_no<TAB>key per "
        "drawn entry, in key order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="code of the final")
        parser.add_argument("--skill", required=True, help="skill code")
        parser.add_argument("--from-event", required=True, dest="from_event")
        parser.add_argument("--count", required=True, type=int)
        parser.add_argument("--seed", required=True)
        parser.add_argument("--reason", default="", help="required when the skill was drawn before")

    def handle(self, *args, **options):
        final = (
            Skill.objects.filter(event__code=options["event"], code=options["skill"])
            .select_related("event__programme")
            .first()
        )
        if final is None:
            raise CommandError(f"No skill {options['skill']} in event {options['event']}.")
        source_event = Event.objects.filter(code=options["from_event"]).first()
        if source_event is None:
            raise CommandError(f"No event {options['from_event']}.")
        try:
            done = services.draw(
                final,
                source_event,
                count=options["count"],
                seed=options["seed"],
                reason=options["reason"],
            )
        except services.DrawRefused as exc:
            raise CommandError(exc.message) from None
        for row in done.result:
            self.stdout.write(f"{row['competitor_no']}\t{row['key']}")
        if options["verbosity"] > 1:  # stdout stays exactly one line per drawn entry
            self.stderr.write(
                f"draw {done.seq} of {final.code}: {len(done.result)} of {len(done.pool)} "
                f"drawn; entered in {final.event.code}."
            )
