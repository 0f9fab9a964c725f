"""python manage.py import_marking_scheme FILE.xlsx --event CODE --skill CODE [--dry-run]

Imports one skill's marking scheme from a WorldSkills CIS "Marking Scheme
Import" workbook or from our ``aspects`` sheet (detected automatically), all
or nothing. Prints the counts and the WSOS variation report; on any error
prints every problem (sheet, row, column, Chinese | English) and exits with
status 1 having written nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from competitions.models import Skill
from interchange.cis.data import SchemeData, SchemeImportError, SchemeProblem
from interchange.cis.reader import read_scheme
from interchange.cis.store import ApplyReport, apply_scheme
from interchange.cis.variation import fmt_mark, total_variation, wsos_variation
from interchange.cis.workbook import load_scheme_workbook


def problem_line(p: SchemeProblem) -> str:
    column = f"{p.column} ({p.column_letter})" if p.column and p.column_letter else p.column
    return (
        f"{p.sheet or '-'} row {p.row or '-'} column {column or '-'}: "
        f"{p.message_zh} | {p.message_en}"
    )


def summary_lines(data: SchemeData) -> list[str]:
    s = data.summary()
    return [
        f"source / 格式: {data.source} ({data.sheet})",
        f"criteria / 模块: {s['criteria']}",
        f"sub-criteria / 子模块: {s['sub_criteria']}",
        f"aspects / 评分点: {s['aspects']} (M {s['measurement']}, J {s['judgement']})",
        f"total / 总分: {fmt_mark(s['total'])}",
    ]


def variation_lines(data: SchemeData) -> list[str]:
    rows = wsos_variation(data)
    if not rows:
        return []
    lines = [
        "WSOS variation / WSOS 偏差:",
        f"{'section':<10}{'weight':>10}{'aspects':>10}{'diff':>10}",
    ]
    for r in rows:
        lines.append(
            f"{r.section or '-':<10}{fmt_mark(r.weight):>10}{fmt_mark(r.aspect_marks):>10}"
            f"{fmt_mark(r.difference):>10}  {r.title}"
        )
    lines.append(f"{'total variation / 总偏差':<30}{fmt_mark(total_variation(rows)):>10}")
    return lines


def count_lines(report: ApplyReport) -> list[str]:
    lines = [f"{'':<15}{'created':>9}{'updated':>9}{'unchanged':>11}{'deleted':>9}"]
    for name, c in report.counts.items():
        lines.append(f"{name:<15}{c.created:>9}{c.updated:>9}{c.unchanged:>11}{c.deleted:>9}")
    return lines


class Command(BaseCommand):
    help = "Import a skill's marking scheme (CIS workbook or aspects sheet); all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx workbook")
        parser.add_argument("--event", required=True, help="event code")
        parser.add_argument("--skill", required=True, help="skill code within the event")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            skill = Skill.objects.select_related("event").get(
                event__code=options["event"], code=options["skill"]
            )
        except Skill.DoesNotExist as exc:
            raise CommandError(
                f"No skill {options['skill']} in event {options['event']} / 赛事中无此赛项"
            ) from exc

        try:
            data = read_scheme(load_scheme_workbook(path), skill.code)
            for p in data.warnings:
                self.stderr.write(self.style.WARNING(f"warning {problem_line(p)}"))
            report = apply_scheme(skill, data, dry_run=options["dry_run"])
        except SchemeImportError as exc:
            for p in exc.problems:
                self.stderr.write(self.style.ERROR(f"error {problem_line(p)}"))
            raise CommandError(
                f"{len(exc.problems)} problem(s); nothing was written / 发现问题，未写入任何数据"
            ) from exc

        for line in summary_lines(data) + variation_lines(data) + count_lines(report):
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("dry run: nothing written / 试运行：未写入"))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"marking scheme of {skill.code} imported / 评分标准已导入")
            )
