"""``manage.py seed_demo``: build the demo programme (logic in competitions.demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from competitions import demo
from competitions.models import Programme


class Command(BaseCommand):
    help = (
        "Build a demo programme in Chinese (delegations, skills, athletes, entries, judges) "
        "and one demo login per role. Sizes follow DESIGN.md §7."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", choices=sorted(demo.PRESETS), default="provincial")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the existing demo programme first."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Build only when the database holds no programme at all (the quick start).",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        # Smaller (or larger) finals for tests and experiments; unset keeps the preset.
        for name in ("delegations", "skills", "entries", "judges"):
            parser.add_argument(f"--{name}", type=int, default=None, metavar="N")

    def handle(self, *args, **options) -> None:
        try:
            sizes = demo.sizes_for(
                options["preset"],
                delegations=options["delegations"],
                skills=options["skills"],
                entries=options["entries"],
                judges=options["judges"],
            )
            sizes.check()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        if options["if_empty"] and not options["reset"] and Programme.objects.exists():
            self.stdout.write("The database already holds a programme; no demo was built.")
            self._print_logins()
            return
        if not options["reset"] and demo.demo_exists():
            self._already_there()
            return
        self.stdout.write(
            f"Building the {options['preset']} demo: {sizes.delegations} delegations, "
            f"{sizes.skills} skills, {sizes.entries} entries, {sizes.judges} judges "
            f"(seed {options['seed']})…"
        )
        try:
            result = demo.build_demo(sizes, seed=options["seed"], reset=options["reset"])
        except demo.DemoExists:
            self._already_there()  # built by a concurrent run meanwhile
            return
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc

        for phase in result.phases:
            self.stdout.write(
                f"  {phase.name:<12} {phase.seconds:7.2f} s  {phase.rows:>7} rows"
                f"  {phase.rows_per_second:>9.0f} rows/s"
            )
        self.stdout.write("Counts in the final:")
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<18} {count:>6}")
        self.stdout.write(self.style.SUCCESS(f"Demo programme built in {result.seconds:.1f} s."))
        self._print_logins()

    def _already_there(self) -> None:
        # Not an error: the quick start may run this every time.
        self.stdout.write(
            self.style.WARNING(
                "The demo programme already exists; nothing was changed. "
                "Run with --reset to rebuild it."
            )
        )
        self._print_logins()

    def _print_logins(self) -> None:
        if not demo.demo_logins():
            return
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in demo.demo_logins():
            self.stdout.write(f"  {login.username:<10} {login.description}")
        self.stdout.write(
            self.style.WARNING(
                "These are demo credentials with a published password: "
                "never build the demo on a production database."
            )
        )
