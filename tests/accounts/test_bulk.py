"""Accounts in bulk: chief judges from the event workbook's judges sheet and
leads from a leads sheet; all or nothing, problems by sheet, row and column."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from teams import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def upload(rows_by_sheet: dict[str, list[list]]) -> SimpleUploadedFile:
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, rows in rows_by_sheet.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("accounts.xlsx", buffer.getvalue())


@pytest.fixture
def setup():
    event = f.event(code="final26", name="2026 决赛")
    s1 = f.skill(event=event, code="S01", name="砌筑")
    s2 = f.skill(event=event, code="S02", name="移动机器人")
    home = f.delegation(code="JD", name="裁判团")
    c1 = f.judge(s1, role="chief", with_user=False, code="DJ001", name="韩凯宁", delegation=home)
    c2 = f.judge(s2, role="chief", with_user=False, code="DJ002", name="王子阳", delegation=home)
    f.judge(s1, with_user=False, code="DJ003", delegation=home)
    nj = f.delegation(code="NJ", name="南京市")
    sz = f.delegation(code="SZ", name="苏州市")
    client = Client()
    client.force_login(f.organiser())
    return event, (s1, s2), (c1, c2), (nj, sz), client


JUDGES = ["code", "name", "delegation_code", "skill_code", "role"]
LEADS = ["delegation_code", "username", "name", "email"]


def test_judges_and_leads_sheets_create_accounts_and_print_links(setup):
    event, (s1, s2), (c1, c2), (nj, sz), client = setup
    file = upload(
        {
            "judges": [
                ["裁判编号", "姓名", "代表团", "赛项", "角色"],
                JUDGES,
                ["DJ001", "韩凯宁", "JD", "S01", "chief"],
                ["DJ003", "某某", "JD", "S01", "judge"],
                ["DJ002", "王子阳", "JD", "S02", "chief"],
            ],
            "leads": [
                LEADS,
                ["NJ", "nj-lead", "张强", "zq@example.com"],
                ["SZ", "sz-lead", "张强", ""],
            ],
        }
    )
    response = client.post(
        reverse("accounts:bulk"), {"file": file, "event": event.pk, "method": "link"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r'class="welcome-link"', html)) == 4
    c1.refresh_from_db()
    c2.refresh_from_db()
    assert c1.user.username == "DJ001" and roles.is_chief_of(c1.user, s1)
    assert c2.user.username == "DJ002" and roles.is_chief_of(c2.user, s2)
    assert roles.lead_delegation(User.objects.get(username="nj-lead")) == nj
    assert roles.lead_delegation(User.objects.get(username="sz-lead")) == sz
    assert not User.objects.filter(username="DJ003").exists()  # role judge: no account

    # Again: everything exists, nothing new, nothing broken.
    again = client.post(
        reverse("accounts:bulk"),
        {"file": upload({"leads": [LEADS, ["NJ", "nj-lead", "张强", ""]]}), "method": "link"},
    )
    assert "已存在" in again.content.decode()
    assert User.objects.filter(username="nj-lead").count() == 1


def test_one_bad_row_writes_nothing_and_names_sheet_row_and_column(setup):
    event, _skills, (c1, _c2), _dels, client = setup
    before = User.objects.count()
    file = upload(
        {
            "judges": [JUDGES, ["DJ001", "韩凯宁", "JD", "S01", "chief"]],
            "leads": [
                LEADS,
                ["NJ", "nj-lead", "张强", ""],
                ["XX", "xx-lead", "李四", ""],
                ["SZ", "nj-LEAD", "王五", ""],
                ["SZ", "", "赵六", "not-an-address"],
            ],
        }
    )
    response = client.post(
        reverse("accounts:bulk"), {"file": file, "event": event.pk, "method": "link"}
    )
    html = response.content.decode()
    assert User.objects.count() == before
    c1.refresh_from_db()
    assert c1.user is None
    assert "未创建任何账号" in html
    problems = re.findall(r"<tr><td[^>]*>(\w+)</td><td[^>]*>(\d+)</td><td[^>]*>\s*(\w+) (\w)", html)
    assert ("leads", "3", "delegation_code", "A") in problems
    assert ("leads", "4", "username", "B") in problems  # same username, another case
    assert ("leads", "5", "username", "B") in problems  # empty


def test_judges_sheet_needs_the_judges_imported_first(setup):
    event, *_rest, client = setup
    file = upload({"judges": [JUDGES, ["DJ404", "无名", "JD", "S01", "chief"]]})
    response = client.post(
        reverse("accounts:bulk"), {"file": file, "event": event.pk, "method": "link"}
    )
    html = response.content.decode()
    assert "DJ404" in html and "请先导入赛事工作簿" in html
    assert not User.objects.filter(username="DJ404").exists()


def test_not_a_workbook_is_refused(setup):
    *_rest, client = setup
    bad = SimpleUploadedFile("accounts.xlsx", b"PK\x03\x04 not really")
    response = client.post(reverse("accounts:bulk"), {"file": bad, "method": "link"})
    assert "该文件不是可读取的 .xlsx 工作簿" in response.content.decode()
    assert User.objects.count() == 1


def test_leads_template_has_the_column_keys(setup):
    *_rest, client = setup
    response = client.get(reverse("accounts:leads_template"))
    ws = load_workbook(io.BytesIO(response.content))["leads"]
    assert [c.value for c in ws[2]] == LEADS
