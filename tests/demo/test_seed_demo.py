"""``manage.py seed_demo``: the demo a newcomer sees must be believable and consistent."""

from __future__ import annotations

import datetime as dt
import re
import time
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.urls import reverse

from awards import medals
from awards.models import Award
from competitions import publication
from competitions.models import Event, Phase, Programme, Skill
from demo import builder as demo
from demo import sector as sector_demo
from scoring import ledger, panels, schemes, signoff
from scoring.models import Aspect, AspectKind, LedgerRecord, Mark, SkillMarking
from scoring.results import compute_skill
from scoring.status import marking_status
from tablets import services as tablets
from tablets.models import RemarkRequest
from teams import idnumbers, roles
from teams.models import (
    Athlete,
    Delegation,
    Entry,
    EntryMember,
    Judge,
    JudgeAssignment,
    Quota,
)

pytestmark = pytest.mark.django_db
SECTOR = sector_demo.PROGRAMME_CODE  # the demo's second programme (岗位练兵技术比武)

SMALL = {"delegations": 6, "skills": 8, "entries": 60, "judges": 40}
CHINESE = re.compile(r"^[\u4e00-\u9fff]+$")


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


def age_on(day: dt.date, born: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def final() -> Event:
    return Event.objects.get(code="demo-final")


@pytest.fixture
def small() -> str:
    return seed(seed=7, **SMALL)


def test_counts_match_requested_sizes(small):
    event = final()
    assert Skill.objects.filter(event=event).count() == SMALL["skills"]
    assert Entry.objects.filter(skill__event=event).count() == SMALL["entries"]
    assert (
        Judge.objects.filter(assignments__skill__event=event).distinct().count() == SMALL["judges"]
    )
    delegations = Delegation.objects.filter(entries__skill__event=event).distinct()
    assert delegations.count() == SMALL["delegations"]
    # Athletes follow from entries and team sizes.
    expected = sum(s.team_size * s.entries.count() for s in Skill.objects.filter(event=event))
    assert Athlete.objects.exclude(memberships__event__programme__code=SECTOR).count() == expected
    assert "60" in small and "demo-2026" in small


def test_programme_phases_events_and_open_registration(small):
    programme = Programme.objects.get(code=demo.DEMO_PROGRAMME_CODE)
    assert programme.name.endswith("年全省职业技能大赛")
    assert programme.issuing_body == "省人力资源和社会保障厅"
    kinds = list(programme.phases.order_by("starts_on").values_list("kind", flat=True))
    assert kinds == [k.value for k in Phase.Kind if k != Phase.Kind.CUSTOM]
    assert programme.events.count() == 3
    event = final()
    assert event.kind == Event.Kind.FINAL and event.venue
    assert event.registration_open()  # leads can register in the demo


def test_skills_mix_categories_policies_and_team_sizes(small):
    skills = Skill.objects.filter(event=final())
    assert {s.category for s in skills} == {
        Skill.Category.WORLDSKILLS_SELECTION,
        Skill.Category.NATIONAL_FEATURED,
        Skill.Category.PROVINCIAL,
    }
    assert len({s.award_policy for s in skills}) == 3
    sizes = [s.team_size for s in skills]
    assert sizes.count(1) > len(sizes) / 2 and {2, 3} <= set(sizes)
    assert {"砌筑", "移动机器人", "电工"} <= {s.name for s in skills}


def test_every_entry_has_exactly_team_size_members(small):
    wrong = (
        Entry.objects.annotate(n=Count("members"))
        .exclude(n=F("skill__team_size"))
        .values_list("pk", flat=True)
    )
    assert list(wrong) == []
    # Members come from the entry's delegation, and the event copy is right.
    assert not EntryMember.objects.exclude(athlete__delegation=F("entry__delegation")).exists()
    assert not EntryMember.objects.exclude(event=F("entry__skill__event")).exists()


def test_no_athlete_twice_in_one_event(small):
    twice = EntryMember.objects.values("event", "athlete").annotate(n=Count("id")).filter(n__gt=1)
    assert not twice.exists()


def test_competitor_numbers_are_anonymous_and_unique_in_skill(small):
    for skill in Skill.objects.filter(event=final()):
        numbers = list(skill.entries.values_list("competitor_no", flat=True))
        assert len(numbers) == len(set(numbers))
        assert all(n.isdigit() for n in numbers)
        codes = set(skill.entries.values_list("delegation__code", flat=True))
        assert not any(code in n for n in numbers for code in codes)


def test_id_numbers_valid_unique_and_matching(small):
    event = final()
    athletes = list(Athlete.objects.all())
    assert len({a.id_number for a in athletes}) == len(athletes)
    for a in athletes:
        idnumbers.validate_id_number(a.id_number)
        assert idnumbers.birth_date_of(a.id_number) == a.birth_date
        assert idnumbers.gender_of(a.id_number) == a.gender
        a.full_clean()  # the model's own checks agree
        assert 18 <= age_on(event.starts_on, a.birth_date) <= 35, (a, a.birth_date)
    assert {a.gender for a in athletes} == {"M", "F"}
    assert all(a.employer for a in athletes)


def test_names_are_chinese(small):
    names = list(Athlete.objects.values_list("name", flat=True))
    names += list(Judge.objects.values_list("name", flat=True))
    assert names and all(CHINESE.match(n) and 2 <= len(n) <= 4 for n in names)
    assert all(CHINESE.match(n) for n in Delegation.objects.values_list("name", flat=True))
    for name in Skill.objects.values_list("name", flat=True):
        assert re.search(r"[\u4e00-\u9fff]", name), name


def test_one_chief_per_skill_and_never_a_lone_judge(small):
    for skill in Skill.objects.filter(event=final()):
        assignments = list(skill.assignments.select_related("judge"))
        chiefs = [a for a in assignments if a.role == JudgeAssignment.Role.CHIEF]
        assert len(chiefs) == 1
        markers = [a.judge for a in assignments if a.role == JudgeAssignment.Role.JUDGE]
        # Whatever delegation an entry comes from, two or more judges may mark it.
        for delegation_id in skill.entries.values_list("delegation_id", flat=True):
            assert sum(j.delegation_id != delegation_id for j in markers) >= 2


def test_quotas_cover_entries(small):
    for quota in Quota.objects.filter(skill__event=final()):
        sent = Entry.objects.filter(skill=quota.skill, delegation=quota.delegation).count()
        assert sent <= quota.max_entries
    # No entry without a quota.
    for entry in Entry.objects.all():
        assert Quota.objects.filter(skill=entry.skill, delegation=entry.delegation).exists()


def test_demo_logins_have_their_roles(small):
    users = {u.username: u for u in User.objects.all()}
    for username in ("organiser", "chief", "judge", "lead"):
        assert users[username].check_password(demo.DEMO_PASSWORD)
        assert username in small  # printed for the quick start

    organiser = users["organiser"]
    assert roles.is_organiser(organiser) and organiser.is_staff
    assert not organiser.is_superuser
    assert organiser.groups.filter(name=roles.ORGANISER_GROUP).exists()

    chief_skill = roles.chief_skills(users["chief"]).get()
    assert chief_skill.event == final()
    assert roles.is_chief_of(users["chief"], chief_skill)

    judge_user = users["judge"]
    assert not roles.chief_skills(judge_user).exists()
    assert list(roles.judged_skills(judge_user)) == [chief_skill]
    judge = roles.judge_of(judge_user)
    assert chief_skill.entries.exclude(delegation=judge.delegation).exists()

    delegation = roles.lead_delegation(users["lead"])
    assert delegation is not None
    assert Entry.objects.filter(delegation=delegation).exists()
    room = [
        q
        for q in Quota.objects.filter(delegation=delegation)
        if Entry.objects.filter(skill=q.skill, delegation=delegation).count() < q.max_entries
    ]
    assert room
    for username in ("chief", "judge", "lead"):
        assert not users[username].is_staff


def _snapshot() -> dict[str, object]:
    return {
        "skills": Skill.objects.count(),
        "entries": Entry.objects.count(),
        "members": EntryMember.objects.count(),
        "athletes": sorted(Athlete.objects.values_list("name", "id_number")),
        "judges": Judge.objects.count(),
        "quotas": Quota.objects.count(),
        "delegations": Delegation.objects.count(),
        "users": User.objects.count(),
        "aspects": sorted(Aspect.objects.values_list("code", "kind", "max_mark")),
        "marks": Mark.objects.count(),
        "ledger": LedgerRecord.objects.count(),
        "awards": sorted(
            Award.objects.values_list("skill__code", "rank", "title", "kind"),
            key=lambda a: (a[0], a[1], a[2], a[3] or ""),
        ),
    }


def test_second_run_does_nothing_and_reset_rebuilds_the_same(small):
    before = _snapshot()
    out = seed(seed=7, **SMALL)
    assert "already exists" in out and "demo-2026" in out
    assert _snapshot() == before

    out = seed("--reset", seed=7, **SMALL)
    assert "reset" in out
    assert _snapshot() == before  # same seed, same demo
    assert Programme.objects.filter(code=demo.DEMO_PROGRAMME_CODE).count() == 1


def test_reset_keeps_delegations_used_elsewhere(small):
    # An imported event that reuses a demo delegation keeps it (and its athlete).
    other = Event.objects.create(
        programme=Programme.objects.create(code="other", name="其他大赛", year=2026),
        code="other-final",
        name="其他决赛",
    )
    skill = Skill.objects.create(event=other, code="X1", name="电工")
    nanjing = Delegation.objects.get(code="NJ")
    athlete = Athlete.objects.create(delegation=nanjing, name="张三", gender="M")
    entry = Entry.objects.create(skill=skill, delegation=nanjing, competitor_no="1")
    EntryMember.objects.create(entry=entry, athlete=athlete)

    seed("--reset", seed=7, **SMALL)
    assert Delegation.objects.filter(code="NJ").count() == 1
    assert Athlete.objects.filter(pk=athlete.pk).exists()
    assert Entry.objects.filter(skill__event=final()).count() == SMALL["entries"]


def test_different_seed_gives_different_people():
    seed(seed=1, **SMALL)
    first = sorted(Athlete.objects.values_list("id_number", flat=True))
    seed("--reset", seed=2, **SMALL)
    assert sorted(Athlete.objects.values_list("id_number", flat=True)) != first


def test_impossible_sizes_are_refused():
    with pytest.raises(CommandError, match="judges per skill"):
        seed(delegations=6, skills=8, entries=60, judges=10)
    assert not Programme.objects.exists()


def test_sizes_helper_and_presets():
    assert demo.PRESETS["provincial"] == demo.Sizes(40, 60, 1600, 600, "provincial")
    assert demo.PRESETS["national"] == demo.Sizes(36, 109, 4059, 3270, "national")
    assert demo.sizes_for("national", skills=10, judges=None).skills == 10
    assert demo.sizes_for("national", skills=10).judges == 3270


def test_provincial_preset_counts():
    # The real preset, as the quick start builds it: docs/sizes.md sizes, fast.
    start = time.perf_counter()
    out = seed()
    seconds = time.perf_counter() - start
    event = final()
    states = _skills_by_state()
    assert len(states["published"]) + len(states["signed_off"]) == demo.FULL_SKILLS
    assert len(states["marking"]) == demo.MARKING_SKILLS
    assert ledger.verify_ledger().ok
    assert Delegation.objects.filter(entries__skill__event=event).distinct().count() == 40
    assert Skill.objects.filter(event=event).count() == 60
    assert Entry.objects.filter(skill__event=event).count() == 1600
    assert Judge.objects.filter(assignments__skill__event=event).distinct().count() == 600
    assert JudgeAssignment.objects.filter(skill__event=event, role="chief").count() == 60
    assert (
        EntryMember.objects.filter(event=event).count()
        == Athlete.objects.exclude(memberships__event__programme__code=SECTOR).count()
    )
    assert Athlete.objects.exclude(id_number=None).count() == Athlete.objects.count()
    assert "Demo programme built" in out
    assert seconds < 30, f"provincial seed took {seconds:.1f} s"
    assert event.starts_on > dt.date.today()


def test_final_on_29_february_keeps_ages_and_ids_valid():
    # Birth dates are computed back from the final's date; a leap day must not break them.
    result = demo.build_demo(demo.Sizes(**SMALL), seed=3, today=dt.date(2028, 1, 15))
    event = Event.objects.get(pk=result.final_event_id)
    assert event.starts_on == dt.date(2028, 2, 29)
    for a in Athlete.objects.all():
        idnumbers.validate_matches(a.id_number, a.birth_date, a.gender)
        assert 18 <= age_on(event.starts_on, a.birth_date) <= 35
    assert result.counts["entries"] == SMALL["entries"]


def test_if_empty_builds_once_and_leaves_other_programmes_alone():
    out = seed("--if-empty", seed=7, **SMALL)
    assert "Demo programme built" in out
    out = seed("--if-empty", seed=7, **SMALL)
    assert "no demo was built" in out and "organiser" in out
    # The demo programme and its sector programme (岗位练兵技术比武), nothing else.
    assert set(Programme.objects.values_list("code", flat=True)) == {
        demo.DEMO_PROGRAMME_CODE,
        SECTOR,
    }


def test_if_empty_skips_a_database_with_a_real_programme():
    Programme.objects.create(code="real", name="2026年全省职业技能大赛", year=2026)
    out = seed("--if-empty", seed=7, **SMALL)
    assert "no demo was built" in out
    assert not Programme.objects.filter(code=demo.DEMO_PROGRAMME_CODE).exists()


# ---------------------------------------------------------------- scoring in the demo


def _skills_by_state() -> dict[str, list[Skill]]:
    states: dict[str, list[Skill]] = {"published": [], "signed_off": [], "marking": []}
    for skill in Skill.objects.filter(event=final()).select_related("marking"):
        marking = getattr(skill, "marking", None)
        if marking is None or marking.ledger_length == 0:
            continue
        if publication.is_published(skill):
            states["published"].append(skill)
        elif marking.is_signed_off:
            states["signed_off"].append(skill)
        else:
            states["marking"].append(skill)
    return states


def test_every_skill_has_a_complete_chinese_scheme(small):
    for skill in Skill.objects.filter(event=final()):
        summary = schemes.scheme_summary(skill)
        assert summary.problems == [] and summary.warnings == [], skill
        assert summary.total == 100
        assert 13 <= summary.aspect_count <= 20
        assert summary.judgement_count >= 3 and summary.measurement_count >= 3
        for criterion in skill.criteria.all():
            assert re.search(r"[\u4e00-\u9fff]", criterion.name)
    # Judgement aspects carry four Chinese descriptors, 0 to 3.
    aspect = Aspect.objects.filter(kind=AspectKind.JUDGEMENT).first()
    assert list(aspect.descriptors.values_list("score", flat=True)) == [0, 1, 2, 3]


def test_marks_keep_the_rules_and_the_ledger_verifies(small):
    assert ledger.verify_ledger().ok
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "ok" in out.getvalue()
    assert Mark.objects.exists()
    writes = LedgerRecord.objects.filter(action="write")
    main = writes.filter(skill__event__programme__code=demo.DEMO_PROGRAMME_CODE)
    assert set(main.values_list("source", flat=True)) == {demo.DEMO_SOURCE}
    # The sector programme's theory exams come in through the import path.
    assert set(writes.exclude(pk__in=main).values_list("source", flat=True)) == {
        demo.DEMO_SOURCE,
        "import",
    }
    # Recusal: nobody marked an entry of their own delegation.
    assert not Mark.objects.filter(judge__delegation=F("entry__delegation")).exists()
    # Judgement aspects: at most three scores each, all from expected judges.
    per_pair = Mark.objects.filter(kind="J").values("entry", "aspect").annotate(n=Count("id"))
    assert max(p["n"] for p in per_pair) <= 3
    for skill in Skill.objects.filter(event=final()):
        expected = panels.expected_judgement_judges(skill)
        for entry_id, aspect_id, judge_id in Mark.objects.filter(
            skill_id=skill.pk, kind="J"
        ).values_list("entry_id", "aspect_id", "judge_id"):
            assert judge_id in expected[(entry_id, aspect_id)]


def test_finished_skills_are_signed_off_awarded_and_some_published(small):
    states = _skills_by_state()
    assert states["published"] and states["signed_off"]
    organiser = User.objects.get(username="organiser")
    for skill in states["published"] + states["signed_off"]:
        status = marking_status(skill)
        assert status.signed_off and not status.incomplete and not status.unacknowledged
        assert skill.marking.signed_off_by == organiser
        assert Award.objects.filter(skill=skill).exists()
        assert skill.results.filter(rank=1).exists()
    policies = {s.award_policy for s in states["published"]}
    assert len(policies) >= 2  # the pages show more than one award policy
    # The published skills' medals show in the (counted when read) medal table.
    assert medals.event_medal_table(final()).lines
    # Settled discrepancies left a trace: re-marks with a reason, one acknowledged.
    assert LedgerRecord.objects.filter(action="acknowledge").exists()
    assert LedgerRecord.objects.filter(action="write", old_value__isnull=False).exclude(reason="")


def test_demo_chief_skill_is_being_marked_with_a_discrepancy(small):
    chief = User.objects.get(username="chief")
    skill = roles.chief_skills(chief).get()
    assert skill in _skills_by_state()["marking"]
    status = marking_status(skill)
    assert not status.signed_off and status.incomplete
    assert status.unacknowledged
    # Every flagged pair really differs by more than the tolerance.
    for d in status.discrepancies:
        assert d.spread > skill.discrepancy_tolerance
    # The demo judge is half-way: marked entries and entries left on the tablet.
    judge = roles.judge_of(User.objects.get(username="judge"))
    rows = tablets.entry_rows(tablets.load_scope(skill, judge), revealed=False)
    assert any(r.complete for r in rows) and any(not r.complete for r in rows)
    # ...and has been asked to look again at a discrepancy of theirs.
    assert RemarkRequest.objects.filter(judge=judge, resolved_at__isnull=True).exists()
    assert compute_skill(skill).discrepancies


def test_demo_pins_work_on_the_tablet(small):
    for username in ("judge", "chief"):
        judge = roles.judge_of(User.objects.get(username=username))
        assert tablets.check_pin(judge.code, demo.DEMO_PIN, "127.0.0.1") == judge
        assert judge.code in small and demo.DEMO_PIN in small
    judge = roles.judge_of(User.objects.get(username="judge"))
    assert tablets.check_pin(judge.code, "000000", "127.0.0.1") is None


def test_summary_gives_each_role_its_first_page(small):
    for url in ("/organiser/events/demo-final/", "/admin/", "/tablet/board/", "/tablet/", "/lead/"):
        assert url in small
    assert "/results/demo-final/" in small and "/results/demo-final/scoreboard/" in small
    assert "certificates" in small


def test_lead_dashboard_shows_a_published_result(small, client):
    lead = User.objects.get(username="lead")
    delegation = roles.lead_delegation(lead)
    published = [s.pk for s in _skills_by_state()["published"]]
    result = (
        Entry.objects.filter(delegation=delegation, skill_id__in=published)
        .select_related("result")
        .first()
        .result
    )
    assert Award.objects.filter(
        entry__delegation=delegation, skill_id__in=published, kind__in=["gold", "silver", "bronze"]
    ).exists()
    client.force_login(lead)
    response = client.get(reverse("results:lead_home"), follow=True)
    assert response.status_code == 200
    assert f"{result.final_score:.2f}" in response.content.decode()


def test_organiser_dashboard_shows_marking_figures_at_once(small, client):
    """The first look at the demo shows every open skill's progress, not
    "not counted yet" (the figures a worker stores are stored by the build)."""
    client.force_login(User.objects.get(username="organiser"))
    page = client.get(reverse("results:organiser_event", args=["demo-final"])).content.decode()
    marking = _skills_by_state()["marking"]
    assert marking
    for skill in marking:
        assert f'id="skill-{skill.code}"' in page
    assert "尚未统计" not in page and "Not counted yet" not in page


def test_public_event_page_lists_published_skills_only(small, client):
    states = _skills_by_state()
    page = client.get(reverse("results:event", args=["demo-final"])).content.decode()
    for skill in states["published"]:
        assert f"{skill.code} {skill.name}" in page
    for skill in states["signed_off"] + states["marking"]:
        assert f"{skill.code} {skill.name}" not in page
    board = client.get(reverse("results:scoreboard", args=["demo-final"]))
    assert board.status_code == 200
    assert states["published"][0].name in board.content.decode()


def test_no_marks_builds_schemes_only():
    out = seed("--no-marks", seed=7, **SMALL)
    assert "Demo programme built" in out
    assert not Mark.objects.exists() and not SkillMarking.objects.filter(ledger_length__gt=0)
    assert all(not schemes.scheme_problems(s) for s in Skill.objects.filter(event=final()))
    assert demo.DEMO_PIN in out


def test_reset_removes_what_users_did_with_the_demo(small):
    # Certificates issued, a skill withdrawn and a re-mark asked for: all of
    # it protects demo rows, and --reset still rebuilds (and the ledger verifies).
    from awards import issuing

    event = final()
    assert issuing.issue_certificates(event).issued
    organiser = User.objects.get(username="organiser")
    published = _skills_by_state()["published"][0]
    signoff.reopen(published, organiser, "复核申诉")
    before = _snapshot()
    out = seed("--reset", seed=7, **SMALL)
    assert "Demo programme built" in out
    assert ledger.verify_ledger().ok
    after = _snapshot()
    # The same demo again: the reopening's ledger record went with the old one.
    assert after["ledger"] == before["ledger"] - 1
    assert {k: v for k, v in after.items() if k != "ledger"} == {
        k: v for k, v in before.items() if k != "ledger"
    }
    assert publication.is_published(Skill.objects.get(event=final(), code=published.code))


def test_refuses_a_production_database_unless_forced(settings):
    settings.PORTAL_ALLOW_DEMO = False
    with pytest.raises(CommandError, match="PORTAL_ALLOW_DEMO"):
        call_command("seed_demo", "--skills", "2", "--entries", "8", stdout=StringIO())
    assert not Programme.objects.exists()
