"""deploy/gunicorn.conf.py: workers are recycled rarely and never together
(a restart mid-burst stalled marks), threads as the sizing in
deploy/README.md assumes, and a stuck request is cut before nginx gives up."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"


def load(monkeypatch, **env: str) -> dict:
    for name in (
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "GUNICORN_TIMEOUT",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_MAX_REQUESTS_JITTER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_workers_are_recycled_rarely_and_spread_out(monkeypatch):
    conf = load(monkeypatch)
    # A 200-tablet burst of 15 marks is 3,000 requests: far below one recycle.
    assert conf["max_requests"] >= 10 * 3000
    # Each worker draws 0..jitter on every start: a window half as wide as the
    # period keeps workers of one node from restarting together.
    assert conf["max_requests_jitter"] >= conf["max_requests"] // 2


def test_recycling_can_be_tuned_or_switched_off(monkeypatch):
    conf = load(monkeypatch, GUNICORN_MAX_REQUESTS="8000")
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (8000, 4000)
    assert load(monkeypatch, GUNICORN_MAX_REQUESTS="0")["max_requests"] == 0


@pytest.mark.parametrize("threads", [None, "4"])
def test_threaded_workers(monkeypatch, threads):
    conf = load(monkeypatch, **({"GUNICORN_THREADS": threads} if threads else {}))
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] == (int(threads) if threads else 2)
    assert conf["workers"] >= 2


def test_a_stuck_request_is_cut_before_nginx_gives_up(monkeypatch):
    nginx = (ROOT / "deploy" / "nginx" / "portal.conf").read_text(encoding="utf-8")
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", nginx).group(1))
    assert load(monkeypatch)["timeout"] < read_timeout
