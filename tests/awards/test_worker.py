"""End to end with a real Celery worker against Redis and PostgreSQL.

The worker runs in a subprocess on the test database; tasks travel through
Redis. The test uses its own Redis database number (AWARDS_TEST_REDIS_DB,
default 13) so workers of other apps on the machine never take its tasks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction

from awards import awarding, tasks
from awards.models import Certificate, CertificateBatch
from tests import factories as f

from .conftest import ranked_entries, sign_off

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _redis_url() -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urlsplit(base)
    db = os.environ.get("AWARDS_TEST_REDIS_DB", "13")
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def _redis_reachable(url: str) -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.flushdb()  # our own database: drop messages of an aborted earlier run
        return None
    except Exception as exc:
        return f"Redis not reachable at {url}: {exc}"


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{s['NAME']}"


def _reset_producers(app) -> None:
    # kombu keeps pools per broker URL; the app must look its pool up again
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def concurrency() -> int:
    return 2


@pytest.fixture
def worker(settings, tmp_path, concurrency):
    if connection.vendor != "postgresql":
        pytest.skip("the worker test runs on PostgreSQL (set DATABASE_URL)")
    url = _redis_url()
    reason = _redis_reachable(url)
    if reason:
        pytest.skip(reason)
    from portal.celery import app

    saved = {
        k: app.conf[k]
        for k in ("task_always_eager", "broker_url", "result_backend", "task_eager_propagates")
    }
    app.conf.task_always_eager = False
    app.conf.broker_url = url
    app.conf.result_backend = None
    _reset_producers(app)  # pools made earlier are bound to the old broker URL
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False

    env = {
        **os.environ,
        "REDIS_URL": url,
        "DATABASE_URL": _database_url(),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "worker.log", "w")  # closed in teardown
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.awards.worker_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"awards-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Publish only once the worker has declared its queue: the Redis
        # transport drops a message sent to an exchange with no binding, and
        # this process may believe the queue declared from an earlier test
        # (kombu caches declarations) although flushdb removed the binding.
        deadline = time.monotonic() + 60
        while " ready." not in (tmp_path / "worker.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker did not start:\n{(tmp_path / 'worker.log').read_text()}")
            time.sleep(0.1)
        yield {"proc": proc, "log": tmp_path / "worker.log"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        for k, v in saved.items():
            app.conf[k] = v
        _reset_producers(app)


def _wait_for(batch_id: int, proc, log: Path, timeout: float = 120) -> CertificateBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = CertificateBatch.objects.get(pk=batch_id)
        if batch.finished:
            return batch
        if proc.poll() is not None:
            pytest.fail(f"worker exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    pytest.fail(
        f"batch not finished in {timeout}s: {batch.status} {batch.done}/{batch.total}\n"
        f"{log.read_text()[-4000:]}"
    )


def test_certificate_batch_end_to_end_on_a_real_worker(worker, settings):
    programme = f.programme(code="wk2026", name="2026年全省职业技能大赛", issuing_body="省人社厅")
    event = f.event(programme=programme, code="wkfinal", name="决赛")
    dels = [f.delegation(code=c, name=f"{c}代表团") for c in ("AA", "BB", "CC")]
    team = f.skill(event=event, code="T1", name="移动机器人", award_policy="national", team_size=2)
    ranked_entries(team, [1, 2, 3, 4, 5, 6], dels)
    solo = f.skill(event=event, code="S1", name="砌筑", award_policy="worldskills")
    ranked_entries(solo, [1, 1, 3, 4], dels, scale=[760, 760, 720, 705])
    for s in (team, solo):
        sign_off(s)
        awarding.compute_awards(s)

    with transaction.atomic():
        batch = tasks.start_batch(event, size=4)  # queued when this commits
    done = _wait_for(batch.pk, worker["proc"], worker["log"])

    # team: 3 medal entries × 2 members × (award + title r ≤ 3) = 12; solo: 4
    assert done.status == CertificateBatch.Status.DONE, done.error_log
    assert (done.total, done.done, done.errors, done.rendered) == (16, 16, 0, 16)
    assert done.chunks.count() == 4 and all(c.completed for c in done.chunks.all())
    media = Path(settings.MEDIA_ROOT)
    with zipfile.ZipFile(media / done.archive.file.name) as zf:
        assert len(zf.namelist()) == 16
    assert sum(z.count for z in done.delegation_zips.all()) == 16
    assert Certificate.objects.filter(file="").count() == 0

    # again, through the worker: same serials, nothing drawn a second time
    serials = set(Certificate.objects.values_list("serial", flat=True))
    with transaction.atomic():
        again = tasks.start_batch(event, size=4)
    again = _wait_for(again.pk, worker["proc"], worker["log"])
    assert (again.status, again.done, again.rendered) == ("done", 16, 0)
    assert set(Certificate.objects.values_list("serial", flat=True)) == serials


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(c) for c in text)
    return out


@pytest.mark.parametrize("concurrency", [1])
def test_worker_killed_mid_chunk_is_redelivered_and_the_batch_completes(worker, concurrency):
    programme = f.programme(code="kill2026", name="2026年全省职业技能大赛")
    event = f.event(programme=programme, code="killfinal", name="决赛")
    dels = [f.delegation(code=c, name=f"{c}代表团") for c in ("KA", "KB")]
    skill = f.skill(event=event, code="K1", name="电工", award_policy="ratio")
    # ratio: 60 % of 200 entries get a prize → 120 certificates in one chunk
    ranked_entries(skill, list(range(1, 201)), dels)
    sign_off(skill)
    awarding.compute_awards(skill)
    with transaction.atomic():
        batch = tasks.start_batch(event, size=500)
    # wait until the chunk has visibly started, then kill the pool process
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and not killed:
        chunk = batch.chunks.first()
        if chunk is not None and 10 <= chunk.done < 100:
            for child in _children(worker["proc"].pid):
                os.kill(child, signal.SIGKILL)
                killed = True
        time.sleep(0.02)
    if not killed:
        pytest.skip("the chunk finished before the worker could be killed (machine too fast)")
    done = _wait_for(batch.pk, worker["proc"], worker["log"])
    assert done.status == "done", done.error_log
    assert (done.total, done.done, done.errors) == (120, 120, 0)
    chunk = done.chunks.get()
    assert chunk.attempts >= 2  # delivered again after the kill
    # nothing drawn twice: the redelivered chunk skipped what was stored
    assert set(Certificate.objects.filter(event=event).values_list("render_count", flat=True)) == {
        1
    }
