"""The computer draw against an independent implementation of its rule:
pool (source entries not withdrawn/absent whose athletes are not in the
final's skill), keys (SHA-256 of seed|competitor_no) and order."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess
import sys

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from draws import services
from draws.models import Draw, Nomination, PoolClosure
from teams.models import Entry, EntryMember
from tests import factories as f


def independent_draw(seed: str, numbers: list[str], count: int) -> list[tuple[str, str]]:
    """The rule written again, differently: hash by hand, pick the minimum each time."""
    remaining = {}
    for no in numbers:
        h = hashlib.new("sha256")
        h.update(seed.encode("utf-8"))
        h.update(b"|")
        h.update(no.encode("utf-8"))
        remaining[no] = h.hexdigest()
    picked = []
    for _ in range(count):
        no = min(remaining, key=lambda k: remaining[k])
        picked.append((no, remaining.pop(no)))
    return picked


@pytest.fixture
def rounds(db):
    programme = f.programme(code="wsjw", name="卫生健康系统岗位练兵和技能竞赛")
    source = f.event(
        programme=programme, code="r1", kind="selection", starts_on=dt.date(2026, 3, 1)
    )
    final = f.event(programme=programme, code="fin", kind="final", starts_on=dt.date(2030, 6, 1))
    s_src = f.skill(event=source, code="NUR", name="护理")
    s_fin = f.skill(event=final, code="NUR", name="护理")
    dels = [f.delegation(code=c) for c in ("GL", "XW", "QH")]
    entries = [
        f.entry(s_src, delegation=dels[i % 3], competitor_no=str(1000 + i * 7)) for i in range(30)
    ]
    return {
        "programme": programme,
        "source": source,
        "final": final,
        "s_src": s_src,
        "s_fin": s_fin,
        "dels": dels,
        "entries": entries,
    }


def expected_pool(r) -> list[str]:
    in_final = set(
        EntryMember.objects.filter(entry__skill=r["s_fin"]).values_list("athlete", flat=True)
    )
    return [
        e.competitor_no
        for e in Entry.objects.filter(skill=r["s_src"])
        if e.status not in ("withdrawn", "absent")
        and not set(e.members.values_list("athlete", flat=True)) & in_final
    ]


def test_draw_matches_independent_rule_pool_keys_and_order(rounds):
    r = rounds
    # Two withdrawn/absent, one already in the final (nominated by hand): not in the pool.
    Entry.objects.filter(pk=r["entries"][0].pk).update(status="withdrawn")
    Entry.objects.filter(pk=r["entries"][1].pk).update(status="absent")
    already = r["entries"][2]
    f.entry(
        r["s_fin"],
        delegation=already.delegation,
        competitor_no="5555",
        athletes=[m.athlete for m in already.members.all()],
    )
    seed = "2026年12月6日 福彩3D 第2026331期 开奖号码 5 8 1"
    pool = expected_pool(r)
    done = services.draw(r["s_fin"], r["source"], count=8, seed=seed)

    assert len(pool) == 27
    assert sorted(done.pool) == sorted(pool)
    assert [(x["competitor_no"], x["key"]) for x in done.result] == independent_draw(seed, pool, 8)
    keys = [x["key"] for x in done.result]
    assert keys == sorted(keys) and all(len(k) == 64 and k == k.lower() for k in keys)
    # The drawn athletes are entered in the final, under new numbers.
    final_entries = Entry.objects.filter(skill=r["s_fin"]).exclude(competitor_no="5555")
    assert final_entries.count() == 8
    by_source = {x["competitor_no"]: x["final_no"] for x in done.result}
    for x in done.result:
        src = Entry.objects.get(skill=r["s_src"], competitor_no=x["competitor_no"])
        new = Entry.objects.get(skill=r["s_fin"], competitor_no=by_source[x["competitor_no"]])
        assert new.competitor_no != src.competitor_no
        assert set(new.members.values_list("athlete", flat=True)) == set(
            src.members.values_list("athlete", flat=True)
        )
        assert new.delegation_id == src.delegation_id
    assert services.recheck(done)


def test_command_prints_number_tab_key_in_key_order(rounds):
    r = rounds
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "draw_finalists",
        "--event",
        "fin",
        "--skill",
        "NUR",
        "--from-event",
        "r1",
        "--count",
        "5",
        "--seed",
        "831",
        stdout=out,
        stderr=err,
    )
    lines = out.getvalue().splitlines()
    assert [tuple(line.split("\t")) for line in lines] == independent_draw(
        "831", expected_pool_before(r), 5
    )


def expected_pool_before(r) -> list[str]:
    return [e.competitor_no for e in r["entries"]]


def test_second_draw_refused_without_reason_and_logged_with_one(rounds):
    r = rounds
    call_command(
        "draw_finalists",
        "--event",
        "fin",
        "--skill",
        "NUR",
        "--from-event",
        "r1",
        "--count",
        "3",
        "--seed",
        "A",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    with pytest.raises(CommandError, match=r"reason|理由"):
        call_command(
            "draw_finalists",
            "--event",
            "fin",
            "--skill",
            "NUR",
            "--from-event",
            "r1",
            "--count",
            "3",
            "--seed",
            "B",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    with pytest.raises(services.DrawRefused) as exc:
        services.draw(r["s_fin"], r["source"], count=3, seed="B", reason="   ")
    assert exc.value.code == "redraw_needs_reason"
    assert Draw.objects.filter(skill=r["s_fin"]).count() == 1
    assert Entry.objects.filter(skill=r["s_fin"]).count() == 3

    second = services.draw(
        r["s_fin"], r["source"], count=2, seed="B", reason="一名抽中选手因病放弃，补抽两名"
    )
    assert second.seq == 2 and second.reason
    # The second pool leaves out the three already entered by the first draw.
    first = Draw.objects.get(skill=r["s_fin"], seq=1)
    assert len(second.pool) == len(first.pool) - 3
    assert not {x["competitor_no"] for x in first.result} & set(second.pool)
    assert [(x["competitor_no"], x["key"]) for x in second.result] == independent_draw(
        "B", second.pool, 2
    )


def test_database_refuses_a_silent_second_draw(rounds):
    from django.db import IntegrityError, transaction

    r = rounds
    services.draw(r["s_fin"], r["source"], count=1, seed="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(skill=r["s_fin"], source_skill=r["s_src"], seq=2, count=1, seed="y")


@pytest.mark.parametrize("seed", ["", " padded", "trail ", "a\tb", "x" * 201])
def test_bad_seeds_refused(rounds, seed):
    with pytest.raises(services.DrawRefused):
        services.draw(rounds["s_fin"], rounds["source"], count=1, seed=seed)
    assert not Draw.objects.exists()


def test_count_larger_than_pool_refused_and_nothing_entered(rounds):
    with pytest.raises(services.DrawRefused):
        services.draw(rounds["s_fin"], rounds["source"], count=31, seed="s")
    assert not Entry.objects.filter(skill=rounds["s_fin"]).exists()


def test_drawn_athlete_in_another_skill_of_the_final_refuses_everything(rounds):
    r = rounds
    other = f.skill(event=r["final"], code="PHA")
    pool = [e.competitor_no for e in r["entries"]]
    first_no = independent_draw("s", pool, 1)[0][0]
    src = Entry.objects.get(skill=r["s_src"], competitor_no=first_no)
    f.entry(other, delegation=src.delegation, athletes=[m.athlete for m in src.members.all()])
    with pytest.raises(services.DrawRefused) as exc:
        services.draw(r["s_fin"], r["source"], count=4, seed="s")
    assert exc.value.code == "already_entered"
    assert not Entry.objects.filter(skill=r["s_fin"]).exists()
    assert not Draw.objects.exists()


def test_closed_pool_must_be_the_pool_drawn(rounds):
    r = rounds
    org = f.organiser()
    closure = services.close_pool(r["s_fin"], r["source"], "体彩排列三 2026-06-01 开奖号", org)
    assert sorted(closure.pool) == sorted(e.competitor_no for e in r["entries"])
    # A change to the pool after closing (an entry withdrawn) blocks the draw.
    Entry.objects.filter(pk=r["entries"][5].pk).update(status="withdrawn")
    with pytest.raises(services.DrawRefused) as exc:
        services.draw(r["s_fin"], r["source"], count=2, seed="7", user=org)
    assert exc.value.code == "pool_changed"
    Entry.objects.filter(pk=r["entries"][5].pk).update(status="registered")
    done = services.draw(r["s_fin"], r["source"], count=2, seed="7", user=org)
    assert done.closure_id == closure.pk


def test_only_organisers_draw(rounds):
    lead = f.lead(rounds["dels"][0])
    with pytest.raises(PermissionDenied):
        services.draw(rounds["s_fin"], rounds["source"], count=1, seed="s", user=lead)
    with pytest.raises(PermissionDenied):
        services.close_pool(rounds["s_fin"], rounds["source"], "x", lead)


def test_recheck_snippet_runs_and_prints_the_result(rounds):
    done = services.draw(rounds["s_fin"], rounds["source"], count=4, seed='引号"与\\反斜杠')
    out = subprocess.run(
        [sys.executable, "-c", services.recheck_snippet(done)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [tuple(line.split("\t")) for line in out.splitlines()] == [
        (x["competitor_no"], x["key"]) for x in done.result
    ]


# ------------------------------------------------------------------ nominations


def test_lead_nominates_within_quota_then_pool_excludes_nominee(rounds):
    r = rounds
    gl = r["dels"][0]
    lead = f.lead(gl)
    f.quota(r["s_fin"], gl, max_entries=1)
    mine = [e for e in r["entries"] if e.delegation_id == gl.pk]
    nom = services.nominate(lead, r["s_fin"], mine[0])
    assert nom.created_entry.skill_id == r["s_fin"].pk
    with pytest.raises(services.DrawRefused) as exc:
        services.nominate(lead, r["s_fin"], mine[1])
    assert exc.value.code == "quota_full"
    # The draw's pool leaves the nominee out.
    done = services.draw(r["s_fin"], r["source"], count=2, seed="z")
    assert mine[0].competitor_no not in done.pool
    assert len(done.pool) == 29


def test_lead_cannot_nominate_other_delegations_entry_or_after_closing(rounds):
    r = rounds
    gl, xw = r["dels"][0], r["dels"][1]
    lead = f.lead(gl)
    f.quota(r["s_fin"], gl, max_entries=3)
    theirs = next(e for e in r["entries"] if e.delegation_id == xw.pk)
    with pytest.raises(PermissionDenied):
        services.nominate(lead, r["s_fin"], theirs)
    services.close_pool(r["s_fin"], r["source"], "seed source", f.organiser())
    mine = next(e for e in r["entries"] if e.delegation_id == gl.pk)
    with pytest.raises(services.DrawRefused) as exc:
        services.nominate(lead, r["s_fin"], mine)
    assert exc.value.code == "closed"
    assert not Nomination.objects.exists()
    assert PoolClosure.objects.count() == 1
