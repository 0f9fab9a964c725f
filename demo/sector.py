"""The demo's sector programme: a health commission's 岗位练兵、技术比武.

Built by ``seed_demo`` next to the main demo programme (and removed with it),
so a newcomer finds every sector feature filled in:

* dated stages, the current one 总结表彰 and a custom stage next;
* a selection round (院级选拔) of 40 nurses from eight of the demo's
  delegations, marked (theory from an exam sheet, practical through the
  mark service), signed off and published; its top 24 advanced into a
  second round (市级复赛), marked and published likewise;
* a final filled by nomination (each delegation's best, within a quota of
  one) and by a computer draw of eight more from round 2, with the pool
  closed and the seed's source announced first;
* the final's theory exam imported from an exam-system sheet, the practical
  marked, signed off, the titles policy applied (技术能手 / 优胜者) and
  published;
* a rewards register (1,000 yuan per title, 2 credits per finalist and 2
  more per title).

Small on purpose (well under a second of the demo's time).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import cast

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone
from openpyxl import Workbook

from awards import awarding
from competitions.models import AwardPolicy, Event, Phase, Programme, Skill
from draws import services as draws
from draws.models import Draw, Nomination, PoolClosure
from results import advancement, publishing
from scoring import batch, signoff
from scoring.models import Aspect, AspectKind, Criterion, SubCriterion
from scoring.results import recompute_skill
from sector import theory
from sector.models import Reward
from teams import idnumbers
from teams import services as team_services
from teams.models import (
    Athlete,
    Delegation,
    DelegationLead,
    Entry,
    EntryMember,
    Judge,
    JudgeAssignment,
    Quota,
)

PROGRAMME_CODE = "demo-wjw"
ROUND_CODE = "demo-wjw-r1"
ROUND2_CODE = "demo-wjw-r2"
ADVANCING = 24
FINAL_CODE = "demo-wjw-final"
SKILL_CODE = "NUR"
JUDGE_PREFIX = "DJW"  # inside the main demo's "DJ" prefix: removed with it
DELEGATIONS = 8
PER_DELEGATION = 5
DRAWN = 8
SEED_SOURCE = "决赛前一日（{day}）中国福利彩票“福彩3D”当期开奖号码，由公证员现场宣读"
SOURCE = "demo"

THEORY = [
    ("T1.1", "基础护理理论", Decimal(7)),
    ("T1.2", "专科护理理论", Decimal(7)),
    ("T1.3", "法律法规与伦理", Decimal(6)),
]
PRACTICAL = [
    ("A1.1", "心肺复苏（单人）", Decimal(25)),
    ("A1.2", "静脉输液", Decimal(25)),
    ("A2.1", "无菌技术", Decimal(15)),
    ("A2.2", "护患沟通", Decimal(15)),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["静", "丽", "敏", "婷", "雪", "娟", "霞", "芳", "颖", "琳", "慧", "洁", "倩", "晶", "燕"]


def release(skill_ids: list[int]) -> int:
    """Delete what protects the demo's skills from deletion (draws, closed pools)."""
    removed = Draw.objects.filter(Q(skill_id__in=skill_ids) | Q(source_skill_id__in=skill_ids))
    n = removed.delete()[0]
    n += PoolClosure.objects.filter(
        Q(skill_id__in=skill_ids) | Q(source_skill_id__in=skill_ids)
    ).delete()[0]
    n += Nomination.objects.filter(skill_id__in=skill_ids).delete()[0]
    return n


def _programme(today: dt.date) -> tuple[Programme, Event, Event, Event]:
    """The sector programme, its stages and three events. Long because it is declarative data."""
    year = today.year
    programme = Programme.objects.create(
        code=PROGRAMME_CODE,
        name=f"{year}年全省卫生健康系统岗位练兵和技能竞赛",
        year=year,
        issuing_body="省卫生健康委员会",
        default_award_policy=AwardPolicy.TITLES,
    )

    def days(n: int) -> dt.date:
        return today + dt.timedelta(days=n)

    Phase.objects.bulk_create(
        [
            Phase(
                programme=programme,
                kind=Phase.Kind.MOBILISATION,
                starts_on=days(-150),
                ends_on=days(-121),
                description="印发竞赛方案，各单位召开动员大会。",
            ),
            Phase(
                programme=programme,
                kind=Phase.Kind.TRAINING,
                starts_on=days(-120),
                ends_on=days(-41),
                description="各医疗机构开展全员岗位练兵，院级选拔。",
            ),
            Phase(
                programme=programme,
                kind=Phase.Kind.CUSTOM,
                name="理论机考",
                starts_on=days(-30),
                ends_on=days(-30),
                description="考试系统统一机考，成绩导入平台。",
            ),
            Phase(
                programme=programme,
                kind=Phase.Kind.COMPETITION,
                starts_on=days(-12),
                ends_on=days(-10),
                description="推荐与电脑随机抽取相结合确定决赛选手。",
            ),
            Phase(
                programme=programme,
                kind=Phase.Kind.COMMENDATION,
                starts_on=days(-2),
                ends_on=days(25),
                description="公示获奖名单，授予技术能手、优胜者称号。",
            ),
            Phase(
                programme=programme,
                kind=Phase.Kind.CUSTOM,
                name="经验交流与成果推广",
                starts_on=days(40),
                ends_on=days(45),
                description="技术能手示范带教，全省巡回交流。",
            ),
        ]
    )
    r1 = Event.objects.create(
        programme=programme,
        code=ROUND_CODE,
        name=f"{programme.name}院级选拔赛",
        kind=Event.Kind.SELECTION,
        status=Event.Status.CLOSED,
        starts_on=days(-40),
        ends_on=days(-40),
        venue="各医疗机构",
    )
    r2 = Event.objects.create(
        programme=programme,
        code=ROUND2_CODE,
        name=f"{programme.name}市级复赛",
        kind=Event.Kind.SELECTION,
        status=Event.Status.REGISTRATION,
        starts_on=days(-25),
        ends_on=days(-25),
        venue="各设区市培训基地",
    )
    final = Event.objects.create(
        programme=programme,
        code=FINAL_CODE,
        name=f"{programme.name}决赛",
        kind=Event.Kind.FINAL,
        status=Event.Status.REGISTRATION,
        starts_on=days(-12),
        ends_on=days(-10),
        venue="省人民医院临床技能培训中心",
    )
    return programme, r1, r2, final


def _scheme(skill: Skill) -> list[Aspect]:
    aspects = []
    for code, name, parts in (("T", "理论知识", THEORY), ("A", "实操技能", PRACTICAL)):
        crit = Criterion.objects.create(
            skill=skill, code=code, name=name, max_mark=sum(m for _c, _n, m in parts)
        )
        sub = SubCriterion.objects.create(criterion=crit, code=f"{code}1", name=name)
        for i, (acode, desc, m) in enumerate(parts):
            aspects.append(
                Aspect.objects.create(
                    skill=skill,
                    sub_criterion=sub,
                    code=acode,
                    kind=AspectKind.MEASUREMENT,
                    description=desc,
                    max_mark=m,
                    order=i,
                )
            )
    return aspects


def _judges(skills: list[Skill], delegations: list[Delegation]) -> list[Judge]:
    judges = [
        Judge.objects.create(code=f"{JUDGE_PREFIX}{i:03d}", name=name, delegation=delegations[i])
        for i, name in enumerate(["周海燕", "钱立新", "孙晓梅"])
    ]
    for skill in skills:
        JudgeAssignment.objects.bulk_create(
            [
                JudgeAssignment(
                    judge=j,
                    skill=skill,
                    role=JudgeAssignment.Role.CHIEF if i == 0 else JudgeAssignment.Role.JUDGE,
                )
                for i, j in enumerate(judges)
            ]
        )
    return judges


def _athletes(rng: random.Random, delegations: list[Delegation], today: dt.date) -> list[Athlete]:
    taken = set(Athlete.objects.exclude(id_number=None).values_list("id_number", flat=True))
    people = []
    for d in delegations:
        for _k in range(PER_DELEGATION):
            # 23–34 at the main demo's final, like every demo athlete.
            born = dt.date(today.year - rng.randint(24, 33), rng.randint(1, 12), rng.randint(1, 28))
            gender = "F" if rng.random() < 0.85 else "M"
            number = None
            for _try in range(20):
                candidate = idnumbers.make_id_number("320106", born, rng.randint(0, 99), gender)
                if candidate not in taken:
                    number = candidate
                    taken.add(candidate)
                    break
            people.append(
                Athlete(
                    delegation=d,
                    name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                    gender=gender,
                    birth_date=born,
                    id_number=number,
                    employer=f"{d.name.removesuffix('代表团')}人民医院",
                )
            )
    return Athlete.objects.bulk_create(people)


def _exam_sheet(rows: list[tuple]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "theory"
    ws.append(["skill_code", "competitor_no", "id_number", "score", "out_of"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def _mark(
    skill: Skill,
    entries: list[Entry],
    aspects: list[Aspect],
    judges: list[Judge],
    ability: dict[int, float],
    rng: random.Random,
    organiser: User,
) -> None:
    """Theory from an exam sheet (scores out of 100; some rows by ID number),
    practical through the mark service; then sign-off and results."""
    rows: list[tuple[str, str | None, str | None, str, int]] = []
    for i, e in enumerate(entries):
        score = Decimal(min(100, max(30, round(rng.gauss(ability[e.pk] * 100, 6), 1))))
        if i % 4 == 3:
            rows.append((skill.code, None, e.members.all()[0].athlete.id_number, str(score), 100))
        else:
            rows.append((skill.code, e.competitor_no, None, str(score), 100))
    report = theory.import_theory(skill.event, _exam_sheet(rows), organiser)
    if not report.ok:
        raise RuntimeError("; ".join(str(p) for p in report.errors))
    writes = []
    practical = [a for a in aspects if not a.code.startswith("T")]
    for e in entries:
        judge = next(j for j in judges if j.delegation_id != e.delegation_id)
        for a in practical:
            share = min(1.0, max(0.2, rng.gauss(ability[e.pk], 0.07)))
            value = (a.max_mark * Decimal(str(round(share, 2)))).quantize(Decimal("0.01"))
            writes.append(batch.MarkWrite(e, a, judge, value))
    batch.write_marks(skill, writes, actor=organiser, source=SOURCE)
    signoff.sign_off(skill, organiser)
    recompute_skill(skill)


def build(today: dt.date, organiser: User, rng: random.Random) -> Programme:
    """Build the sector programme (see the module docstring); inside the caller's
    transaction. The steps run in this order because the random draws of
    ``rng`` must stay in it: the demo is the same on every machine."""
    lead = DelegationLead.objects.filter(user__username="lead").select_related("delegation").first()
    pool = _pool(lead)
    programme, r1, r2, final = _programme(today)
    r1_skill, r2_skill, final_skill = (
        Skill.objects.create(
            event=e, code=SKILL_CODE, name="护理技能", award_policy=AwardPolicy.TITLES
        )
        for e in (r1, r2, final)
    )
    aspects = {s.pk: _scheme(s) for s in (r1_skill, r2_skill, final_skill)}
    judges = _judges([r1_skill, r2_skill, final_skill], pool)
    ability: dict[int, float] = {}

    def run(skill: Skill, entries: list[Entry]) -> None:
        _mark(skill, entries, aspects[skill.pk], judges, ability, rng, organiser)
        awarding.compute_awards(skill)
        publishing.publish(skill, organiser)

    r1_entries = _enter_round_one(r1_skill, r2_skill, pool, rng, today, ability)
    run(r1_skill, r1_entries)
    # Round 2: the round's top 24 advance (as an organiser does on the advancement page).
    advancement.advance(
        r1_skill, organiser, top_n=ADVANCING, today=cast(dt.date, r2.starts_on) - dt.timedelta(1)
    )
    Event.objects.filter(pk=r2.pk).update(status=Event.Status.CLOSED)
    r2_entries = _entries(r2_skill, ability, rng, mean=0.77)
    run(r2_skill, r2_entries)
    _nominate(final_skill, pool, [r2_entries, r1_entries], lead, organiser)
    _draw_the_rest(final_skill, r2, today, rng, organiser)
    Event.objects.filter(pk=final.pk).update(status=Event.Status.CLOSED)
    run(final_skill, _entries(final_skill, ability, rng, mean=0.78))
    _rewards(programme)
    return programme


def _pool(lead: DelegationLead | None) -> list[Delegation]:
    """The delegations taking part: the demo lead's first, then by code."""
    pool = list(
        Delegation.objects.filter(entries__skill__event__programme__code="demo")
        .distinct()
        .order_by("code")[:DELEGATIONS]
    )
    if lead is not None and lead.delegation not in pool:
        pool = [lead.delegation, *pool[: DELEGATIONS - 1]]
    return pool


def _enter_round_one(
    r1_skill: Skill,
    r2_skill: Skill,
    pool: list[Delegation],
    rng: random.Random,
    today: dt.date,
    ability: dict[int, float],
) -> list[Entry]:
    """Round one's athletes and entries, both rounds' quotas, and each entry's ability."""
    athletes = _athletes(rng, pool, today)
    numbers = rng.sample(range(1000, 10000), len(athletes))
    r1 = r1_skill.event
    entries = Entry.objects.bulk_create(
        [
            Entry(skill=r1_skill, delegation=a.delegation, competitor_no=str(n))
            for a, n in zip(athletes, numbers, strict=True)
        ]
    )
    EntryMember.objects.bulk_create(
        [EntryMember(entry=e, athlete=a, event=r1) for e, a in zip(entries, athletes, strict=True)]
    )
    Quota.objects.bulk_create(
        [
            Quota(skill=s, delegation=d, max_entries=PER_DELEGATION)
            for s in (r1_skill, r2_skill)
            for d in pool
        ]
    )
    ability.update({e.pk: min(0.97, max(0.45, rng.gauss(0.75, 0.1))) for e in entries})
    return list(
        Entry.objects.filter(skill=r1_skill)
        .prefetch_related("members__athlete")
        .order_by("competitor_no")
    )


def _entries(
    skill: Skill, ability: dict[int, float], rng: random.Random, *, mean: float
) -> list[Entry]:
    """A later round's entries (in athlete order: their numbers are random, the
    demo is seeded), each with a fresh ability around ``mean``."""
    entries = list(
        Entry.objects.filter(skill=skill)
        .prefetch_related("members__athlete")
        .order_by("members__athlete_id")
    )
    for e in entries:
        ability[e.pk] = min(0.97, max(0.45, rng.gauss(mean, 0.08)))
    return entries


def _nominate(
    final_skill: Skill,
    pool: list[Delegation],
    rounds: list[list[Entry]],
    lead: DelegationLead | None,
    organiser: User,
) -> None:
    """Each delegation nominates its best of the latest round it reached, quota one."""
    Quota.objects.bulk_create([Quota(skill=final_skill, delegation=d, max_entries=1) for d in pool])
    best: dict[int, Entry] = {}
    for entries in rounds:  # latest round first
        # Every demo entry competed, so every one has a rank.
        for e in sorted(entries, key=lambda e: cast(int, e.result.rank)):
            best.setdefault(e.delegation_id, e)
    for d in pool:
        source = best[d.pk]
        created = team_services.register_entry(
            d, final_skill, [m.athlete for m in source.members.all()]
        )
        Nomination.objects.create(
            skill=final_skill,
            source_entry=source,
            created_entry=created,
            delegation=d,
            source_competitor_no=source.competitor_no,
            by=lead.user if lead is not None and lead.delegation_id == d.pk else organiser,
        )


def _draw_the_rest(
    final_skill: Skill, r2: Event, today: dt.date, rng: random.Random, organiser: User
) -> None:
    """The rest of the final is drawn from round 2's other entries, the day
    before the final (the times are set as it happened)."""
    day = today - dt.timedelta(days=13)
    draws.close_pool(final_skill, r2, SEED_SOURCE.format(day=day.isoformat()), organiser)
    draws.draw(
        final_skill,
        r2,
        count=DRAWN,
        seed=f"福彩3D {day:%Y}{rng.randint(100, 350)}期 "
        f"{rng.randint(0, 9)} {rng.randint(0, 9)} {rng.randint(0, 9)}",
        user=organiser,
    )
    closed_at = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    PoolClosure.objects.filter(skill=final_skill).update(at=closed_at)
    Nomination.objects.filter(skill=final_skill).update(at=closed_at - dt.timedelta(days=3))
    Draw.objects.filter(skill=final_skill).update(at=closed_at + dt.timedelta(hours=1))


def _rewards(programme: Programme) -> None:
    Reward.objects.bulk_create(
        [
            Reward(
                programme=programme,
                outcome="finalist",
                bonus_yuan=0,
                credits=2,
                note="继续教育Ⅰ类学分",
            ),
            Reward(
                programme=programme,
                outcome="technical_expert",
                bonus_yuan=1000,
                credits=2,
                note="同等条件下优先晋升",
            ),
            Reward(
                programme=programme,
                outcome="winner",
                bonus_yuan=1000,
                credits=2,
                note="同等条件下优先晋升",
            ),
        ]
    )
