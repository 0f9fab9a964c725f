"""``manage.py seed_demo``: build the demo programme (logic in demo.builder)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from competitions.models import Programme
from demo import builder as demo


class Command(BaseCommand):
    help = (
        "Build a demo programme in Chinese (delegations, skills, athletes, entries, judges, "
        "marking schemes, marks, sign-offs, awards, publications) and one demo login per "
        "role. Sizes follow docs/sizes.md."
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
        parser.add_argument(
            "--force",
            action="store_true",
            help="Build even though debugging is off (a production database): the demo "
            "creates logins with a published password.",
        )
        parser.add_argument(
            "--no-marks",
            action="store_true",
            help="Marking schemes, groups and PINs only: no marks, sign-offs, awards or "
            "publications (e.g. to time the national preset's people alone).",
        )
        # Smaller (or larger) finals for tests and experiments; unset keeps the preset.
        for name in ("delegations", "skills", "entries", "judges"):
            parser.add_argument(f"--{name}", type=int, default=None, metavar="N")

    def handle(self, *args, **options) -> None:
        if not settings.PORTAL_ALLOW_DEMO and not options["force"]:
            raise CommandError(
                "拒绝在生产数据库上生成演示数据（PORTAL_ALLOW_DEMO 未开启）："
                "演示账号的密码是公开的。确需如此请加 --force。 / "
                "Refusing to seed a production database "
                "(PORTAL_ALLOW_DEMO is off): the demo logins have a published password. "
                "Use --force if you really mean it."
            )
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
            result = demo.build_demo(
                sizes,
                seed=options["seed"],
                reset=options["reset"],
                scoring=True,
                marks=not options["no_marks"],
            )
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
        self._print_logins(result.logins)

    def _already_there(self) -> None:
        # Not an error: the quick start may run this every time.
        self.stdout.write(
            self.style.WARNING(
                "The demo programme already exists; nothing was changed. "
                "Run with --reset to rebuild it."
            )
        )
        self._print_logins()

    def _print_logins(self, logins: list[demo.DemoLogin] | None = None) -> None:
        logins = demo.demo_logins() if logins is None else logins
        if not logins:
            return
        self.stdout.write("Demo logins — sign in at /accounts/login/ (the tablet at /tablet/):")
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.description}")
            for secret in login.secrets:
                self.stdout.write(f"  {'':<10}   {secret}")
            self.stdout.write(f"  {'':<10}   open {'  and  '.join(login.urls)}")
        self.stdout.write(f"  {'public':<10} no login: {'  '.join(demo.public_urls())}")
        self.stdout.write(
            f"Password for all: {demo.DEMO_PASSWORD}; tablet PIN: {demo.DEMO_PIN}. "
            "Certificates are not rendered by the demo (too slow for a seed): the organiser "
            f"starts a batch at /awards/events/{demo.DEMO_EVENT_CODES[-1]}/certificates/."
        )
        self.stdout.write(
            self.style.WARNING(
                "These are demo credentials with a published password: "
                "never build the demo on a production database."
            )
        )
