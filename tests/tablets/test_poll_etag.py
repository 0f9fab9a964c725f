"""The tablet poll is versioned: sent back, an unchanged ETag gets a 304
with no body, and anything the judge would be shown differently — a mark of
the open entry by anyone, a re-mark request, sign-off — gives a 200 with a
new ETag. Recused entries stay out of the answer either way."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring import services as scoring
from scoring.models import SkillMarking
from tablets import services


def poll_url(world, entry=None) -> str:
    url = f"/tablet/api/poll/{world.skill.pk}"
    return f"{url}?entry={entry.pk}" if entry is not None else url


def test_unchanged_poll_is_304_in_two_queries(world, tablet):
    client, _ = tablet(world.jb)
    url = poll_url(world, world.entries["101"])
    first = client.get(url)
    assert first.status_code == 200 and first.json()["locked"] is False
    etag = first.headers["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    # The session, then the version: nothing of the skill's marks is read.
    assert len(queries) == 2, [q["sql"] for q in queries]
    # Another ETag (another entry, or an old one) gets the full answer.
    other = client.get(poll_url(world, world.entries["102"]), headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_a_mark_by_another_judge_ends_the_304(world, tablet, post_mark):
    jb, _ = tablet(world.jb)
    jc, _ = tablet(world.jc)
    entry, m1 = world.entries["101"], world.aspect("M1")
    url = poll_url(world, entry)
    etag = jb.get(url).headers["ETag"]
    assert post_mark(jc, entry, m1, "1", "k-jc-m1", ev=0).status_code == 200
    after = jb.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.json()["marks"][str(m1.pk)] == ["1", 1]
    assert jb.get(url, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_remark_request_and_sign_off_end_the_304(world, tablet):
    client, _ = tablet(world.jb)
    url = poll_url(world)
    etag = client.get(url).headers["ETag"]
    services.request_remark(
        world.entries["102"], world.aspect("J1"), [world.jb], world.chief.user, "再看"
    )
    asked = client.get(url, headers={"If-None-Match": etag})
    assert asked.status_code == 200 and asked.json()["remarks"][0]["reason"] == "再看"
    # Asked again with another reason: the same row, re-dated — still news.
    services.request_remark(
        world.entries["102"], world.aspect("J1"), [world.jb], world.chief.user, "灰缝"
    )
    again = client.get(url, headers={"If-None-Match": asked.headers["ETag"]})
    assert again.status_code == 200 and again.json()["remarks"][0]["reason"] == "灰缝"
    SkillMarking.objects.update_or_create(
        skill=world.skill, defaults={"status": SkillMarking.Status.SIGNED_OFF}
    )
    assert scoring.names_revealed(world.skill)
    locked = client.get(url, headers={"If-None-Match": again.headers["ETag"]})
    assert locked.status_code == 200 and locked.json()["locked"] is True


def test_recused_entry_has_no_marks_in_the_poll(world, tablet, post_mark):
    ja, _ = tablet(world.ja)  # JA01 is of 101's delegation
    jb, _ = tablet(world.jb)
    entry = world.entries["101"]
    post_mark(jb, entry, world.aspect("M1"), "1", "k-jb-m1", ev=0)
    body = ja.get(poll_url(world, entry)).json()
    assert "marks" not in body
    assert "marks" in ja.get(poll_url(world, world.entries["102"])).json()
