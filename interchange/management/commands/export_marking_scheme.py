"""python manage.py export_marking_scheme --event CODE --skill CODE --output FILE.xlsx
[--format aspects|cis|both]

Writes a skill's marking scheme: our ``aspects`` sheet (with ``wsos_sections``),
the CIS "Marking Scheme Import" sheet, or both (the default). Either sheet
imports back to the same scheme.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from competitions.models import Skill
from interchange.cis.writer import export_workbook


class Command(BaseCommand):
    help = "Export a skill's marking scheme as an .xlsx workbook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", required=True, help="event code")
        parser.add_argument("--skill", required=True, help="skill code within the event")
        parser.add_argument("--output", required=True, help="the .xlsx file to write")
        parser.add_argument(
            "--format", choices=["aspects", "cis", "both"], default="both", help="default: both"
        )

    def handle(self, *args, **options) -> None:
        try:
            skill = Skill.objects.get(event__code=options["event"], code=options["skill"])
        except Skill.DoesNotExist as exc:
            raise CommandError(
                f"No skill {options['skill']} in event {options['event']} / 赛事中无此赛项"
            ) from exc
        export_workbook(skill, options["format"]).save(options["output"])
        self.stdout.write(self.style.SUCCESS(f"wrote {options['output']}"))
