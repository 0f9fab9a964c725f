"""Demo programme builder behind ``manage.py seed_demo`` and ``python -m benchmarks seed``.

Builds one believable programme in Chinese: phases, two earlier rounds and a
final that holds the requested sizes (docs/sizes.md), with delegations, quotas,
athletes with valid ID numbers, individual and team entries, judges and their
assignments, and one demo login per role.

With ``scoring=True`` (what ``seed_demo`` asks for) the final also gets what
every later page shows: a marking scheme per skill, marking groups of three
judges, tablet PINs for the demo judges, and — unless ``marks=False`` — marks
written through ``scoring.batch.write_marks`` (so the ledger chain is the
real one), a few skills signed off, awarded and published, and a few still
being marked (the demo chief judge's among them). ``scoring=False`` keeps the
bare programme the benchmarks build their own schemes on.

Speed matters (the quick start runs it, benchmarks time it), so everything is
planned in Python first with one seeded ``random.Random`` and written with
``bulk_create``; no query runs per row, and only the four demo logins get a
password hash (computed once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Model, ProtectedError, Q
from django.utils import timezone

from appeals.models import Appeal
from awards import awarding
from awards.models import Award, Certificate
from competitions import publication
from competitions.models import (
    Advancement,
    AwardPolicy,
    Event,
    JudgementAggregation,
    Phase,
    Programme,
    PublicationLog,
    Skill,
)
from demo import sector as sector_demo
from results import publishing, refresh
from scoring import batch, ledger, panels, signoff
from scoring.models import (
    Aspect,
    AspectKind,
    Criterion,
    JudgementDescriptor,
    LedgerRecord,
    Mark,
    MarkingGroup,
    SkillMarking,
    SubCriterion,
)
from scoring.results import recompute_skill
from tablets import pin_hashing
from tablets.models import JudgeCredential
from tablets.services import request_remark
from teams import idnumbers, roles
from teams.models import (
    Athlete,
    Delegation,
    DelegationLead,
    Entry,
    EntryMember,
    Gender,
    Judge,
    JudgeAssignment,
    Quota,
)
from teams.roles import ORGANISER_GROUP

# The demo is found again by these codes (``--reset``, refusing a second run).
DEMO_PROGRAMME_CODE = "demo"
DEMO_EVENT_CODES = ("demo-r1", "demo-r2", "demo-final")
DEMO_JUDGE_PREFIX = "DJ"
DEMO_PASSWORD = "demo-2026"
# The tablet PIN of the demo judge and chief judge (tablets sign in with judge code + PIN).
DEMO_PIN = "202611"
DEFAULT_SEED = 2026
BATCH = 1000
_M = TypeVar("_M", bound=Model)

# ---------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How big the final is. ``scope`` picks the names (provincial or national)."""

    delegations: int
    skills: int
    entries: int
    judges: int
    scope: str = "provincial"

    def check(self) -> None:
        """Refuse sizes the demo cannot honour (see ``_judges_per_skill`` for why 4)."""
        if self.scope not in _SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}")
        if self.delegations < 4:
            raise ValueError("at least 4 delegations (judges come from distinct delegations)")
        if self.skills < 1:
            raise ValueError("at least 1 skill")
        if self.entries < self.skills:
            raise ValueError("at least one entry per skill")
        if self.judges < MIN_JUDGES_PER_SKILL * self.skills:
            raise ValueError(f"at least {MIN_JUDGES_PER_SKILL} judges per skill")


_SCOPES = ("provincial", "national")

PRESETS: dict[str, Sizes] = {
    "provincial": Sizes(delegations=40, skills=60, entries=1600, judges=600, scope="provincial"),
    "national": Sizes(delegations=36, skills=109, entries=4059, judges=3270, scope="national"),
}


def sizes_for(preset: str, **overrides: int | None) -> Sizes:
    """A preset with some numbers replaced (``None`` keeps the preset's)."""
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(PRESETS[preset], **values)


# One chief plus three markers from three different delegations: whichever
# delegation an entry comes from, at least two judges may mark it (recusal).
MIN_JUDGES_PER_SKILL = 4

# ---------------------------------------------------------------------------
# Reference names
# ---------------------------------------------------------------------------

_JIANGSU_CITIES: list[tuple[str, str, tuple[str, ...]]] = [
    # code, name, districts (first six digits of ID numbers issued there)
    ("NJ", "南京市", ("320102", "320104", "320105", "320106", "320111", "320115")),
    ("WX", "无锡市", ("320205", "320206", "320211", "320213", "320214")),
    ("XZ", "徐州市", ("320302", "320303", "320311", "320312", "320321")),
    ("CZ", "常州市", ("320402", "320404", "320411", "320412")),
    ("SZ", "苏州市", ("320505", "320506", "320507", "320508", "320509")),
    ("NT", "南通市", ("320612", "320613", "320614", "320623")),
    ("LYG", "连云港市", ("320703", "320706", "320707")),
    ("HA", "淮安市", ("320803", "320804", "320812", "320813")),
    ("YC", "盐城市", ("320902", "320903", "320904", "320981")),
    ("YZ", "扬州市", ("321002", "321003", "321012")),
    ("ZJ", "镇江市", ("321102", "321111", "321112")),
    ("TZ", "泰州市", ("321202", "321203", "321204")),
    ("SQ", "宿迁市", ("321302", "321311", "321322")),
    ("KS", "昆山市", ("320583",)),
    ("JY", "江阴市", ("320281",)),
    ("SIP", "苏州工业园区", ("320571",)),
]
_JIANGSU_ORGS: list[tuple[str, str]] = [
    ("SGJS", "国网江苏省电力有限公司"),
    ("YPC", "中国石化扬子石油化工有限公司"),
    ("XCMG", "徐工集团工程机械股份有限公司"),
    ("JSCEG", "江苏省建筑工程集团有限公司"),
    ("SHAGANG", "江苏沙钢集团有限公司"),
    ("JSTC", "江苏交通控股有限公司"),
    ("CMJS", "中国移动通信集团江苏有限公司"),
    ("NISCO", "南京钢铁股份有限公司"),
    ("CRRCPZ", "中车南京浦镇车辆有限公司"),
    ("JSPG", "江苏省港口集团有限公司"),
    ("EAG", "东部机场集团有限公司"),
    ("JSNK", "江苏省农垦集团有限公司"),
    ("HENGRUI", "江苏恒瑞医药股份有限公司"),
    ("ZENITH", "中天钢铁集团有限公司"),
    ("CTJS", "中国电信股份有限公司江苏分公司"),
    ("JSPH", "江苏省人民医院"),
    ("JSZYY", "江苏省中医院"),
    ("GLYY", "南京鼓楼医院"),
    ("SDFY", "苏州大学附属第一医院"),
    ("NIIT", "南京工业职业技术大学"),
    ("CZIMT", "常州机电职业技术学院"),
    ("WXIT", "无锡职业技术学院"),
    ("JSJTJS", "江苏省交通技师学院"),
    ("YCJS", "江苏省盐城技师学院"),
]
# National finals: provinces (ISO 3166-2:CN codes, so they never collide with
# the provincial city codes above), the Corps, Hong Kong, Macao and industry.
_PROVINCES: list[tuple[str, str, str]] = [
    ("CN-BJ", "北京市", "11"),
    ("CN-TJ", "天津市", "12"),
    ("CN-HE", "河北省", "13"),
    ("CN-SX", "山西省", "14"),
    ("CN-NM", "内蒙古自治区", "15"),
    ("CN-LN", "辽宁省", "21"),
    ("CN-JL", "吉林省", "22"),
    ("CN-HL", "黑龙江省", "23"),
    ("CN-SH", "上海市", "31"),
    ("CN-JS", "江苏省", "32"),
    ("CN-ZJ", "浙江省", "33"),
    ("CN-AH", "安徽省", "34"),
    ("CN-FJ", "福建省", "35"),
    ("CN-JX", "江西省", "36"),
    ("CN-SD", "山东省", "37"),
    ("CN-HA", "河南省", "41"),
    ("CN-HB", "湖北省", "42"),
    ("CN-HN", "湖南省", "43"),
    ("CN-GD", "广东省", "44"),
    ("CN-GX", "广西壮族自治区", "45"),
    ("CN-HI", "海南省", "46"),
    ("CN-CQ", "重庆市", "50"),
    ("CN-SC", "四川省", "51"),
    ("CN-GZ", "贵州省", "52"),
    ("CN-YN", "云南省", "53"),
    ("CN-XZ", "西藏自治区", "54"),
    ("CN-SN", "陕西省", "61"),
    ("CN-GS", "甘肃省", "62"),
    ("CN-QH", "青海省", "63"),
    ("CN-NX", "宁夏回族自治区", "64"),
    ("CN-XJ", "新疆维吾尔自治区", "65"),
]
_NATIONAL_OTHERS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("XJBT", "新疆生产建设兵团", ("659001", "659002", "659003")),
    ("CN-HK", "香港特别行政区", ("810000",)),
    ("CN-MO", "澳门特别行政区", ("820000",)),
    ("SGCC", "国家电网有限公司", None),
    ("CNPC", "中国石油天然气集团有限公司", None),
]
_CITY_EMPLOYERS = (
    "{s}技师学院",
    "{s}高级技工学校",
    "{s}职业技术学院",
    "{s}交通技师学院",
    "{s}建设工程集团有限公司",
    "{s}地铁集团有限公司",
    "{s}市政工程有限公司",
    "国网{s}供电公司",
    "{n}第一人民医院",
    "{s}汽车销售服务有限公司",
    "{s}精密机械有限公司",
    "{s}智能装备有限公司",
)

# (name, team size, share of women among competitors). Lists start with the
# best-known trades and spread team skills early so small test sizes still
# get some; the presets take a prefix of each list.
_WORLDSKILLS: list[tuple[str, int, float]] = [
    ("砌筑", 1, 0.05),
    ("移动机器人", 2, 0.15),
    ("焊接", 1, 0.05),
    ("数控车", 1, 0.1),
    ("网络安全", 2, 0.2),
    ("美发", 1, 0.6),
    ("汽车技术", 1, 0.05),
    ("健康和社会照护", 1, 0.8),
    ("云计算", 1, 0.3),
    ("工业4.0", 3, 0.15),
    ("数控铣", 1, 0.1),
    ("电气装置", 1, 0.05),
    ("工业控制", 1, 0.1),
    ("机电一体化", 2, 0.15),
    ("信息网络布线", 1, 0.15),
    ("网络系统管理", 1, 0.25),
    ("移动应用开发", 1, 0.35),
    ("网站技术", 1, 0.4),
    ("软件应用开发", 1, 0.35),
    ("3D数字游戏艺术", 1, 0.4),
    ("平面设计技术", 1, 0.6),
    ("烹饪(西餐)", 1, 0.3),
    ("机器人系统集成", 2, 0.1),
    ("烘焙", 1, 0.5),
    ("糖艺/西点制作", 1, 0.6),
    ("餐厅服务", 1, 0.8),
    ("酒店接待", 1, 0.8),
    ("时装技术", 1, 0.8),
    ("花艺", 1, 0.7),
    ("美容", 1, 0.9),
    ("化学实验室技术", 1, 0.5),
    ("货运代理", 1, 0.6),
    ("混凝土建筑", 2, 0.05),
    ("可再生能源", 1, 0.1),
    ("光电技术", 1, 0.2),
    ("电子技术", 1, 0.2),
    ("制冷与空调", 1, 0.05),
    ("飞机维修", 1, 0.1),
    ("车身修理", 1, 0.05),
    ("汽车喷漆", 1, 0.15),
    ("重型车辆维修", 1, 0.05),
    ("制造团队挑战赛", 3, 0.1),
    ("抹灰与隔墙系统", 1, 0.05),
    ("精细木工", 1, 0.1),
    ("木工", 1, 0.05),
    ("瓷砖贴面", 1, 0.05),
    ("管道与制暖", 1, 0.05),
    ("涂装与装饰", 1, 0.3),
    ("建筑金属构造", 1, 0.05),
    ("工业机械", 1, 0.05),
    ("塑料模具工程", 1, 0.1),
    ("原型制作", 1, 0.2),
    ("增材制造", 1, 0.2),
    ("数字建造", 1, 0.3),
    ("水处理技术", 1, 0.3),
    ("园艺", 1, 0.3),
    ("珠宝加工", 1, 0.4),
    ("家具制作", 1, 0.1),
    ("工业设计技术", 1, 0.4),
    ("印刷媒体技术", 1, 0.3),
    ("商品展示技术", 1, 0.6),
    ("轨道车辆技术", 1, 0.05),
]
_NATIONAL_FEATURED: list[tuple[str, int, float]] = [
    ("电工", 1, 0.05),
    ("电池制造工", 1, 0.3),
    ("智能制造工程技术", 3, 0.15),
    ("工业机器人系统操作员", 1, 0.1),
    ("无人机驾驶员", 1, 0.1),
    ("烹饪(中式)", 1, 0.2),
    ("钳工", 1, 0.05),
    ("车工", 1, 0.05),
    ("新能源汽车智能化技术", 2, 0.1),
    ("铣工", 1, 0.05),
    ("数控机床装调维修工", 1, 0.05),
    ("工业机器人系统运维员", 1, 0.1),
    ("物联网安装调试员", 1, 0.2),
    ("人工智能训练师", 1, 0.45),
    ("区块链应用操作员", 1, 0.4),
    ("网络与信息安全管理员", 1, 0.25),
    ("电子商务师", 1, 0.65),
    ("健康照护师", 1, 0.85),
    ("养老护理员", 1, 0.85),
    ("中式面点师", 1, 0.6),
    ("茶艺师", 1, 0.85),
    ("装配钳工", 1, 0.05),
    ("模具工", 1, 0.05),
    ("化工总控工", 1, 0.2),
    ("电力电缆安装运维工", 1, 0.05),
    ("变电设备检修工", 1, 0.05),
    ("继电保护员", 1, 0.2),
    ("电梯安装维修工", 1, 0.05),
    ("建筑信息模型技术员", 1, 0.4),
    ("消防设施操作员", 1, 0.2),
    ("增材制造设备操作员", 1, 0.2),
    ("多工序数控机床操作调整工", 1, 0.05),
    ("互联网营销师", 1, 0.7),
    ("供应链管理师", 1, 0.6),
    ("仪器仪表维修工", 1, 0.1),
    ("工业视觉系统运维员", 1, 0.15),
    ("集成电路开发与测试", 2, 0.3),
    ("轨道列车司机", 1, 0.1),
    ("动车组机械师", 1, 0.05),
    ("起重装卸机械操作工", 1, 0.05),
    ("眼镜验光员", 1, 0.6),
    ("育婴员", 1, 0.95),
    ("劳动关系协调员", 1, 0.7),
    ("汽车维修工", 1, 0.05),
    ("数字孪生应用技术", 3, 0.2),
    ("工业互联网安全", 2, 0.2),
    ("半导体分立器件和集成电路装调工", 1, 0.3),
]
_PROVINCIAL: list[tuple[str, int, float]] = [
    ("淮扬菜烹饪", 1, 0.2),
    ("苏绣", 1, 0.95),
    ("紫砂陶艺", 1, 0.4),
    ("智慧农业应用技术", 2, 0.3),
    ("云锦织造", 1, 0.8),
    ("家政服务员", 1, 0.9),
    ("碳排放管理员", 1, 0.4),
    ("数据标注员", 1, 0.6),
    ("农业经理人", 1, 0.3),
    ("快递员", 1, 0.2),
    ("网约配送员", 1, 0.1),
    ("医疗护理员", 1, 0.9),
    ("药物制剂工", 1, 0.5),
    ("中药炮制工", 1, 0.4),
    ("评茶员", 1, 0.7),
    ("保育师", 1, 0.95),
    ("企业人力资源管理师", 1, 0.7),
    ("架子工", 1, 0.0),
    ("智能楼宇管理员", 1, 0.2),
    ("康复辅助技术咨询师", 1, 0.6),
    ("船舶电焊工", 1, 0.05),
    ("锅炉操作工", 1, 0.05),
]
# Later passes over a list (more skills than names) use groups, as real
# provincial contests split one trade into workers' and students' groups.
_VARIANTS = ("", "（学生组）", "（职工组）", "（青年组）")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
# Frequent surnames are much more frequent: weight ~ 1 / (rank + 8).
_SURNAME_CUM = list(itertools.accumulate(1 / (i + 8) for i in range(len(_SURNAMES))))
_MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林"
    "阳晨博文志建国东海峰亮新成康星天轩睿泽豪航铭昊诚锋"
)
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕婷雪琳晶慧莹倩颖洁萍红梅琴蕾薇欣怡佳悦雨涵诗梦瑶婧璐思楠菲月"
_SHARED_CHARS = "子一文晓明佳思嘉雨宇安天欣梓可"

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass
class PhaseTiming:
    name: str
    seconds: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    description: str
    # How to get in ("password demo-2026", "judge code DJ00007 + PIN 202611") and
    # the first pages to open, for the printed summary.
    secrets: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


@dataclass
class DemoResult:
    sizes: Sizes
    seed: int
    programme_id: int
    final_event_id: int
    phases: list[PhaseTiming] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)


class DemoError(Exception):
    """The demo cannot be built or removed; the message says why."""


class DemoExists(DemoError):
    """The demo programme is already there and ``reset`` was not asked for."""


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def demo_exists() -> bool:
    return (
        Programme.objects.filter(code=DEMO_PROGRAMME_CODE).exists()
        or Event.objects.filter(code__in=DEMO_EVENT_CODES).exists()
    )


DEMO_USERNAMES: dict[str, str] = {
    "organiser": "organiser",
    "chief": "chief",
    "judge": "judge",
    "lead": "lead",
}


def demo_logins() -> list[DemoLogin]:
    """The demo logins as they stand in the database, described by what they
    can do, how to get in and which page to open first."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES.values())}
    final = Event.objects.filter(code=DEMO_EVENT_CODES[-1]).first()
    event_code = final.code if final else DEMO_EVENT_CODES[-1]
    password = f"password {DEMO_PASSWORD}"
    checked: dict[str, bool] = {}  # PIN hash -> holds DEMO_PIN
    logins = []
    for role, username in DEMO_USERNAMES.items():
        user = users.get(username)
        if user is None:
            continue
        if role == "organiser":
            text = "组委会 organiser: event dashboard, publication, medal table, certificates"
            urls: tuple[str, ...] = (f"/organiser/events/{event_code}/", "/admin/")
            secrets: tuple[str, ...] = (password,)
        elif role == "chief":
            skill = roles.chief_skills(user).first()
            text = f"裁判长 chief judge of {skill}" if skill else "裁判长 chief judge"
            urls = ("/tablet/board/",)
            secrets = (password, *_pin_text(roles.judge_of(user), checked))
        elif role == "judge":
            skill = roles.judged_skills(user).first()
            text = f"裁判员 judge in {skill}" if skill else "裁判员 judge"
            urls = ("/tablet/",)
            # The tablet signs in with the judge code and PIN, not the password.
            secrets = (*_pin_text(roles.judge_of(user), checked), f"portal {password}")
        else:
            delegation = roles.lead_delegation(user)
            text = f"领队 delegation lead of {delegation}" if delegation else "领队 delegation lead"
            urls = ("/lead/", "/delegation/")
            secrets = (password,)
        logins.append(DemoLogin(role, username, text, secrets, urls))
    return logins


def public_urls() -> tuple[str, ...]:
    """The public pages of the demo final (no login)."""
    code = DEMO_EVENT_CODES[-1]
    return (f"/results/{code}/", f"/results/{code}/medals/", f"/results/{code}/scoreboard/")


def _pin_text(judge: Judge | None, checked: dict[str, bool]) -> tuple[str, ...]:
    """ "tablet: judge code … + PIN …" while the judge still has the demo PIN
    (a chief judge may have issued a new one since: then the code alone)."""
    if judge is None:
        return ()
    credential = JudgeCredential.objects.filter(judge=judge).first()
    if credential is None:
        return ()
    if credential.pin_hash not in checked:
        checked[credential.pin_hash] = pin_hashing.pin_matches(DEMO_PIN, credential.pin_hash)
    if checked[credential.pin_hash]:
        return (f"tablet: judge code {judge.code} + PIN {DEMO_PIN}",)
    return (f"tablet: judge code {judge.code} (PIN changed since the demo was built)",)


def build_demo(
    sizes: Sizes,
    *,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    today: dt.date | None = None,
    scoring: bool = False,
    marks: bool = True,
) -> DemoResult:
    """Build the demo programme in one transaction and return timings and counts.

    ``scoring`` adds schemes, marking groups and demo PINs, and with
    ``marks`` the marks, sign-offs, awards and publications (see the module
    docstring). Raises ``DemoExists`` when a demo is present and ``reset`` is
    false, so running twice never half-builds or crashes on unique codes.

    Longer than most functions on purpose: it is the list of timed phases
    (``benchmarks seed`` prints them), in the order the data depends on.
    """
    sizes.check()
    rng = random.Random(seed)
    today = today or timezone.localdate()
    timer = _Timer()
    with transaction.atomic():
        if demo_exists():
            if not reset:
                raise DemoExists(DEMO_PROGRAMME_CODE)
            with timer.phase("reset") as ph:
                ph.rows = delete_demo()
        with timer.phase("delegations") as ph:
            delegations = _create_delegations(sizes)
            ph.rows = len(delegations)
        with timer.phase("skills") as ph:
            plan = _create_programme(sizes, rng, today, delegations)
            ph.rows = plan.rows
        with timer.phase("athletes") as ph:
            athletes = _create_athletes(plan, rng, today)
            ph.rows = len(athletes)
        with timer.phase("entries") as ph:
            ph.rows = _create_entries(plan, rng, athletes)
        with timer.phase("judges") as ph:
            judges = _create_judges(plan, rng)
            ph.rows = len(judges) * 2  # one assignment per judge
        with timer.phase("logins") as ph:
            ph.rows = _create_logins(plan, judges)
        if scoring:
            # A generator of its own: the people above stay the same with or
            # without scoring, and schemes the same with or without marks.
            srng = random.Random(f"{seed}-scoring")
            with timer.phase("schemes") as ph:
                ph.rows = _create_schemes(plan, srng)
            with timer.phase("groups") as ph:
                ph.rows = _create_groups(plan)
            with timer.phase("pins") as ph:
                ph.rows = _create_pins(plan)
            if marks:
                _create_marks(plan, srng, timer)
                with timer.phase("progress") as ph:
                    # What the organiser's dashboard shows for skills still
                    # marking, stored as a worker would (docs/dashboards.md).
                    ph.rows = _store_progress(plan)
                with timer.phase("sector") as ph:
                    # A health commission's 岗位练兵技术比武: stages, a drawn
                    # final, titles, rewards, a theory exam (demo.sector).
                    sector_demo.build(today, plan.users["organiser"], random.Random(f"{seed}-wjw"))
                    ph.rows = 1
    result = DemoResult(
        sizes=sizes,
        seed=seed,
        programme_id=plan.programme.pk,
        final_event_id=plan.final.pk,
        phases=timer.phases,
        logins=demo_logins(),
    )
    result.counts = count_demo(plan.final)
    return result


def _store_progress(plan: _Plan) -> int:
    open_skills = Skill.objects.filter(event=plan.final).exclude(
        marking__status=SkillMarking.Status.SIGNED_OFF
    )
    for skill in open_skills:
        refresh.store_progress(skill)
    return len(open_skills)


def delete_demo() -> int:
    """Remove the demo programme and the people only it used; return rows removed.

    Delegations, athletes and judges live outside programmes, so they are
    removed only when nothing else refers to them any more: an import into
    another event that reused a demo delegation code keeps that delegation.
    """
    removed = 0
    events = Event.objects.filter(
        Q(programme__code__in=(DEMO_PROGRAMME_CODE, sector_demo.PROGRAMME_CODE))
        | Q(code__in=DEMO_EVENT_CODES)
    )
    skill_ids = list(Skill.objects.filter(event__in=events).values_list("pk", flat=True))
    try:
        # What the demo's users did with it (appeals, certificates, advancements,
        # publications) protects its skills and entries: it goes with the demo.
        removed += Appeal.objects.filter(skill_id__in=skill_ids).delete()[0]
        removed += Certificate.objects.filter(event__in=events).delete()[0]
        removed += Advancement.objects.filter(
            Q(source_skill_id__in=skill_ids) | Q(target_skill_id__in=skill_ids)
        ).delete()[0]
        removed += PublicationLog.objects.filter(skill_id__in=skill_ids).delete()[0]
        removed += sector_demo.release(skill_ids)
        removed += _delete_ledger(skill_ids)
        # Skills cascade to entries, members, quotas, assignments and schemes.
        removed += events.delete()[0]
        removed += Programme.objects.filter(
            code__in=(DEMO_PROGRAMME_CODE, sector_demo.PROGRAMME_CODE)
        ).delete()[0]
        codes = _all_demo_delegation_codes()
        removed += Athlete.objects.filter(
            delegation__code__in=codes, memberships__isnull=True
        ).delete()[0]
        removed += Judge.objects.filter(
            code__startswith=DEMO_JUDGE_PREFIX, assignments__isnull=True
        ).delete()[0]
        removed += (
            Delegation.objects.filter(code__in=codes)
            .filter(athletes__isnull=True, judges__isnull=True, entries__isnull=True)
            .delete()[0]
        )
    except ProtectedError as exc:
        # Data of other apps may still protect rows the demo created.
        raise DemoError(
            f"the demo cannot be removed, other data still refers to it: {exc.args[0]}"
        ) from exc
    return removed


def _delete_ledger(skill_ids: list[int]) -> int:
    """Delete the ledger chains and marks of the demo's skills.

    The ledger is append-only (ORM guard; on PostgreSQL a trigger); the demo
    is throwaway data, and removing a skill's whole chain together with the
    skill and its marking state leaves every other chain intact, so
    ``verify_ledger`` stays ok. ``scoring.ledger.purge_skills`` is the one
    maintenance path for that (docs/integrity.md).
    """
    return ledger.purge_skills(skill_ids)


def count_demo(final: Event) -> dict[str, int]:
    skills = Skill.objects.filter(event=final)
    return {
        "programmes": Programme.objects.filter(pk=final.programme_id).count(),
        "events": Event.objects.filter(programme_id=final.programme_id).count(),
        "delegations": len(_delegations_in(final)),
        "skills": skills.count(),
        "team skills": skills.filter(team_size__gte=2).count(),
        "quotas": Quota.objects.filter(skill__event=final).count(),
        "entries": Entry.objects.filter(skill__event=final).count(),
        "team entries": Entry.objects.filter(skill__event=final, skill__team_size__gte=2).count(),
        "athletes": EntryMember.objects.filter(event=final).count(),
        "judges": Judge.objects.filter(assignments__skill__event=final).distinct().count(),
        "judge assignments": JudgeAssignment.objects.filter(skill__event=final).count(),
        "aspects": Aspect.objects.filter(skill__event=final).count(),
        "marking groups": MarkingGroup.objects.filter(skill__event=final).count(),
        "marks": Mark.objects.filter(skill__event=final).count(),
        "ledger records": LedgerRecord.objects.filter(skill__event=final).count(),
        "skills marking": SkillMarking.objects.filter(
            skill__event=final, status=SkillMarking.Status.OPEN, ledger_length__gt=0
        ).count(),
        "skills signed off": SkillMarking.objects.filter(
            skill__event=final, status=SkillMarking.Status.SIGNED_OFF
        ).count(),
        "skills published": publication.published_skills(final).count(),
        "awards": Award.objects.filter(skill__event=final).count(),
    }


def _delegations_in(final: Event) -> set[int]:
    """Delegations taking part in the final: with entries, quotas or judges.

    Three small id queries rather than one OR over three joins, which would
    multiply entries by quotas by judges before DISTINCT.
    """
    ids = set(Entry.objects.filter(skill__event=final).values_list("delegation_id", flat=True))
    ids |= set(Quota.objects.filter(skill__event=final).values_list("delegation_id", flat=True))
    ids |= set(
        JudgeAssignment.objects.filter(skill__event=final).values_list(
            "judge__delegation_id", flat=True
        )
    )
    return ids


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


@dataclass
class _DelegationInfo:
    obj: Delegation
    regions: tuple[str, ...]
    employers: tuple[str, ...]


@dataclass
class _SkillPlan:
    obj: Skill
    female_share: float
    # delegation index -> number of entries it sends
    allocation: dict[int, int]


@dataclass
class _Plan:
    sizes: Sizes
    programme: Programme
    final: Event
    delegations: list[_DelegationInfo]
    skills: list[_SkillPlan]
    lead_delegation: int
    final_start: dt.date
    rows: int = 0
    # (skill index, delegation index, athlete positions) per entry, from the athletes phase
    entries: list[tuple[int, int, list[int]]] = field(default_factory=list)
    # (skill index, role) per judge, in creation order
    judge_roles: list[tuple[int, str]] = field(default_factory=list)
    # Filled by the later phases, for the scoring part.
    entry_objs: list[Entry] = field(default_factory=list)  # parallel to ``entries``
    judge_objs: list[Judge] = field(default_factory=list)  # parallel to ``judge_roles``
    users: dict[str, User] = field(default_factory=dict)  # role -> demo login
    demo_chief: Judge | None = None
    demo_judge: Judge | None = None
    # skill index -> its aspects, from the schemes phase
    aspects: dict[int, list[Aspect]] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.phases: list[PhaseTiming] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[PhaseTiming]:
        timing = PhaseTiming(name=name, seconds=0.0, rows=0)
        start = time.perf_counter()
        try:
            yield timing
        finally:
            timing.seconds = time.perf_counter() - start
            self.phases.append(timing)


def _bulk(model: type[_M], objs: Sequence[_M]) -> list[_M]:
    """bulk_create in batches; PostgreSQL and SQLite ≥ 3.35 return the new ids."""
    return model._default_manager.bulk_create(objs, batch_size=BATCH)


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights``, summing exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [int(x) for x in raw]
    short = total - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[:short]:
        parts[i] += 1
    return parts


def _all_demo_delegation_codes() -> list[str]:
    codes = [c for c, _n, _r in _JIANGSU_CITIES] + [c for c, _n in _JIANGSU_ORGS]
    codes += [c for c, _n, _g in _PROVINCES] + [c for c, _n, _r in _NATIONAL_OTHERS]
    # Derived codes for sizes beyond the lists (see _delegation_specs).
    return codes + [f"{c}{k}" for c in list(codes) for k in range(2, 10)]


def _delegation_specs(scope: str) -> list[tuple[str, str, tuple[str, ...] | None, str | None]]:
    """(code, name, ID regions or None for "from anywhere", employer stem or None)."""
    specs: list[tuple[str, str, tuple[str, ...] | None, str | None]] = []
    if scope == "provincial":
        for code, name, regions in _JIANGSU_CITIES:
            specs.append((code, name, regions, name.removesuffix("市")))
        specs += [(code, name, None, None) for code, name in _JIANGSU_ORGS]
    else:
        for code, name, gb in _PROVINCES:
            regions = tuple(f"{gb}01{d:02d}" for d in (2, 3, 4, 5))
            specs.append((code, name, regions, name))
        specs += [(code, name, regions, None) for code, name, regions in _NATIONAL_OTHERS]
    return specs


def _create_delegations(sizes: Sizes) -> list[_DelegationInfo]:
    specs = _delegation_specs(sizes.scope)
    # More delegations than names: second teams of the same bodies, which
    # draw on the same regions and employers.
    chosen: list[tuple[str, str, str, tuple[str, ...] | None, str | None]] = []
    for k in itertools.count(1):
        for code, name, regions, stem in specs:
            if len(chosen) == sizes.delegations:
                break
            if k == 1:
                chosen.append((code, name, name, regions, stem))
            else:
                chosen.append((f"{code}{k}", f"{name}第{k}代表队", name, regions, stem))
        if len(chosen) == sizes.delegations:
            break
    all_regions = tuple(r for _c, _n, regions, _s in specs if regions for r in regions)
    existing = {d.code: d for d in Delegation.objects.filter(code__in=[c[0] for c in chosen])}
    new = [Delegation(code=c, name=n) for c, n, _b, _r, _s in chosen if c not in existing]
    for d in _bulk(Delegation, new):
        existing[d.code] = d
    infos = []
    for code, _name, body, regions, stem in chosen:
        employers = tuple(t.format(s=stem, n=body) for t in _CITY_EMPLOYERS) if stem else (body,)
        infos.append(_DelegationInfo(existing[code], regions or all_regions, employers))
    return infos


def _skill_specs(sizes: Sizes) -> list[tuple[str, str, int, float, str, str]]:
    """(code, name, team size, share of women, category, award policy) per skill."""
    if sizes.scope == "national":
        # The national final's real split: 62 WorldSkills-selection, 47 featured.
        shares = [62, 47, 0]
    else:
        shares = [40, 35, 25]
    counts = _largest_remainder(sizes.skills, shares)
    groups = [
        (_WORLDSKILLS, Skill.Category.WORLDSKILLS_SELECTION, AwardPolicy.WORLDSKILLS),
        (_NATIONAL_FEATURED, Skill.Category.NATIONAL_FEATURED, AwardPolicy.NATIONAL),
        (_PROVINCIAL, Skill.Category.PROVINCIAL, AwardPolicy.RATIO),
    ]
    # Numbered in catalogue order (WorldSkills selection first), as finals number
    # their skills; the category is a field of its own.
    width = 2 if sizes.skills < 100 else 3
    specs: list[tuple[str, str, int, float, str, str]] = []
    for count, (names, category, policy) in zip(counts, groups, strict=True):
        for i in range(count):
            name, team_size, female = names[i % len(names)]
            round_ = i // len(names)
            variant = _VARIANTS[round_] if round_ < len(_VARIANTS) else f"（第{round_ + 1}组）"
            code = f"S{len(specs) + 1:0{width}d}"
            specs.append((code, name + variant, team_size, female, category, policy))
    return specs


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def _create_programme(
    sizes: Sizes, rng: random.Random, today: dt.date, delegations: list[_DelegationInfo]
) -> _Plan:
    # Dates hang off the final, six weeks ahead, so the demo's registration
    # deadline is always in the future whenever it is built.
    final_start = today + dt.timedelta(days=45)
    year = final_start.year
    national = sizes.scope == "national"
    programme = Programme.objects.create(
        code=DEMO_PROGRAMME_CODE,
        name=f"{year}年全国技能大赛" if national else f"{year}年全省职业技能大赛",
        year=year,
        issuing_body="人力资源和社会保障部" if national else "省人力资源和社会保障厅",
        default_award_policy=AwardPolicy.NATIONAL if national else AwardPolicy.RATIO,
    )
    phases = [
        Phase(
            programme=programme,
            kind=kind,
            starts_on=final_start + dt.timedelta(days=start),
            ends_on=final_start + dt.timedelta(days=end),
        )
        for kind, start, end in (
            (Phase.Kind.MOBILISATION, -150, -121),
            (Phase.Kind.TRAINING, -120, -1),
            (Phase.Kind.COMPETITION, 0, 3),
            (Phase.Kind.COMMENDATION, 30, 45),
        )
    ]
    _bulk(Phase, phases)
    events = _create_events(programme, final_start, national)
    final = events[2]
    specs = _skill_specs(sizes)
    skills = _create_skills(final, specs, rng)
    plans = _allocate_entries(skills, specs, sizes.entries, rng, len(delegations))
    quotas, lead = _plan_quotas(plans, rng, len(delegations))
    for q in quotas:
        q.delegation = delegations[q.delegation_id].obj  # index -> object
    _bulk(Quota, quotas)
    return _Plan(
        sizes=sizes,
        programme=programme,
        final=final,
        delegations=delegations,
        skills=plans,
        lead_delegation=lead,
        final_start=final_start,
        rows=1 + len(phases) + len(events) + len(skills) + len(quotas),
    )


def _create_events(programme: Programme, final_start: dt.date, national: bool) -> list[Event]:
    """The two selection rounds (closed) and the final (registration open)."""

    def days(n: int) -> dt.date:
        return final_start + dt.timedelta(days=n)

    events = [
        Event(
            programme=programme,
            code=DEMO_EVENT_CODES[0],
            name=f"{programme.name}第一轮选拔赛",
            kind=Event.Kind.SELECTION,
            status=Event.Status.CLOSED,
            starts_on=days(-100),
            ends_on=days(-99),
            venue="各地分赛点",
        ),
        Event(
            programme=programme,
            code=DEMO_EVENT_CODES[1],
            name=f"{programme.name}第二轮集训选拔赛",
            kind=Event.Kind.TRAINING,
            status=Event.Status.CLOSED,
            starts_on=days(-50),
            ends_on=days(-48),
            venue="常州机电职业技术学院集训基地",
        ),
        Event(
            programme=programme,
            code=DEMO_EVENT_CODES[2],
            name=f"{programme.name}决赛",
            kind=Event.Kind.FINAL,
            status=Event.Status.REGISTRATION,
            starts_on=days(0),
            ends_on=days(3),
            venue="国家会展中心（天津）" if national else "南京国际博览中心",
            registration_deadline=_local(days(-14), 17),
        ),
    ]
    _bulk(Event, events)
    return events


def _create_skills(final: Event, specs: list, rng: random.Random) -> list[Skill]:
    skills = [
        Skill(
            event=final,
            code=code,
            name=name,
            team_size=team_size,
            category=category,
            award_policy=policy,
            # Trimmed means need five or more judges on an aspect; a mix shows both.
            judgement_aggregation=JudgementAggregation.TRIMMED
            if rng.random() < 0.4
            else JudgementAggregation.MEAN,
        )
        for code, name, team_size, _female, category, policy in specs
    ]
    _bulk(Skill, skills)
    return skills


def _allocate_entries(
    skills: list[Skill], specs: list, entries: int, rng: random.Random, d_count: int
) -> list[_SkillPlan]:
    """How many entries each delegation sends to each skill."""
    # Entries per skill vary (popular trades draw more), summing exactly.
    weights = [rng.uniform(0.6, 1.4) for _ in skills]
    per_skill = _largest_remainder(entries, weights)
    # Every skill holds at least one entry: take from the largest.
    for i, n in enumerate(per_skill):
        if n == 0:
            biggest = max(range(len(per_skill)), key=per_skill.__getitem__)
            per_skill[biggest] -= 1
            per_skill[i] = 1
    plans = []
    for skill, n, spec in zip(skills, per_skill, specs, strict=True):
        # Spread evenly over a shuffled order: every delegation sends n // D,
        # the first n % D one more; with fewer entries than delegations some
        # send nobody, as in a real final.
        order = list(range(d_count))
        rng.shuffle(order)
        base, extra = divmod(n, d_count)
        allocation = {d: base + (1 if k < extra else 0) for k, d in enumerate(order)}
        allocation = {d: c for d, c in allocation.items() if c}
        plans.append(_SkillPlan(skill, spec[3], allocation))
    return plans


def _plan_quotas(
    plans: list[_SkillPlan], rng: random.Random, d_count: int
) -> tuple[list[Quota], int]:
    """Quotas cover what was sent, sometimes a place more; a few go unused.

    Returns the quotas (``delegation_id`` holds the delegation's index until
    the caller swaps in the object) and the index of a delegation that has
    entries and a place left somewhere, for the demo lead.
    """
    quotas: list[Quota] = []
    with_room: set[int] = set()
    first_sent: dict[int, Quota] = {}
    for plan in plans:
        for d in range(d_count):
            sent = plan.allocation.get(d, 0)
            if sent:
                max_entries = sent + (1 if rng.random() < 0.3 else 0)
            elif rng.random() < 0.15:
                max_entries = 1  # offered a place, not taken (yet)
            else:
                continue
            quota = Quota(skill=plan.obj, delegation_id=d, max_entries=max_entries)
            quotas.append(quota)
            if sent:
                first_sent.setdefault(d, quota)
                if max_entries > sent:
                    with_room.add(d)
    # The demo lead: the first listed delegation with entries and a place
    # left; if chance left none, give the first sender a spare place.
    if with_room:
        return quotas, min(with_room)
    lead = min(first_sent)
    first_sent[lead].max_entries += 1
    return quotas, lead


def _pick_name(rng: random.Random, gender: str) -> str:
    if rng.random() < 0.004:
        surname = rng.choice(_COMPOUND_SURNAMES)
    else:
        surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    own = _MALE_CHARS if gender == Gender.MALE else _FEMALE_CHARS
    if rng.random() < 0.25:
        return surname + rng.choice(own)
    return surname + rng.choice(own + _SHARED_CHARS) + rng.choice(own)


def _birth_date(rng: random.Random, on: dt.date, youngest: int, oldest: int) -> dt.date:
    """A birth date making the person ``youngest``..``oldest`` years old on ``on``."""
    latest = _years_before(on, youngest)
    earliest = _years_before(on, oldest + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _create_athletes(plan: _Plan, rng: random.Random, today: dt.date) -> list[Athlete]:
    used_ids = {
        i
        for i in Athlete.objects.exclude(id_number=None).values_list("id_number", flat=True)
        if i is not None
    }
    athletes: list[Athlete] = []
    for s_index, skill_plan in enumerate(plan.skills):
        team_size = skill_plan.obj.team_size
        for d_index, sent in sorted(skill_plan.allocation.items()):
            info = plan.delegations[d_index]
            for _ in range(sent):
                members = []
                for _m in range(team_size):
                    gender = (
                        Gender.FEMALE if rng.random() < skill_plan.female_share else Gender.MALE
                    )
                    born = _birth_date(rng, plan.final_start, 18, 35)
                    id_number = _unique_id(rng, info.regions, born, gender, used_ids, today)
                    members.append(len(athletes))
                    athletes.append(
                        Athlete(
                            delegation=info.obj,
                            name=_pick_name(rng, gender),
                            gender=gender,
                            birth_date=born,
                            id_number=id_number,
                            employer=rng.choice(info.employers),
                        )
                    )
                plan.entries.append((s_index, d_index, members))
    return _bulk(Athlete, athletes)


def _unique_id(
    rng: random.Random,
    regions: tuple[str, ...],
    born: dt.date,
    gender: str,
    used: set[str],
    today: dt.date,
) -> str:
    assert born <= today  # the validator rejects birth dates in the future
    while True:
        number = idnumbers.make_id_number(rng.choice(regions), born, rng.randrange(100), gender)
        if number not in used:
            used.add(number)
            return number


def _competitor_numbers(rng: random.Random, n: int) -> list[str]:
    """Anonymised numbers: random 3-digit (or wider) numbers, unique in the skill,
    drawn independently of the delegation so they reveal nothing."""
    width = max(3, len(str(n * 4)))
    pool = range(10 ** (width - 1), 10**width)
    return [f"{x}" for x in rng.sample(pool, n)]


def _create_entries(plan: _Plan, rng: random.Random, athletes: list[Athlete]) -> int:
    numbers: dict[int, Iterator[str]] = {
        i: iter(_competitor_numbers(rng, sum(sp.allocation.values())))
        for i, sp in enumerate(plan.skills)
    }
    entries = [
        Entry(
            skill=plan.skills[s].obj,
            delegation=plan.delegations[d].obj,
            competitor_no=next(numbers[s]),
        )
        for s, d, _members in plan.entries
    ]
    _bulk(Entry, entries)
    plan.entry_objs = entries
    final_id = plan.final.pk
    # EntryMember.save() copies the event from the skill; bulk_create skips
    # save(), so the event is set here (it backs the once-per-event constraint).
    members = [
        EntryMember(entry=entry, athlete=athletes[a], event_id=final_id)
        for entry, (_s, _d, member_ids) in zip(entries, plan.entries, strict=True)
        for a in member_ids
    ]
    _bulk(EntryMember, members)
    return len(entries) + len(members)


def _judges_per_skill(plan: _Plan) -> list[int]:
    """At least MIN_JUDGES_PER_SKILL each; the rest follows the number of entries."""
    sizes = plan.sizes
    spare = sizes.judges - MIN_JUDGES_PER_SKILL * len(plan.skills)
    entries = [max(1, sum(sp.allocation.values())) for sp in plan.skills]
    extra = _largest_remainder(spare, entries) if spare else [0] * len(entries)
    return [MIN_JUDGES_PER_SKILL + e for e in extra]


def _create_judges(plan: _Plan, rng: random.Random) -> list[Judge]:
    existing = set(
        Judge.objects.filter(code__startswith=DEMO_JUDGE_PREFIX).values_list("code", flat=True)
    )
    codes = (
        c for c in (f"{DEMO_JUDGE_PREFIX}{i:05d}" for i in itertools.count(1)) if c not in existing
    )
    d_count = len(plan.delegations)
    judges: list[Judge] = []
    assigned: list[tuple[int, str]] = []  # (skill index, role) per judge
    for s_index, count in enumerate(_judges_per_skill(plan)):
        # Home delegations drawn without repeats until every delegation has a
        # judge here, so the first markers come from distinct delegations.
        homes: list[int] = []
        while len(homes) < count:
            order = list(range(d_count))
            rng.shuffle(order)
            homes += order
        for k, d in enumerate(homes[:count]):
            gender = Gender.FEMALE if rng.random() < 0.35 else Gender.MALE
            judges.append(
                Judge(
                    code=next(codes),
                    name=_pick_name(rng, gender),
                    delegation=plan.delegations[d].obj,
                )
            )
            role = JudgeAssignment.Role.CHIEF if k == 0 else JudgeAssignment.Role.JUDGE
            assigned.append((s_index, role))
    _bulk(Judge, judges)
    assignments = [
        JudgeAssignment(judge=j, skill=plan.skills[s].obj, role=role)
        for j, (s, role) in zip(judges, assigned, strict=True)
    ]
    _bulk(JudgeAssignment, assignments)
    plan.judge_roles = assigned
    plan.judge_objs = judges
    return judges


def _create_logins(plan: _Plan, judges: list[Judge]) -> int:
    """The four demo logins; one password hash, shared (they are demo accounts)."""
    password = make_password(DEMO_PASSWORD)
    users: dict[str, User] = {}
    existing = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES.values())}
    for role, username in DEMO_USERNAMES.items():
        user = existing.get(username) or User(username=username)
        user.password = password
        user.is_active = True
        user.is_staff = role == "organiser"  # the admin is the organiser's workplace
        user.is_superuser = False
        user.save()
        users[role] = user
    group, _ = Group.objects.get_or_create(name=ORGANISER_GROUP)
    users["organiser"].groups.add(group)

    # Chief and judge: the panel of the first skill; the judge preferably comes
    # from a delegation with an entry there, so the demo shows recusal.
    panel = [j for j, (s, _r) in zip(judges, plan.judge_roles, strict=True) if s == 0]
    chief, markers = panel[0], panel[1:]
    senders = {plan.delegations[d].obj.pk for d in plan.skills[0].allocation}
    judge = next((j for j in markers if j.delegation_id in senders), markers[0])
    Judge.objects.filter(user__in=[users["chief"], users["judge"]]).update(user=None)
    Judge.objects.filter(pk=chief.pk).update(user=users["chief"])
    Judge.objects.filter(pk=judge.pk).update(user=users["judge"])
    plan.users, plan.demo_chief, plan.demo_judge = users, chief, judge

    DelegationLead.objects.filter(user=users["lead"]).delete()
    DelegationLead.objects.create(
        user=users["lead"], delegation=plan.delegations[plan.lead_delegation].obj
    )
    return len(users) + 3


# ---------------------------------------------------------------------------
# Scoring: schemes, marking groups, PINs, marks, sign-off, awards, publication
# ---------------------------------------------------------------------------

M = AspectKind.MEASUREMENT.value
J = AspectKind.JUDGEMENT.value
HALF = Decimal("0.5")
TENTH = Decimal("0.1")
DEMO_SOURCE = "demo"
# Skills of the final fully marked (signed off, awarded; about three in four
# of them published) and skills still being marked, the demo chief's first.
FULL_SKILLS = 8
MARKING_SKILLS = 4
GROUP_SIZE = 3  # judges per marking group: three scores per judgement aspect

# A template is criteria (code, name, usual weight, sub-criteria); a
# sub-criterion is (name, aspects); an aspect is (kind, description). Each
# template offers more aspects than a skill uses: each skill keeps a subset.
_Aspect = tuple[str, str]
_Sub = tuple[str, tuple[_Aspect, ...]]
_Criterion = tuple[str, str, int, tuple[_Sub, ...]]

# Theory exams are a criterion of measurement aspects whose max marks give
# their weight (docs/scoring.md).
_THEORY: _Criterion = (
    "D",
    "理论知识",
    15,
    (("理论考试", ((M, "单项选择题"), (M, "多项选择题"), (M, "判断题"), (M, "案例分析题"))),),
)
_TEMPLATES: dict[str, tuple[_Criterion, ...]] = {
    "engineering": (
        (
            "A",
            "职业素养与安全生产",
            10,
            (
                (
                    "安全防护",
                    (
                        (M, "正确穿戴劳动防护用品"),
                        (M, "设备开机前安全检查并记录"),
                        (M, "危险源识别与安全警示设置"),
                    ),
                ),
                (
                    "文明生产",
                    (
                        (M, "工位整洁，工具量具摆放有序"),
                        (M, "材料节约，废料分类处置"),
                        (J, "职业素养与团队协作表现"),
                    ),
                ),
            ),
        ),
        (
            "B",
            "工艺与操作技能",
            35,
            (
                (
                    "工艺准备",
                    (
                        (M, "正确识读图纸与技术文件"),
                        (M, "工艺路线与工序安排合理"),
                        (M, "工具、刀具与材料选用正确"),
                    ),
                ),
                (
                    "操作过程",
                    (
                        (M, "操作步骤符合安全操作规程"),
                        (M, "设备参数设置正确"),
                        (J, "操作熟练程度与规范性"),
                        (J, "过程质量控制意识"),
                    ),
                ),
                ("调试与检测", ((M, "功能调试一次通过"), (M, "检测记录完整、数据准确"))),
            ),
        ),
        (
            "C",
            "作品质量",
            40,
            (
                (
                    "尺寸与精度",
                    (
                        (M, "关键尺寸一达到公差要求"),
                        (M, "关键尺寸二达到公差要求"),
                        (M, "形位公差符合图纸要求"),
                        (M, "表面粗糙度达到要求"),
                    ),
                ),
                ("外观与工艺", ((J, "外观质量与整体效果"), (J, "细节处理与工艺水平"))),
                (
                    "功能与性能",
                    (
                        (M, "主要功能全部实现"),
                        (M, "性能指标达到任务书要求"),
                        (J, "方案的合理性与创新性"),
                    ),
                ),
            ),
        ),
    ),
    "it": (
        (
            "A",
            "职业素养与规范",
            10,
            (
                (
                    "规范与安全",
                    (
                        (M, "文档与代码命名符合规范"),
                        (M, "数据备份与安全措施到位"),
                        (M, "按时提交全部成果"),
                    ),
                ),
                ("沟通与展示", ((J, "方案陈述与答辩表现"), (M, "用户文档完整"))),
            ),
        ),
        (
            "B",
            "系统搭建与功能实现",
            35,
            (
                (
                    "环境部署",
                    (
                        (M, "基础环境按要求部署"),
                        (M, "服务配置正确并可访问"),
                        (M, "权限与账号设置正确"),
                    ),
                ),
                (
                    "功能实现",
                    (
                        (M, "核心功能一实现"),
                        (M, "核心功能二实现"),
                        (M, "扩展功能实现"),
                        (J, "实现方案的合理性"),
                    ),
                ),
            ),
        ),
        (
            "C",
            "测试与成果质量",
            40,
            (
                (
                    "功能测试",
                    (
                        (M, "测试用例全部通过"),
                        (M, "异常输入处理正确"),
                        (M, "性能达到任务书要求"),
                    ),
                ),
                (
                    "可用性与设计",
                    (
                        (J, "界面与交互设计"),
                        (J, "代码（配置）质量与可维护性"),
                        (J, "整体完成度与专业水准"),
                    ),
                ),
            ),
        ),
    ),
    "service": (
        (
            "A",
            "职业素养与卫生安全",
            10,
            (
                (
                    "仪容仪表与卫生",
                    (
                        (M, "着装、仪容符合行业规范"),
                        (M, "操作前后清洁消毒"),
                        (M, "用具与材料准备齐全"),
                    ),
                ),
                ("服务意识", ((J, "服务礼仪与沟通"), (M, "在规定时间内完成"))),
            ),
        ),
        (
            "B",
            "操作技能",
            40,
            (
                (
                    "技法运用",
                    (
                        (M, "基本技法运用正确"),
                        (M, "操作流程完整"),
                        (J, "手法熟练程度"),
                        (J, "技法难度与表现力"),
                    ),
                ),
                (
                    "现场操作",
                    (
                        (M, "工具使用安全规范"),
                        (M, "材料使用合理、损耗少"),
                        (J, "现场应变能力"),
                    ),
                ),
            ),
        ),
        (
            "C",
            "作品（服务）质量",
            35,
            (
                (
                    "完成质量",
                    (
                        (M, "作品符合任务书规格"),
                        (M, "成品数量与规格达标"),
                        (J, "整体效果与完成度"),
                    ),
                ),
                ("艺术与创意", ((J, "造型与色彩美观协调"), (J, "创意与风格表现"))),
            ),
        ),
    ),
    "construction": (
        (
            "A",
            "职业素养与安全文明施工",
            10,
            (
                (
                    "安全文明施工",
                    (
                        (M, "劳保用品穿戴齐全"),
                        (M, "工作台与脚手架搭设安全"),
                        (M, "施工现场整洁"),
                    ),
                ),
                ("施工组织", ((J, "施工组织与职业素养"), (M, "在规定时间内完成"))),
            ),
        ),
        (
            "B",
            "施工操作",
            35,
            (
                ("放线与准备", ((M, "定位放线准确"), (M, "材料与工具准备齐全"))),
                (
                    "施工过程",
                    (
                        (M, "施工工序正确"),
                        (M, "材料配比正确"),
                        (J, "操作熟练与规范"),
                        (J, "施工节奏与时间控制"),
                    ),
                ),
            ),
        ),
        (
            "C",
            "工程质量",
            40,
            (
                (
                    "尺寸与位置",
                    (
                        (M, "整体尺寸偏差不超过2 mm"),
                        (M, "垂直度偏差不超过2 mm"),
                        (M, "水平度偏差不超过2 mm"),
                        (M, "关键部位标高正确"),
                    ),
                ),
                (
                    "观感质量",
                    (
                        (J, "表面平整与接缝美观"),
                        (J, "细部节点处理"),
                        (J, "整体观感"),
                    ),
                ),
            ),
        ),
    ),
}
# Which template a skill uses, by words in its name (engineering otherwise).
_FAMILY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "it",
        (
            "网络",
            "云计算",
            "软件",
            "网站",
            "移动应用",
            "数据",
            "人工智能",
            "区块链",
            "信息",
            "电子商务",
            "互联网",
            "游戏",
            "平面设计",
            "数字孪生",
            "印刷媒体",
            "供应链",
            "货运代理",
        ),
    ),
    (
        "service",
        (
            "美发",
            "美容",
            "照护",
            "护理",
            "烹饪",
            "烘焙",
            "西点",
            "餐厅",
            "酒店",
            "花艺",
            "时装",
            "茶",
            "面点",
            "育婴",
            "家政",
            "保育",
            "苏绣",
            "云锦",
            "珠宝",
            "紫砂",
            "园艺",
            "商品展示",
            "营销",
            "验光",
            "人力资源",
            "劳动关系",
            "康复",
        ),
    ),
    (
        "construction",
        ("砌筑", "混凝土", "抹灰", "瓷砖", "木工", "管道", "涂装", "建筑", "架子工", "数字建造"),
    ),
)
# What a judgement score means (WorldSkills wording), shown under the buttons.
_DESCRIPTORS = (
    "低于行业标准：{d}存在明显不足",
    "达到行业标准：{d}基本符合要求",
    "达到并部分超过行业标准：{d}表现良好",
    "优秀，达到行业领先水平：{d}表现出色",
)


def _family(skill_name: str) -> str:
    for family, words in _FAMILY_WORDS:
        if any(w in skill_name for w in words):
            return family
    return "engineering"


def _criterion_weights(rng: random.Random, criteria: Sequence[_Criterion]) -> list[int]:
    """Whole marks per criterion summing to 100: safety 5–10, theory 10–20,
    the practical criteria share the rest (varied per skill)."""
    safety = rng.choice((5, 10, 10))
    theory = rng.choice((10, 15, 15, 20))
    practical = 100 - safety - theory
    middle = criteria[1:-1]
    shares = _largest_remainder(practical, [c[2] * rng.uniform(0.85, 1.15) for c in middle])
    return [safety, *shares, theory]


def _pick_aspects(rng: random.Random, criteria: Sequence[_Criterion]) -> list[list[list[_Aspect]]]:
    """The aspects a skill keeps, per criterion and sub-criterion: 13–19 in
    all, every sub-criterion keeps one, and three judgement aspects or more
    stay so discrepancies can happen."""
    kept = [[list(aspects) for _name, aspects in c[3]] for c in criteria]
    target = rng.randint(13, 19)
    slots = [
        (c, s, a) for c, subs in enumerate(kept) for s, aspects in enumerate(subs) for a in aspects
    ]
    rng.shuffle(slots)
    total = len(slots)
    judgements = sum(1 for _c, _s, a in slots if a[0] == J)
    for c, s, aspect in slots:
        if total <= target:
            break
        if len(kept[c][s]) < 2 or (aspect[0] == J and judgements <= 3):
            continue
        kept[c][s].remove(aspect)
        total -= 1
        judgements -= aspect[0] == J
    return kept


def _split_marks(rng: random.Random, weight: int, kinds: Sequence[str]) -> list[Decimal]:
    """Split a criterion's marks over its aspects on the half-mark grid,
    summing exactly; each aspect is worth at least 1, judgements a bit more."""
    units = weight * 2
    parts = _largest_remainder(
        units, [rng.uniform(0.6, 1.4) * (1.4 if k == J else 1.0) for k in kinds]
    )
    for i in range(len(parts)):
        while parts[i] < 2:
            biggest = max(range(len(parts)), key=parts.__getitem__)
            parts[biggest] -= 1
            parts[i] += 1
    return [HALF * p for p in parts]


def _create_schemes(plan: _Plan, rng: random.Random) -> int:
    """A marking scheme per skill of the final, totalling exactly 100."""
    criteria: list[Criterion] = []
    subs: list[tuple[Criterion, SubCriterion]] = []
    # (skill index, sub-criterion, code, kind, description, max mark)
    planned: list[tuple[int, SubCriterion, str, str, str, Decimal]] = []
    for s, skill_plan in enumerate(plan.skills):
        skill = skill_plan.obj
        template = (*_TEMPLATES[_family(skill.name)], _THEORY)
        weights = _criterion_weights(rng, template)
        kept = _pick_aspects(rng, template)
        for order, (tpl, weight, kept_subs) in enumerate(zip(template, weights, kept, strict=True)):
            code, name, _usual, sub_templates = tpl
            criterion = Criterion(
                skill=skill,
                code=code,
                name=name,  # pages show the code before it: "A 职业素养与安全生产"
                max_mark=Decimal(weight),
                order=order,
            )
            criteria.append(criterion)
            kinds = [a[0] for aspects in kept_subs for a in aspects]
            marks = iter(_split_marks(rng, weight, kinds))
            for k, ((sub_name, _all), sub_aspects) in enumerate(
                zip(sub_templates, kept_subs, strict=True), start=1
            ):
                sub = SubCriterion(
                    criterion=criterion,
                    code=f"{code}{k}",
                    name=sub_name,
                    # The theory exam is sat before the practical days.
                    marking_day="C-1" if code == _THEORY[0] else f"C{min(order + 1, 3)}",
                    order=k,
                )
                subs.append((criterion, sub))
                for n, (kind, text) in enumerate(sub_aspects, start=1):
                    planned.append((s, sub, f"{sub.code}.{n}", kind, text, next(marks)))
    _bulk(Criterion, criteria)
    for criterion, sub in subs:
        sub.criterion = criterion  # now with its id
    _bulk(SubCriterion, [sub for _c, sub in subs])
    aspects = [
        Aspect(
            skill=plan.skills[s].obj,
            sub_criterion=sub,
            code=code,
            kind=kind,
            description=text,
            max_mark=max_mark,
            order=order,
        )
        for order, (s, sub, code, kind, text, max_mark) in enumerate(planned)
    ]
    _bulk(Aspect, aspects)
    for (s, *_rest), aspect in zip(planned, aspects, strict=True):
        plan.aspects.setdefault(s, []).append(aspect)
    descriptors = [
        JudgementDescriptor(aspect=a, score=score, text=text.format(d=a.description))
        for a in aspects
        if a.kind == J
        for score, text in enumerate(_DESCRIPTORS)
    ]
    _bulk(JudgementDescriptor, descriptors)
    return len(criteria) + len(subs) + len(aspects) + len(descriptors)


def _number_key(entry: Entry) -> tuple[int, str]:
    return (len(entry.competitor_no), entry.competitor_no)


def _entries_by_skill(plan: _Plan) -> dict[int, list[Entry]]:
    by_skill: dict[int, list[Entry]] = {}
    for entry, (s, _d, _m) in zip(plan.entry_objs, plan.entries, strict=True):
        by_skill.setdefault(s, []).append(entry)
    return {s: sorted(entries, key=_number_key) for s, entries in by_skill.items()}


def _markers_by_skill(plan: _Plan) -> dict[int, list[Judge]]:
    by_skill: dict[int, list[Judge]] = {}
    for judge, (s, role) in zip(plan.judge_objs, plan.judge_roles, strict=True):
        if role == JudgeAssignment.Role.JUDGE:
            by_skill.setdefault(s, []).append(judge)
    return by_skill


def _group_cost(
    i: int, *, teams: list[list[Judge]], load: list[list[Entry]], delegation_id: int
) -> tuple[bool, int, int]:
    """How much group ``i`` should not get one more entry of the delegation:
    a judge of the entry's own delegation in it first, then its load."""
    return (any(j.delegation_id == delegation_id for j in teams[i]), len(load[i]), i)


def _create_groups(plan: _Plan) -> int:
    """Marking groups of three judges per skill (docs/integrity.md: the chief judge
    narrows judges to groups), so every judgement aspect gets three scores, not
    one per judge of the panel. Each entry goes to the least loaded group with
    no judge of its delegation, so recusal costs no score where it can be
    avoided. Judges left over form a measurement group: they enter M marks of
    any entry and are never expected on judgement aspects."""
    entries_of = _entries_by_skill(plan)
    groups: list[MarkingGroup] = []
    members: list[tuple[int, list[Judge], list[Entry], list[Aspect]]] = []
    for s, markers in sorted(_markers_by_skill(plan).items()):
        entries = entries_of.get(s, [])
        if not entries:
            continue
        if s == 0 and plan.demo_judge is not None:
            # The demo judge leads the first group of the demo chief's skill.
            markers = [plan.demo_judge, *(j for j in markers if j.pk != plan.demo_judge.pk)]
        count = max(1, min(len(markers) // GROUP_SIZE, len(entries)))
        teams = [markers[GROUP_SIZE * i : GROUP_SIZE * (i + 1)] for i in range(count)]
        load: list[list[Entry]] = [[] for _ in teams]
        for entry in entries:
            best = min(
                range(count),
                key=functools.partial(
                    _group_cost, teams=teams, load=load, delegation_id=entry.delegation_id
                ),
            )
            load[best].append(entry)
        skill = plan.skills[s].obj
        for i, (team, covered) in enumerate(zip(teams, load, strict=True), start=1):
            if not covered:
                continue  # a group listing no entries would cover them all
            groups.append(MarkingGroup(skill=skill, name=f"第{i}评分组"))
            members.append((len(groups) - 1, team, covered, []))
        rest = markers[GROUP_SIZE * count :]
        if rest:
            groups.append(MarkingGroup(skill=skill, name="测量组"))
            measured = [a for a in plan.aspects.get(s, []) if a.kind == M]
            members.append((len(groups) - 1, rest, [], measured))
    _bulk(MarkingGroup, groups)
    through_j = MarkingGroup.judges.through
    through_e = MarkingGroup.entries.through
    through_a = MarkingGroup.aspects.through
    rows_j, rows_e, rows_a = [], [], []
    for index, judges, entries, aspects in members:
        group_id = groups[index].pk
        rows_j += [through_j(markinggroup_id=group_id, judge_id=j.pk) for j in judges]
        rows_e += [through_e(markinggroup_id=group_id, entry_id=e.pk) for e in entries]
        rows_a += [through_a(markinggroup_id=group_id, aspect_id=a.pk) for a in aspects]
    _bulk(through_j, rows_j)
    _bulk(through_e, rows_e)
    _bulk(through_a, rows_a)
    return len(groups) + len(rows_j) + len(rows_e) + len(rows_a)


def _create_pins(plan: _Plan) -> int:
    """The demo judge and chief judge sign in on the tablet with DEMO_PIN,
    hashed exactly as ``tablets.pins.generate_pin`` stores a PIN."""
    judges = [j for j in (plan.demo_chief, plan.demo_judge) if j is not None]
    pin_hash = pin_hashing.hash_pin(DEMO_PIN)
    now = timezone.now()
    JudgeCredential.objects.filter(judge__in=judges).delete()
    _bulk(
        JudgeCredential,
        [
            JudgeCredential(judge=j, pin_hash=pin_hash, set_at=now, set_by=plan.users["organiser"])
            for j in judges
        ],
    )
    return len(judges)


@dataclass
class _Marked:
    """What was written for one skill: the scores of each judgement aspect."""

    skill_index: int
    # (entry id, aspect id) -> judge id -> score
    scores: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    writes: int = 0


def _choose_marked(plan: _Plan) -> tuple[list[int], list[int], list[int]]:
    """(published, signed off only, still marking) skill indices.

    The demo chief's skill (index 0) is still being marked. Finished skills
    are taken round-robin over the categories (so the pages show every award
    policy), the lead's delegation's skills first in each, so the lead sees
    published results of their own.
    """
    n = len(plan.skills)
    full_count = min(FULL_SKILLS, (n - 1) * 2 // 3)
    marking_count = min(MARKING_SKILLS - 1, n - 1 - full_count)
    by_category: dict[str, list[int]] = {}
    for i in sorted(
        range(1, n), key=lambda i: (plan.lead_delegation not in plan.skills[i].allocation, i)
    ):
        by_category.setdefault(plan.skills[i].obj.category, []).append(i)
    order = [
        i for row in itertools.zip_longest(*by_category.values()) for i in row if i is not None
    ]
    full = order[:full_count]
    published = full[: (full_count * 3 + 3) // 4]
    return published, full[len(published) :], [0, *order[full_count : full_count + marking_count]]


def _measurement(rng: random.Random, max_mark: Decimal, ability: float) -> Decimal:
    """A measurement mark near ``ability`` × max: the float only picks how
    many steps (0.5 up to 2 marks, as the tablet's buttons; 0.1 above) — the
    mark itself is an exact Decimal."""
    step = HALF if max_mark <= 2 else TENTH
    steps = int(max_mark / step)
    share = min(1.0, max(0.0, rng.gauss(ability, 0.08)))
    return step * round(share * steps)


def _judgements(rng: random.Random, ability: float, count: int) -> list[int]:
    """Scores 0–3 of ``count`` judges: one shared view of the work, and each
    judge now and then a point off it (rarely two: a discrepancy)."""
    base = min(3, max(0, round(3 * ability + rng.gauss(0, 0.45))))
    offsets = rng.choices((0, 1, -1, 2, -2), weights=(72, 13, 13, 1, 1), k=count)
    return [min(3, max(0, base + o)) for o in offsets]


def _mark_skill(
    plan: _Plan,
    s: int,
    rng: random.Random,
    ability: dict[int, float],
    *,
    complete: bool,
) -> _Marked:
    """Write a skill's marks through ``write_marks``: every mark of every
    entry (``complete``), or each judge part of the way through their entries
    (marking in progress). The judges expected on an entry are asked of the
    panel rules themselves (``panels.expected_by_entry``), so the marks given
    are exactly the marks the results engine waits for."""
    skill = plan.skills[s].obj
    aspects = plan.aspects[s]
    measured = [a for a in aspects if a.kind == M]
    judged = [a for a in aspects if a.kind == J]
    entries = _entries_by_skill(plan).get(s, [])
    judges = {j.pk: j for j in _markers_by_skill(plan).get(s, [])}
    expected = panels.expected_by_entry(
        panels.load_panel(skill),
        [a.pk for a in judged],
        [(e.pk, e.delegation_id) for e in entries],
    )
    markers_of = {e.pk: sorted(expected[e.pk].common) for e in entries}
    reached, position = _progress(plan, sorted(judges), entries, markers_of, rng, complete=complete)

    marked = _Marked(s)
    values: dict[tuple[int, int, int], Decimal] = {}  # (entry, aspect, judge) -> value
    for entry in entries:
        markers = markers_of[entry.pk]
        done_by = [j for j in markers if position[(j, entry.pk)] < reached[j]]
        if not done_by:
            continue
        # One judge of the group enters the measurements.
        for aspect in measured:
            values[(entry.pk, aspect.pk, done_by[0])] = _measurement(
                rng, aspect.max_mark, ability[entry.pk]
            )
        for aspect in judged:
            for judge_id, score in zip(
                markers, _judgements(rng, ability[entry.pk], len(markers)), strict=True
            ):
                if judge_id in done_by:
                    marked.scores.setdefault((entry.pk, aspect.pk), {})[judge_id] = score
    if s == 0 and not complete:
        _force_discrepancy(plan, marked)
    for (entry_id, aspect_id), scores in marked.scores.items():
        for judge_id, score in scores.items():
            values[(entry_id, aspect_id, judge_id)] = Decimal(score)
    entry_of = {e.pk: e for e in entries}
    aspect_of = {a.pk: a for a in aspects}
    writes = [
        batch.MarkWrite(entry_of[e], aspect_of[a], judges[j], value)
        for (e, a, j), value in sorted(values.items())
    ]
    batch.write_marks(skill, writes, source=DEMO_SOURCE)
    marked.writes = len(writes)
    return marked


def _progress(
    plan: _Plan,
    judge_ids: list[int],
    entries: list[Entry],
    markers_of: dict[int, list[int]],
    rng: random.Random,
    *,
    complete: bool,
) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """How far each judge got through their own entries (in competitor-number
    order), and each (judge, entry)'s place in that judge's list."""
    reached: dict[int, int] = {}
    position: dict[tuple[int, int], int] = {}
    for judge_id in judge_ids:
        mine = [e for e in entries if judge_id in markers_of[e.pk]]
        position.update(((judge_id, e.pk), k) for k, e in enumerate(mine))
        if complete:
            reached[judge_id] = len(mine)
        elif plan.demo_judge is not None and judge_id == plan.demo_judge.pk:
            # Half done: entries left to mark on the tablet, and some marked.
            reached[judge_id] = min(max(1, len(mine) // 2), max(len(mine) - 1, 0))
        else:
            reached[judge_id] = round(len(mine) * rng.uniform(0.4, 1.0))
    return reached, position


def _force_discrepancy(plan: _Plan, marked: _Marked) -> None:
    """The demo chief must see a discrepancy involving the demo judge (who
    then gets a re-mark request): make one if chance gave none."""
    judge = plan.demo_judge
    if judge is None:
        return
    shared = [
        (pair, scores)
        for pair, scores in marked.scores.items()
        if judge.pk in scores and len(scores) >= 2
    ]
    if not shared:
        return
    if any(max(s.values()) - min(s.values()) > 1 for _p, s in shared):
        return
    _pair, scores = shared[0]
    other = next(v for j, v in sorted(scores.items()) if j != judge.pk)
    scores[judge.pk] = other + 2 if other <= 1 else other - 2


def _discrepancies(skill: Skill, marked: _Marked) -> list[tuple[int, int]]:
    tolerance = skill.discrepancy_tolerance
    return [
        pair
        for pair, scores in sorted(marked.scores.items())
        if len(scores) >= 2 and max(scores.values()) - min(scores.values()) > tolerance
    ]


def _settle(scores: dict[int, int], tolerance: int) -> dict[int, int]:
    """New scores of the judges who re-mark until the spread is within
    tolerance: the score farthest from the others moves towards them."""
    scores = dict(scores)
    changed: dict[int, int] = {}
    while max(scores.values()) - min(scores.values()) > tolerance:
        low, high = min(scores.values()), max(scores.values())
        mean = Decimal(sum(scores.values())) / len(scores)
        if mean - low >= high - mean:
            judge_id = min(j for j, v in scores.items() if v == low)
            scores[judge_id] = high - tolerance
        else:
            judge_id = min(j for j, v in scores.items() if v == high)
            scores[judge_id] = low + tolerance
        changed[judge_id] = scores[judge_id]
    return changed


def _finish_skill(plan: _Plan, marked: _Marked, manager: User) -> int:
    """Settle the discrepancies of a fully marked skill as a chief judge
    would — re-marks for all but one, which is acknowledged with a note —
    then sign it off. Returns ledger records written."""
    s = marked.skill_index
    skill = plan.skills[s].obj
    flagged = _discrepancies(skill, marked)
    entry_of = {e.pk: e for e in _entries_by_skill(plan)[s]}
    aspect_of = {a.pk: a for a in plan.aspects[s]}
    judges = {j.pk: j for j in _markers_by_skill(plan)[s]}
    remarks = [
        batch.MarkWrite(entry_of[e], aspect_of[a], judges[j], Decimal(v))
        for e, a in flagged[1:]
        for j, v in sorted(_settle(marked.scores[(e, a)], skill.discrepancy_tolerance).items())
    ]
    batch.write_marks(
        skill, remarks, reason="裁判长要求复评：评分差异超过允许范围", source=DEMO_SOURCE
    )
    for e, a in flagged[:1]:
        signoff.acknowledge_discrepancy(
            entry_of[e], aspect_of[a], manager, note="已复核：评分差异有依据，维持原评分"
        )
    signoff.sign_off(skill, manager)
    return len(remarks) + len(flagged[:1]) + 1


def _create_marks(plan: _Plan, rng: random.Random, timer: _Timer) -> None:
    """Marks, sign-offs, results, awards and publications (module docstring)."""
    organiser, chief_user = plan.users["organiser"], plan.users["chief"]
    published, signed_only, marking = _choose_marked(plan)
    full = [*published, *signed_only]
    # Each entry's ability; the lead's entries shine in the first published
    # skill, so the lead's dashboard shows a medal.
    ability = {e.pk: min(0.95, max(0.3, rng.gauss(0.68, 0.1))) for e in plan.entry_objs}
    lead = plan.delegations[plan.lead_delegation].obj
    for s in published[:1]:
        for e in _entries_by_skill(plan).get(s, []):
            if e.delegation_id == lead.pk:
                ability[e.pk] = 1.0
    with timer.phase("marks") as ph:
        finished = [_mark_skill(plan, s, rng, ability, complete=True) for s in full]
        in_progress = [_mark_skill(plan, s, rng, ability, complete=False) for s in marking]
        ph.rows = sum(m.writes for m in finished + in_progress)
    with timer.phase("sign-off") as ph:
        # Only the demo chief has a login; other skills are signed off by the
        # organiser, whom the rules allow to stand in (signoff.may_manage).
        ph.rows = sum(_finish_skill(plan, m, organiser) for m in finished)
        for m in in_progress:
            if m.skill_index == 0 and plan.demo_judge is not None:
                _request_remark(plan, m, chief_user)
                ph.rows += 1
        for s in full + marking:
            ph.rows += len(recompute_skill(plan.skills[s].obj).entries)
    with timer.phase("awards") as ph:
        for s in full:
            ph.rows += len(awarding.compute_awards(plan.skills[s].obj))
        for s in published:
            publishing.publish(plan.skills[s].obj, organiser)
            ph.rows += 1
        # The medal tables are counted from these awards when read (awards.medals).


def _request_remark(plan: _Plan, marked: _Marked, chief_user: User) -> None:
    """The demo chief asks the demo judge to look again at a discrepancy."""
    judge = plan.demo_judge
    skill = plan.skills[marked.skill_index].obj
    for entry_id, aspect_id in _discrepancies(skill, marked):
        if judge is not None and judge.pk in marked.scores[(entry_id, aspect_id)]:
            entry = next(e for e in plan.entry_objs if e.pk == entry_id)
            aspect = next(a for a in plan.aspects[marked.skill_index] if a.pk == aspect_id)
            request_remark(
                entry, aspect, [judge], chief_user, reason="与其他裁判评分相差2分以上，请复核"
            )
            return
