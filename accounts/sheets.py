"""Accounts in bulk from a workbook: the chief judges of the event workbook's
``judges`` sheet (rows of role ``chief``) and a ``leads`` sheet
(delegation_code, username, name, email). All or nothing: every problem is
reported with sheet, row and column, and then nothing is written.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from competitions.models import Event
from portal import spreadsheets
from portal.problems import CellProblem
from teams.models import Delegation, Judge, JudgeAssignment

from . import services

HEADER_SEARCH_ROWS = 5
MAX_ROWS = 5000
JUDGES_SHEET = "judges"
LEADS_SHEET = "leads"
JUDGE_COLUMNS = ("code", "name", "delegation_code", "skill_code", "role")
LEAD_COLUMNS = ("delegation_code", "username", "name", "email")
LEAD_REQUIRED = ("delegation_code", "username", "name")
LEAD_TITLES_ZH = {
    "delegation_code": "代表团代码",
    "username": "用户名",
    "name": "姓名",
    "email": "电子邮箱（可选）",
}


@dataclass
class Planned:
    sheet: str
    row: int
    username: str
    name: str
    email: str
    spec: services.RoleSpec


@dataclass
class BulkReport:
    problems: list[CellProblem] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # accounts that already exist
    created: list[User] = field(default_factory=list)

    @property
    def errors(self) -> list[CellProblem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[CellProblem]:
        return [p for p in self.problems if p.warning]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(ws, required: tuple[str, ...], report: BulkReport):
    """(Excel row number, {key: text}) after the key row; letters by key."""
    numbered = (
        (number, tuple(_text(v) for v in raw))
        for number, raw in enumerate(ws.iter_rows(values_only=True), start=1)
    )
    header = spreadsheets.find_header(numbered, required, HEADER_SEARCH_ROWS)
    if header is None:
        report.problems.append(
            CellProblem(
                ws.title,
                None,
                None,
                None,
                _("No row with the column keys %(keys)s in the first %(n)s rows."),
                {"keys": ", ".join(required), "n": HEADER_SEARCH_ROWS},
            )
        )
        return
    _header_row, positions = header
    letters = {k: get_column_letter(i + 1) for k, i in positions.items()}
    for number, cells in numbered:
        if number > MAX_ROWS + HEADER_SEARCH_ROWS:
            report.problems.append(
                CellProblem(ws.title, number, None, None, _("The sheet has more than 5000 rows."))
            )
            return
        if not any(cells):
            continue
        values = {k: (cells[i] if i < len(cells) else "") for k, i in positions.items()}
        yield number, values, letters


def _error(report, sheet, number, letters, column, message, /, **params) -> None:
    report.problems.append(CellProblem(sheet, number, column, letters.get(column), message, params))


def _read_judges(ws, event: Event, report: BulkReport, usernames: dict[str, int]) -> None:
    skills = {s.code: s for s in event.skills.all()}
    rows = [r for r in _rows(ws, JUDGE_COLUMNS, report) if r[1].get("role", "").lower() == "chief"]
    judges = {
        j.code: j
        for j in Judge.objects.select_related("user", "delegation").filter(
            code__in={v.get("code", "") for _n, v, _l in rows}
        )
    }
    for number, values, letters in rows:
        code, skill_code = values.get("code", ""), values.get("skill_code", "")
        judge, skill = judges.get(code), skills.get(skill_code)
        if judge is None:
            _error(
                report,
                ws.title,
                number,
                letters,
                "code",
                _("Judge %(code)s is not in the portal: import the event workbook first."),
                code=code,
            )
            continue
        if skill is None:
            _error(
                report,
                ws.title,
                number,
                letters,
                "skill_code",
                _("Skill %(code)s is not in event %(event)s."),
                code=skill_code,
                event=event.name,
            )
            continue
        if judge.user is not None:
            report.skipped.append(f"{judge} ({judge.user.username})")
            continue
        other_chief = (
            JudgeAssignment.objects.filter(skill=skill, role=JudgeAssignment.Role.CHIEF)
            .exclude(judge=judge)
            .select_related("judge")
            .first()
        )
        if other_chief is not None:
            _error(
                report,
                ws.title,
                number,
                letters,
                "skill_code",
                _("%(skill)s already has a chief judge: %(judge)s."),
                skill=skill.choice_label(),
                judge=str(other_chief.judge),
            )
            continue
        username = code
        if not _username_free(report, ws.title, number, letters, "code", username, usernames):
            continue
        report.planned.append(
            Planned(
                ws.title,
                number,
                username,
                values.get("name") or judge.name,
                "",
                services.RoleSpec(services.ROLE_CHIEF, skill=skill, judge=judge),
            )
        )


def _username_free(report, sheet, number, letters, column, username, usernames) -> bool:
    key = username.lower()
    if key in usernames:
        _error(
            report,
            sheet,
            number,
            letters,
            column,
            _("The username %(username)s is also in row %(row)s."),
            username=username,
            row=usernames[key],
        )
        return False
    usernames[key] = number
    try:
        services.clean_username(username)
    except services.AccountRefused as exc:
        _error(report, sheet, number, letters, column, "%(message)s", message=exc.message)
        return False
    return True


def _read_leads(ws, report: BulkReport, usernames: dict[str, int]) -> None:
    rows = list(_rows(ws, LEAD_REQUIRED, report))
    delegations = {
        d.code: d
        for d in Delegation.objects.filter(code__in={v["delegation_code"] for _n, v, _l in rows})
    }
    existing = {
        u.username.lower(): u
        for u in User.objects.select_related("delegation_lead").filter(
            username__in={v["username"] for _n, v, _l in rows}
        )
    }
    for number, values, letters in rows:
        ok = True
        for column in LEAD_REQUIRED:
            if not values.get(column):
                _error(report, ws.title, number, letters, column, _("This cell is required."))
                ok = False
        if not ok:
            continue
        delegation = delegations.get(values["delegation_code"])
        if delegation is None:
            _error(
                report,
                ws.title,
                number,
                letters,
                "delegation_code",
                _("Unknown delegation code %(code)s."),
                code=values["delegation_code"],
            )
            continue
        user = existing.get(values["username"].lower())
        lead = getattr(user, "delegation_lead", None) if user else None
        if user is not None and lead is not None and lead.delegation_id == delegation.pk:
            report.skipped.append(f"{user.username} ({delegation})")
            continue
        if not _username_free(
            report, ws.title, number, letters, "username", values["username"], usernames
        ):
            continue
        email = values.get("email", "")
        if email and ("@" not in email or len(email) > 254):
            _error(
                report,
                ws.title,
                number,
                letters,
                "email",
                _("%(value)s is not an e-mail address."),
                value=email,
            )
            continue
        report.planned.append(
            Planned(
                ws.title,
                number,
                values["username"],
                values["name"][:150],
                email,
                services.RoleSpec(services.ROLE_LEAD, delegation=delegation),
            )
        )


def read_bulk(source: IO[bytes], event: Event | None) -> BulkReport:
    report = BulkReport()
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        report.problems.append(
            CellProblem(None, None, None, None, _("The file is not a readable .xlsx workbook."))
        )
        return report
    try:
        sheets = {ws.title.strip().lower(): ws for ws in book.worksheets}
        usernames: dict[str, int] = {}
        if JUDGES_SHEET in sheets:
            if event is None:
                report.problems.append(
                    CellProblem(
                        JUDGES_SHEET,
                        None,
                        None,
                        None,
                        _("Choose the event whose judges sheet this is."),
                    )
                )
            else:
                _read_judges(sheets[JUDGES_SHEET], event, report, usernames)
        if LEADS_SHEET in sheets:
            _read_leads(sheets[LEADS_SHEET], report, usernames)
        if JUDGES_SHEET not in sheets and LEADS_SHEET not in sheets:
            report.problems.append(
                CellProblem(
                    None,
                    None,
                    None,
                    None,
                    _("The workbook has neither a judges sheet nor a leads sheet."),
                )
            )
    finally:
        book.close()
    return report


def apply_bulk(report: BulkReport, by) -> BulkReport:
    """Create the planned accounts, all or none."""
    if report.errors:
        return report
    try:
        with transaction.atomic():
            for p in report.planned:
                report.created.append(
                    services.create_account(
                        username=p.username, name=p.name, email=p.email, spec=p.spec, by=by
                    )
                )
    except services.AccountRefused as exc:
        report.created = []
        report.problems.append(
            CellProblem(None, None, None, None, "%(message)s", {"message": exc.message})
        )
    return report


def leads_template() -> Workbook:
    book = Workbook()
    ws = book.worksheets[0]
    ws.title = LEADS_SHEET
    ws.append([str(LEAD_TITLES_ZH[k]) for k in LEAD_COLUMNS])
    ws.append(list(LEAD_COLUMNS))
    for i in range(1, len(LEAD_COLUMNS) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 20
    return book
