"""A skill ready for marking on tablets, with names and delegations distinctive
enough that a leak into any page or response is found by a plain substring
search.

Scheme (100 marks): A 测量 / A1: M1 (max 1 → buttons 0, 0.5, 1), M2 (max 9.5
→ numeric field); B 评价 / B1: J1 (20), J2 (10); B2: J3 (59.5).
Entries 101 and 104 belong to delegation A, 102 to B, 103 to C. Judge
``ja`` is from delegation A (recused from 101 and 104), ``jb`` from B, ``jc``
from C and has no Django user; ``chief`` is the chief judge (own delegation D).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from competitions.models import Skill
from scoring.models import Aspect, AspectKind, Criterion, JudgementDescriptor, SubCriterion
from tablets import pin_hashing, services
from tablets.auth import COOKIE
from tablets.models import TabletSession
from teams.models import Athlete, Delegation, Entry, Judge
from tests import factories as f

# The browser tests drive Playwright's sync API, which runs an event loop in
# the test thread; Django's ORM refuses to run there without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ATHLETE_NAMES = ["欧阳翠花", "司马云霄", "诸葛铁柱", "上官飞燕", "慕容秋水"]
DELEGATIONS = [
    ("QXZDLG", "鹤岗市青山代表团"),
    ("WVKDLG", "漠河市北极代表团"),
    ("YRTDLG", "三沙市珊瑚代表团"),
    ("PLMDLG", "阿勒泰喀纳斯代表团"),
]
PIN = "246813"


@dataclass
class World:
    skill: Skill
    delegations: list[Delegation]
    entries: dict[str, Entry]
    athletes: list[Athlete]
    aspects: dict[str, Aspect]
    ja: Judge
    jb: Judge
    jc: Judge
    chief: Judge
    organiser: object
    secrets: list[str] = field(default_factory=list)

    def aspect(self, code: str) -> Aspect:
        return self.aspects[code]


def build_world() -> World:
    event = f.event(name="2026年全省职业技能大赛决赛")
    skill = f.skill(event=event, code="W07", name="砌筑")
    dels = [f.delegation(code=c, name=n) for c, n in DELEGATIONS]
    aspects: dict[str, Aspect] = {}
    a = Criterion.objects.create(skill=skill, code="A", name="尺寸测量", max_mark=Decimal("10.5"))
    a1 = SubCriterion.objects.create(criterion=a, code="A1", name="墙体尺寸")
    b = Criterion.objects.create(skill=skill, code="B", name="工艺评价", max_mark=Decimal("89.5"))
    b1 = SubCriterion.objects.create(criterion=b, code="B1", name="外观", order=1)
    b2 = SubCriterion.objects.create(criterion=b, code="B2", name="整体效果", order=2)
    spec = [
        ("M1", AspectKind.MEASUREMENT, "1", a1, "墙面垂直度偏差不超过 3 mm"),
        ("M2", AspectKind.MEASUREMENT, "9.5", a1, "墙体长度"),
        ("J1", AspectKind.JUDGEMENT, "20", b1, "灰缝均匀美观"),
        ("J2", AspectKind.JUDGEMENT, "10", b1, "砖面清洁"),
        ("J3", AspectKind.JUDGEMENT, "59.5", b2, "整体工艺水平"),
    ]
    for order, (code, kind, max_mark, sub, text) in enumerate(spec, start=1):
        aspect = Aspect.objects.create(
            skill=skill,
            sub_criterion=sub,
            code=code,
            kind=kind,
            description=text,
            max_mark=Decimal(max_mark),
            order=order,
        )
        if kind == AspectKind.JUDGEMENT:
            JudgementDescriptor.objects.bulk_create(
                JudgementDescriptor(aspect=aspect, score=s, text=t)
                for s, t in enumerate(["明显低于标准", "达到行业标准", "高于标准", "卓越"])
            )
        aspects[code] = aspect
    athletes = [
        f.athlete(delegation=dels[i], name=name)
        for i, name in zip([0, 1, 2, 0], ATHLETE_NAMES[:4], strict=True)
    ]
    entries = {
        no: f.entry(skill, athletes=[athletes[i]], competitor_no=no)
        for no, i in (("101", 0), ("102", 1), ("103", 2), ("104", 3))
    }
    ja = f.judge(skill, delegation=dels[0], code="JA01", name="裁判甲")
    jb = f.judge(skill, delegation=dels[1], code="JB02", name="裁判乙")
    jc = f.judge(skill, delegation=dels[2], code="JC03", name="裁判丙", with_user=False)
    chief = f.judge(skill, role="chief", delegation=dels[3], code="CJ09", name="裁判长丁")
    for judge in (ja, jb, jc):
        from tablets.models import JudgeCredential

        JudgeCredential.objects.create(
            judge=judge, pin_hash=pin_hashing.hash_pin(PIN), set_at=timezone.now()
        )
    secrets = [*ATHLETE_NAMES[:4]]
    for d in dels:
        secrets += [d.code, d.name]
    return World(
        skill=skill,
        delegations=dels,
        entries=entries,
        athletes=athletes,
        aspects=aspects,
        ja=ja,
        jb=jb,
        jc=jc,
        chief=chief,
        organiser=f.organiser(),
        secrets=secrets,
    )


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # PINs use the real hasher in production; tests need no slow hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return build_world()


def tablet_client(judge: Judge, **kwargs) -> tuple[Client, TabletSession]:
    """A test client holding a live tablet session of ``judge``."""
    client = Client(**kwargs)
    session, token = services.start_session(
        judge, via=TabletSession.Via.PIN, user_agent="pytest", ip="127.0.0.1"
    )
    client.cookies[COOKIE] = token
    return client, session


@pytest.fixture
def tablet():
    return tablet_client


def mark_json(client: Client, entry: Entry, aspect: Aspect, value, key: str, ev=None):
    import json

    return client.post(
        "/tablet/api/mark",
        data=json.dumps(
            {
                "client_key": key,
                "entry": entry.pk,
                "aspect": aspect.pk,
                "value": value,
                "expected_version": ev,
            }
        ),
        content_type="application/json",
    )


@pytest.fixture
def post_mark():
    return mark_json
