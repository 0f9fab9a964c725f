"""Before sign-off, nothing a judge's tablet receives names an athlete or a
delegation (docs/integrity.md): every page, every JSON answer, every redirect."""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client

from scoring.models import SkillMarking
from tablets import services

from .conftest import PIN, tablet_client

pytestmark = pytest.mark.django_db


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    text = content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        # JsonResponse escapes non-ASCII (\\uXXXX): compare the real text.
        text = json.dumps(json.loads(text), ensure_ascii=False)
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + text


def fetch_everything(world, language: str) -> dict[str, str]:
    """Every judge-facing response, keyed by what was asked."""
    seen: dict[str, str] = {}

    def keep(label: str, response) -> None:
        seen[label] = body_of(response)

    anonymous = Client()
    anonymous.cookies["django_language"] = language
    keep("login", anonymous.get("/tablet/login/"))
    keep("login wrong", anonymous.post("/tablet/login/", {"code": "JA01", "pin": "000"}))
    keep("login ok", anonymous.post("/tablet/login/", {"code": "JA01", "pin": PIN}))
    keep("link bad", anonymous.get("/tablet/link/nope/"))
    [(_, token)] = services.create_links([world.jb], by_user=world.organiser)
    keep("link ok", Client().get(f"/tablet/link/{token}/"))
    keep("sw", anonymous.get("/tablet/sw.js"))
    keep("api signed out", anonymous.post("/tablet/api/mark", "{}", "application/json"))

    key = 0
    for judge in (world.ja, world.jb, world.jc, world.chief):
        client, _ = tablet_client(judge, HTTP_ACCEPT_ENCODING="gzip")
        client.cookies["django_language"] = language
        keep(f"{judge.code} home", client.get("/tablet/?stay=1"))
        keep(f"{judge.code} home redirect", client.get("/tablet/"))
        keep(f"{judge.code} skill", client.get(f"/tablet/{world.skill.pk}/"))
        keep(f"{judge.code} poll", client.get(f"/tablet/api/poll/{world.skill.pk}"))
        for no, entry in world.entries.items():
            keep(f"{judge.code} {no}", client.get(f"/tablet/{world.skill.pk}/{no}/"))
            keep(
                f"{judge.code} poll {no}",
                client.get(f"/tablet/api/poll/{world.skill.pk}?entry={entry.pk}"),
            )
            for code, aspect in world.aspects.items():
                for value, ev in (("1", None), ("0", 0), ("7", None)):  # saved, stale, range
                    key += 1
                    response = client.post(
                        "/tablet/api/mark",
                        {
                            "client_key": f"anon-{key}",
                            "entry": entry.pk,
                            "aspect": aspect.pk,
                            "value": value,
                            "expected_version": ev,
                        },
                        content_type="application/json",
                    )
                    keep(f"{judge.code} mark {no} {code} {value}", response)
        services.request_remark(
            world.entries["103"], world.aspect("J1"), [world.jb], world.organiser, "复核"
        )
        keep(f"{judge.code} skill with remarks", client.get(f"/tablet/{world.skill.pk}/"))
        keep(f"{judge.code} logout", client.post("/tablet/logout/"))
    return seen


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_name_or_delegation_reaches_a_tablet_before_sign_off(world, language):
    seen = fetch_everything(world, language)
    assert len(seen) > 200
    # The fetches did exercise all kinds of answers.
    joined = "\n".join(seen.values())
    for expected in ('"status": "saved"', '"code": "stale"', '"code": "own_delegation"'):
        assert expected in joined
    assert '"code": "out_of_range"' in joined
    leaks = [
        (label, secret)
        for label, text in seen.items()
        for secret in world.secrets
        if secret in text
    ]
    assert leaks == []


def test_names_are_revealed_after_sign_off(world):
    SkillMarking.objects.create(skill=world.skill, status=SkillMarking.Status.SIGNED_OFF)
    client, _ = tablet_client(world.jb)
    page = client.get(f"/tablet/{world.skill.pk}/").content.decode()
    assert "欧阳翠花" in page and "司马云霄" not in page  # 102 is jb's own: not offered
    # Delegations stay off the tablet even then.
    assert all(code not in page for code, _ in [(d.code, d.name) for d in world.delegations])
