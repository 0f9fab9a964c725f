"""python manage.py import_event FILE.xlsx --event CODE [--user USERNAME] [--dry-run]

All-or-nothing import of an event workbook (docs/formats.md). Prints a summary
and, when anything is wrong, every problem with sheet, row and column in
Chinese and English, then exits with status 1 having written nothing.

``--user`` names the organiser the import is recorded as: marks of the
``marks`` sheet without a judge_code (theory exam, measuring device) are
written to the ledger as that organiser's, with source "import". Without it
they are recorded as the command line's own account ``cli-import`` (inactive,
no password: it cannot sign in), so the ledger says the marks came from a
command-line import by whoever runs the server (docs/uploads.md).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interchange.event_workbook.importer import import_workbook
from interchange.event_workbook.report import ImportReport
from teams import roles


def summary_lines(report: ImportReport) -> list[str]:
    lines = []
    if report.event_created:
        lines.append(f"event {report.event_code}: created / 新建赛事")
    if report.programme_created:
        lines.append("programme: created for the new event / 已为新赛事新建大赛")
    lines.append(f"{'sheet':<14}{'created':>9}{'updated':>9}{'unchanged':>11}")
    for name, stats in report.sheets.items():
        lines.append(f"{name:<14}{stats.created:>9}{stats.updated:>9}{stats.unchanged:>11}")
    return lines


def problem_lines(report: ImportReport, attribute: str = "errors") -> list[str]:
    lines = []
    for e in getattr(report, attribute):
        column = f"{e.column} ({e.column_letter})" if e.column and e.column_letter else e.column
        lines.append(
            f"{e.sheet or '-':<12} row {e.row or '-':<6} column {column or '-':<22}"
            f" {e.message_zh} | {e.message_en}"
        )
    return lines


COMMAND_LINE_USERNAME = "cli-import"


def command_line_account():
    """The account a command-line import is recorded as when no --user is given."""
    user, created = get_user_model().objects.get_or_create(
        username=COMMAND_LINE_USERNAME,
        defaults={"first_name": "命令行导入", "last_name": "", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class Command(BaseCommand):
    help = (
        "Import an event workbook (delegations, skills, entries, judges, aspects, marks); "
        "all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx event workbook")
        parser.add_argument("--event", required=True, help="event code (created if unknown)")
        parser.add_argument("--name", help="name of the event, if it is created")
        parser.add_argument(
            "--user",
            help="username of the organiser the import is recorded as "
            f"(default: the inactive account {COMMAND_LINE_USERNAME})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None if options["user"] else command_line_account()
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None or not roles.is_organiser(actor):
                raise CommandError(
                    f"No organiser with username {options['user']}. "
                    f"没有用户名为 {options['user']} 的组委会账号。"
                )
        report = import_workbook(
            path,
            options["event"],
            dry_run=options["dry_run"],
            event_name=options["name"],
            actor=actor,
        )
        for line in problem_lines(report, "warnings"):
            self.stderr.write(self.style.WARNING(f"warning {line}"))
        if report.errors:
            self.stderr.write(
                self.style.ERROR(
                    f"{len(report.errors)} problem(s); nothing was written. "
                    f"发现 {len(report.errors)} 个问题，未写入任何数据。"
                )
            )
            for line in problem_lines(report):
                self.stderr.write(line)
            raise CommandError("import failed / 导入失败", returncode=1)
        for line in summary_lines(report):
            self.stdout.write(line)
        if report.dry_run:
            self.stdout.write("dry run: nothing was written / 试运行：未写入数据")
        else:
            self.stdout.write(self.style.SUCCESS(f"event {report.event_code} imported / 导入完成"))
