"""python manage.py verify_ledger — "ok" (exit 0), or every break found (exit 1).

Checks each skill's keyed hash chain, replays it to the marks it implies and
compares them with the marks table row by row, compares the stored results
of signed-off skills with a recomputation (``scoring.ledger.verify_ledger``).
``--head CODE=HASH`` also checks a chain head printed at a sign-off (the
sign-off page, the public results page, the rankings workbook).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from competitions.models import Skill
from scoring.ledger import head_recorded, verify_ledger


class Command(BaseCommand):
    help = (
        "Verify every skill's mark ledger: keyed hash chain, marks table, stored results; "
        "print every break."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--skill", type=int, action="append", help="only this skill id (repeatable)"
        )
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="SKILL_ID=HASH",
            help="a chain head printed at a sign-off: must be a sign-off record of that skill",
        )

    def handle(self, *args, **options) -> None:
        report = verify_ledger(options.get("skill"))
        problems = [str(b) for b in report.breaks]
        for spec in options["head"]:
            skill_id, _sep, head = spec.partition("=")
            try:
                skill = Skill.objects.get(pk=int(skill_id))
            except (ValueError, Skill.DoesNotExist):
                raise CommandError(f"--head {spec}: no skill with id {skill_id!r}") from None
            if not head_recorded(skill, head):
                problems.append(
                    f"skill {skill.code}: head {head.strip()} printed at a sign-off is not "
                    "in its ledger (history rewritten or wrong skill)"
                )
        if not problems:
            self.stdout.write("ok")
            return
        for line in problems:
            self.stdout.write(f"broken: {line}")
        self.stdout.write(f"{len(problems)} problem(s) in {report.skills_checked} skills checked")
        raise SystemExit(1)
