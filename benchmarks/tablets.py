"""200 tablets marking at once: the mark endpoint under gunicorn on
PostgreSQL over loopback, against pgbench's single-row upsert.

1. Builds its own database (default ``portal_load``, dropped and rebuilt
   unless ``--reuse``): the provincial demo (``demo.builder``), then a
   20-aspect marking scheme (10 M + 10 J, 100 marks) on as many skills of the
   final as it takes to seat ``--tablets`` judges, and one tablet session per
   judge.
2. Plans each tablet's marks: only pairs the panel allows (no recusal
   refusals), J marks the judge's own, M marks shared out among the skill's
   judges, so every planned write must succeed exactly once.
3. Starts gunicorn (``DJANGO_DEBUG=0``; gthread workers × 2 threads as
   ``deploy/gunicorn.conf.py`` runs it, or ``--worker-class sync``) on
   127.0.0.1 and runs the client as its own process: asyncio, one
   connection per tablet, ``POST /tablet/api/mark`` with a fresh client key
   per mark, a timeout with retry (same key), and a resend of a few
   already-saved marks (same key, must be answered ``replayed``). Phases
   (``--phases``): ``ceiling`` (``GET /healthz`` as fast as answers come:
   what Django + gunicorn + this client can do at all on this machine),
   then on separate marks ``burst`` (every tablet taps as fast as answers
   come: throughput) and ``paced`` (a judge's pace, ``--think-ms`` between
   taps: latency), and ``signin`` (every judge signs in by code and PIN at
   once, ``POST /tablet/login/``; ``signin_pbkdf2`` the same with PINs
   stored as the older PBKDF2 hashes, which are checked once and re-hashed).
   The burst reports its ratio to the ceiling and how many gunicorn workers
   were restarted during it (new worker pids). gunicorn runs with
   ``deploy/gunicorn.conf.py`` (``--max-requests`` overrides its recycling,
   e.g. ``--max-requests 2000 --max-requests-jitter 200`` as before).
   Each phase prints the CPU per request of the gunicorn
   workers, the PostgreSQL backends of this database and the client (from
   /proc; a backend that closed during the phase is not counted).
4. Checks the database: every planned mark present with its value, one
   ledger record per mark, version 1 — lost and duplicated must be 0.
5. Runs pgbench on the same database with the equivalent single-row upsert
   and prints the ratio.

Bounded: ``--marks`` per tablet and phase, ``--max-seconds`` per phase,
loopback only. The load average is printed before and after: other work on
the machine moves every figure, pgbench's included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

HELP = "200 tablets posting marks to gunicorn vs a pgbench upsert floor"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_load"
M_ASPECTS = 10
J_ASPECTS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--marks", type=int, default=15, help="marks per tablet, burst phase")
    parser.add_argument("--paced-marks", type=int, default=12, help="marks per tablet, paced")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    # deploy/gunicorn.conf.py runs gthread with 2 threads; sync is gunicorn's default.
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="gthread")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--phases",
        default="ceiling,signin,burst,paced",
        help="comma-separated: ceiling (GET /healthz: what Django + gunicorn + this "
        "client can do at all), signin, signin_pbkdf2 (PINs stored the old way), burst, paced",
    )
    parser.add_argument(
        "--max-requests", type=int, default=None, help="override deploy/gunicorn.conf.py"
    )
    parser.add_argument("--max-requests-jitter", type=int, default=None)
    # A judge looks at the work before each tap: one tap every 5 s is brisk.
    parser.add_argument("--think-ms", type=int, default=5000, help="mean pause in the paced phase")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="client timeout before a retry (as tablet.js)"
    )
    parser.add_argument("--resend", type=float, default=0.05, help="share of marks sent twice")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="cap per phase")
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database built before (marks are cleared)"
    )
    parser.add_argument("--seed", type=int, default=2026)


# ---------------------------------------------------------------- database


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing odd database name {name!r}")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _build(args: argparse.Namespace) -> dict:
    """Demo + schemes + sessions; returns the plan for the client."""
    from decimal import Decimal

    from django.db import transaction

    from competitions.models import Event, Skill
    from demo import builder as demo
    from scoring.models import Aspect, AspectKind, Criterion, JudgementDescriptor, SubCriterion
    from tablets import services
    from tablets.models import TabletSession
    from teams.models import JudgeAssignment

    if not demo.demo_exists():
        demo.build_demo(demo.PRESETS["provincial"], seed=args.seed, reset=True)
    final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    skills, seated = [], 0
    for skill in Skill.objects.filter(event=final).order_by("code"):
        if seated >= args.tablets:
            break
        n = JudgeAssignment.objects.filter(skill=skill, role="judge").count()
        skills.append(skill)
        seated += n
    with transaction.atomic():
        for skill in skills:
            if Aspect.objects.filter(skill=skill).exists():
                continue
            for code, kind, count in (
                ("A", AspectKind.MEASUREMENT, M_ASPECTS),
                ("B", AspectKind.JUDGEMENT, J_ASPECTS),
            ):
                crit = Criterion.objects.create(
                    skill=skill, code=code, name=f"模块{code}", max_mark=Decimal(5 * count)
                )
                sub = SubCriterion.objects.create(criterion=crit, code=f"{code}1", name="子模块")
                for i in range(count):
                    aspect = Aspect.objects.create(
                        skill=skill,
                        sub_criterion=sub,
                        code=f"{kind}{i + 1}",
                        kind=kind,
                        description=f"评分点 {kind}{i + 1}",
                        max_mark=Decimal(5),
                        order=i,
                    )
                    if kind == AspectKind.JUDGEMENT:
                        JudgementDescriptor.objects.bulk_create(
                            JudgementDescriptor(aspect=aspect, score=s, text=f"{s} 分")
                            for s in range(4)
                        )
    rng = random.Random(args.seed)
    TabletSession.objects.all().delete()
    # With --reuse the marks of the last run are there: every planned first
    # write (expected_version 0) would be refused as stale. This is the
    # benchmark's own database, and ledger records refuse an ORM delete.
    from django.db import connection

    from scoring.models import DiscrepancyAcknowledgement, LedgerRecord, Mark, SkillMarking

    tables = [
        connection.ops.quote_name(m._meta.db_table)
        for m in (LedgerRecord, DiscrepancyAcknowledgement, Mark, SkillMarking)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    tablets: list[dict[str, Any]] = []
    for skill in skills:
        judges = [
            a.judge
            for a in JudgeAssignment.objects.filter(skill=skill, role="judge")
            .select_related("judge")
            .order_by("judge__code")
        ]
        for index, judge in enumerate(judges):
            if len(tablets) >= args.tablets:
                break
            scope = services.load_scope(skill, judge)
            kinds = {a.pk: a.kind for a in scope.aspects}
            pairs = []
            for entry_id, aspect_ids in scope.allowed.items():
                for aspect_id in sorted(aspect_ids):
                    # M marks are shared: each goes to one judge of the skill.
                    if kinds[aspect_id] == "M" and (entry_id + aspect_id) % len(judges) != index:
                        continue
                    pairs.append((entry_id, aspect_id, kinds[aspect_id]))
            rng.shuffle(pairs)
            _session, token = services.start_session(judge, via="pin", device=f"load-{judge.code}")
            tablets.append({"judge": judge.pk, "code": judge.code, "token": token, "pairs": pairs})
    return {"skills": [s.pk for s in skills], "tablets": tablets}


def _value(kind: str, rng: random.Random) -> str:
    return str(rng.randint(0, 3)) if kind == "J" else f"{rng.randint(0, 500) / 100:.2f}"


def _verify(planned: list[dict]) -> dict:
    """Lost and duplicated marks of one phase, from the database."""
    from decimal import Decimal

    from scoring.models import LedgerRecord, Mark

    keys = {p["key"] for p in planned}
    records = dict.fromkeys(keys, 0)
    for key in LedgerRecord.objects.filter(client_key__in=keys).values_list(
        "client_key", flat=True
    ):
        records[key] += 1
    entries = {p["entry"] for p in planned}
    marks = {}
    for entry, aspect, judge, kind, value, version in Mark.objects.filter(
        entry_id__in=entries
    ).values_list("entry_id", "aspect_id", "judge_id", "kind", "value", "version"):
        marks[(entry, aspect, judge if kind == "J" else None)] = (value, version)
    lost = duplicated = 0
    for p in planned:
        found = marks.get((p["entry"], p["aspect"], p["judge"] if p["kind"] == "J" else None))
        if found is None or found[0] != Decimal(p["value"]):
            lost += 1
        elif found[1] != 1 or records[p["key"]] != 1:
            duplicated += 1
    writes = sum(records.values())
    return {"lost": lost, "duplicated": duplicated, "ledger_records": writes}


# ---------------------------------------------------------------- gunicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_gunicorn(
    url: str,
    port: int,
    workers: int,
    worker_class: str = "sync",
    threads: int = 1,
    max_requests: int | None = None,
    max_requests_jitter: int | None = None,
) -> subprocess.Popen:
    """gunicorn as deployed (``deploy/gunicorn.conf.py``) on 127.0.0.1:port,
    with the workers, class and threads given; no access log."""
    recycle = []
    if max_requests is not None:
        recycle += ["--max-requests", str(max_requests)]
    if max_requests_jitter is not None:
        recycle += ["--max-requests-jitter", str(max_requests_jitter)]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collectstatic here
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "GUNICORN_CONTROL_SOCKET": "",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "portal.wsgi:application",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            *recycle,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            # sync with threads > 1 would silently become gthread.
            "--threads",
            str(threads if worker_class == "gthread" else 1),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b"200" in s.recv(64):
                    return proc
        except OSError:
            time.sleep(0.2)
    _stop(proc)
    raise SystemExit("gunicorn did not start")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


# ---------------------------------------------------------------- the client process


class Tablet:
    """One tablet: a cookie, a CSRF secret and a connection to the server."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.csrf = secrets.token_hex(16)  # a 32-character secret is a valid token
        self.cookie = f"tablet_session={token}; csrftoken={self.csrf}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        # No wait_closed(): a timeout may cancel us mid-close, and a dropped
        # connection needs no goodbye (abort() also frees the socket at once).
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        return await self.request("POST", "/tablet/api/mark", body)

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Cookie: {self.cookie}\r\n"
            f"X-CSRFToken: {self.csrf}\r\n"
            "\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length)
        if close:  # gunicorn's sync workers close after each response
            await self.close()
        return status, data


async def _tablet_run(tab: dict, plan: dict, stats: dict, deadline: float) -> None:
    rng = random.Random(tab["judge"])
    client = Tablet(plan["port"], tab["token"])
    think = plan["think_ms"] / 1000
    try:
        for mark in tab["marks"]:
            if time.monotonic() > deadline:
                break
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))
            body = json.dumps(
                {
                    "client_key": mark["key"],
                    "entry": mark["entry"],
                    "aspect": mark["aspect"],
                    "value": mark["value"],
                    "expected_version": 0,
                }
            ).encode()
            sends = 2 if rng.random() < plan["resend"] else 1
            for attempt in range(sends):
                started = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    try:
                        status, data = await asyncio.wait_for(client.post(body), plan["timeout"])
                    except (
                        TimeoutError,
                        OSError,
                        asyncio.IncompleteReadError,
                        ValueError,
                        IndexError,
                    ):
                        stats["retries"] += 1
                        await client.close()
                        await asyncio.sleep(0.2)
                        continue
                    stats["latencies"].append(time.perf_counter() - t0)
                    if status >= 500:
                        stats["retries"] += 1
                        continue
                    break
                answer = json.loads(data)
                if answer.get("status") == "saved":
                    stats["saved"] += 1
                    if attempt:
                        stats["resent"] += 1
                        stats["resend_replayed"] += bool(answer.get("replayed"))
                    else:
                        stats["mark_latencies"].append(time.perf_counter() - started)
                        stats["done_keys"].append(mark["key"])
                else:
                    stats["refused"].append(answer)
    finally:
        await client.close()


async def _ceiling_run(tab: dict, plan: dict, stats: dict, deadline: float) -> None:
    """``GET /healthz`` (every middleware, one ``SELECT 1``) as fast as answers
    come: the most requests per second Django, gunicorn and this client can
    do on this machine, whatever the mark endpoint does."""
    client = Tablet(plan["port"], tab["token"])
    try:
        for _mark in tab["marks"]:
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            try:
                status, _data = await asyncio.wait_for(
                    client.request("GET", "/healthz"), plan["timeout"]
                )
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                stats["retries"] += 1
                await client.close()
                continue
            stats["latencies"].append(time.perf_counter() - t0)
            if status == 200:
                stats["saved"] += 1
            else:
                stats["refused"].append({"status": status})
    finally:
        await client.close()


async def _signin_run(tab: dict, plan: dict, stats: dict, deadline: float) -> None:
    """One judge signing in by code and PIN, as the login form posts it
    (a 302 to the tablet's home page is a success)."""
    client = Tablet(plan["port"], "none")
    body = f"code={tab['code']}&pin={tab['pin']}&device=load".encode()
    try:
        t0 = time.perf_counter()
        try:
            status, _data = await asyncio.wait_for(
                client.request("POST", "/tablet/login/", body, "application/x-www-form-urlencoded"),
                max(plan["timeout"], deadline - time.monotonic()),
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            stats["retries"] += 1
            return
        stats["latencies"].append(time.perf_counter() - t0)
        if status == 302:
            stats["saved"] += 1
        else:
            stats["refused"].append({"status": status, "code": tab["code"]})
    finally:
        await client.close()


async def _client_async(plan: dict) -> dict:
    stats = {
        "latencies": [],
        "mark_latencies": [],
        "retries": 0,
        "saved": 0,
        "resent": 0,
        "resend_replayed": 0,
        "refused": [],
        "done_keys": [],
    }
    deadline = time.monotonic() + plan["max_seconds"]
    started = time.perf_counter()
    runner = {"ceiling": _ceiling_run, "signin": _signin_run}.get(plan["mode"], _tablet_run)
    await asyncio.gather(*(runner(t, plan, stats, deadline) for t in plan["tablets"]))
    stats["seconds"] = time.perf_counter() - started
    return stats


def client_main(plan_path: str, out_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    stats = asyncio.run(_client_async(plan))
    Path(out_path).write_text(json.dumps(stats))


# ---------------------------------------------------------------- pgbench


PGBENCH_SQL = """\\set e random(1, 2000)
\\set a random(1, 60)
\\set j random(1, 200)
\\set v random(0, 3)
INSERT INTO bench_mark (entry_id, aspect_id, judge_id, value, version)
VALUES (:e, :a, :j, :v, 1)
ON CONFLICT (entry_id, aspect_id, judge_id)
DO UPDATE SET value = EXCLUDED.value, version = bench_mark.version + 1;
"""


def _pgbench(url: str, clients: int, seconds: int) -> float | None:
    import psycopg

    found = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None
    )
    if not found:
        print("pgbench not found: no floor")
        return None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_mark")
        conn.execute(
            "CREATE TABLE bench_mark (entry_id int, aspect_id int, judge_id int, "
            "value numeric(6, 2) NOT NULL, version int NOT NULL, "
            "PRIMARY KEY (entry_id, aspect_id, judge_id))"
        )
    parsed = urlparse(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SQL)
    try:
        out = subprocess.run(
            [
                str(found),
                "-n",
                "-f",
                f.name,
                "-c",
                str(clients),
                "-j",
                str(min(clients, os.cpu_count() or 2)),
                "-T",
                str(seconds),
                "-h",
                parsed.hostname or "127.0.0.1",
                "-p",
                str(parsed.port or 5432),
                "-U",
                parsed.username or "postgres",
                parsed.path.lstrip("/"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    if lat:
        print(f"  pgbench latency average {lat.group(1)} ms")
    return float(match.group(1)) if match else None


# ---------------------------------------------------------------- run


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_snapshot(server_pid: int, url: str) -> dict[str, dict[int, float]]:
    """CPU used so far by each gunicorn worker and each PostgreSQL backend
    connected to the benchmark's database (others' databases are not counted)."""
    import psycopg

    workers = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_pid:
            workers[int(stat.parent.name)] = _proc_cpu(int(stat.parent.name))
    workers[server_pid] = _proc_cpu(server_pid)
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        ]
    return {"gunicorn": workers, "postgres": {pid: _proc_cpu(pid) for pid in pids}}


def _cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per group between two snapshots (a process that appeared
    in between counts from zero; one that exited in between is missed)."""
    return {
        group: sum(cpu - before[group].get(pid, 0.0) for pid, cpu in after[group].items())
        for group in after
    }


def _phase(name: str, args, plan_tablets, port: int, think_ms: int, rng) -> tuple[dict, list]:
    planned = []
    tablets = []
    for tab in plan_tablets:
        marks = []
        for entry, aspect, kind in tab["take"]:
            mark = {
                "key": str(uuid.uuid4()),
                "entry": entry,
                "aspect": aspect,
                "kind": kind,
                "judge": tab["judge"],
                "value": _value(kind, rng),
            }
            marks.append(mark)
        planned += marks
        tablets.append(
            {"judge": tab["judge"], "token": tab["token"], "marks": marks}
            | {k: tab[k] for k in ("code", "pin") if k in tab}
        )
    plan = {
        "port": port,
        "tablets": tablets,
        "think_ms": think_ms,
        "timeout": args.timeout,
        "resend": args.resend,
        "max_seconds": args.max_seconds,
        "mode": "signin" if name.startswith("signin") else name,
    }
    server_pid = args.server_pid
    cpu_before = _cpu_snapshot(server_pid, args.database_url)
    workers_before = set(cpu_before["gunicorn"])
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        plan_path, out_path = Path(tmp, "plan.json"), Path(tmp, "out.json")
        plan_path.write_text(json.dumps(plan))
        # The client is its own process, so it does not share a CPU budget
        # with this one's imports or a GIL with anything of the server's.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from benchmarks.tablets import client_main; "
                "client_main(sys.argv[1], sys.argv[2])",
                str(plan_path),
                str(out_path),
            ],
            cwd=ROOT,
            check=True,
        )
        stats = json.loads(out_path.read_text())
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = _cpu_snapshot(server_pid, args.database_url)
    # A worker restarted during the phase has a new pid (its CPU before the
    # restart is not counted: a restart makes the figure look better, not worse).
    stats["restarts"] = len(set(cpu_after["gunicorn"]) - workers_before)
    stats["cpu"] = {
        **_cpu_used(cpu_before, cpu_after),
        "client": (client_after.ru_utime + client_after.ru_stime)
        - (client_before.ru_utime + client_before.ru_stime),
    }
    done = set(stats["done_keys"])
    # Marks the cap left unsent are not "lost": only what was answered counts.
    return stats, [p for p in planned if p["key"] in done]


def _report(name: str, stats: dict, check: dict | None, think_ms: int) -> float:
    n = len(stats["latencies"])
    throughput = n / stats["seconds"] if stats["seconds"] else 0.0
    print(
        f"\n[{name}] think {think_ms} ms: {stats['saved']} saved answers, {n} requests "
        f"in {stats['seconds']:.1f} s → {throughput:.0f} req/s"
    )
    print(
        f"  request latency p50 {_pct(stats['latencies'], 0.50):.1f} ms · "
        f"p95 {_pct(stats['latencies'], 0.95):.1f} ms · "
        f"p99 {_pct(stats['latencies'], 0.99):.1f} ms · "
        f"mean {statistics.fmean(stats['latencies']) * 1000 if n else 0:.1f} ms"
    )
    if name == "ceiling" or name.startswith("signin"):
        print(f"  errors {len(stats['refused'])} · timeouts {stats['retries']}")
    else:
        print(
            f"  per mark (incl. retries) p95 {_pct(stats['mark_latencies'], 0.95):.1f} ms · "
            f"retries {stats['retries']} · resent {stats['resent']} "
            f"(replayed {stats['resend_replayed']}) · refused {len(stats['refused'])}"
        )
    if n:
        cpu = stats["cpu"]
        print(
            "  CPU per request: "
            + " · ".join(f"{group} {seconds * 1000 / n:.2f} ms" for group, seconds in cpu.items())
            + f" (machine: {os.cpu_count()} CPUs)"
        )
    if check is not None:
        print(
            f"  database: {check['ledger_records']} ledger records for "
            f"{len(stats['done_keys'])} marks · lost {check['lost']} · "
            f"duplicated {check['duplicated']}"
        )
    print(f"  gunicorn workers restarted during the phase: {stats['restarts']}")
    if stats["refused"] and name != "ceiling":
        print(f"  first refusal: {stats['refused'][0]}")
    return throughput


def _wait_idle(server_pid: int, limit: float = 180.0) -> None:
    """Until the workers stop using CPU: requests a client gave up on are
    still being served, and must not be counted in the next phase."""
    deadline = time.monotonic() + limit
    last = -1.0
    while time.monotonic() < deadline:
        workers = [
            int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat") if _ppid(p) == server_pid
        ]
        used = sum(_proc_cpu(pid) for pid in workers)
        if used - last < 0.05:
            return
        last = used
        time.sleep(1.0)


def _ppid(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _set_pins(tablets: list[dict], scheme: str) -> list[dict]:
    """Give every tablet's judge a PIN stored as ``scheme`` ("hmac", or
    "pbkdf2": Django's password hash, as PINs were stored before
    ``tablets.pin_hashing``); the tablets with their code and PIN."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from tablets import pin_hashing
    from tablets.models import JudgeCredential, PinFailure

    pin = f"{random.Random(scheme).randrange(10**6):06d}"
    stored = pin_hashing.hash_pin(pin) if scheme == "hmac" else make_password(pin)  # one slow hash
    judges = [t["judge"] for t in tablets]
    JudgeCredential.objects.filter(judge_id__in=judges).delete()
    PinFailure.objects.all().delete()
    JudgeCredential.objects.bulk_create(
        JudgeCredential(judge_id=j, pin_hash=stored, set_at=timezone.now()) for j in judges
    )
    return [{**t, "pin": pin} for t in tablets]


def _summary(results: dict, floor: float | None, tablets: int) -> None:
    """Ratios against the floors timed in this run, and the targets."""
    burst = results["burst"][0] if "burst" in results else None
    if floor and burst:
        print(
            f"  floor {floor:.0f} tps · mark endpoint {burst:.0f} req/s → ratio {burst / floor:.3f}"
        )
    if floor and "ceiling" in results:
        ceiling = results["ceiling"][0]
        print(f"  ceiling (GET /healthz) {ceiling:.0f} req/s → ratio {ceiling / floor:.3f}")
    if burst and "ceiling" in results:
        print(
            f"  burst / ceiling: {burst / results['ceiling'][0]:.2f} × (target ≥ 0.5), "
            f"workers restarted during the burst: {results['burst'][1]['restarts']} (target 0)"
        )
    for name in ("signin_pbkdf2", "signin"):
        if name in results:
            stats = results[name][1]
            n = len(stats["latencies"]) or 1
            cpu = sum(v for k, v in stats["cpu"].items() if k != "client")
            print(
                f"  {name}: p50 {_pct(stats['latencies'], 0.5) / 1000:.2f} s · "
                f"p95 {_pct(stats['latencies'], 0.95) / 1000:.2f} s (target ≤ 2 s) · "
                f"server CPU per sign-in {cpu * 1000 / n:.1f} ms"
            )
    p95 = _pct(results["paced"][1]["latencies"], 0.95) if "paced" in results else float("nan")
    ratio = burst / floor if floor and burst else float("nan")
    print(
        f"\ntargets: p95 ≤ 100 ms at {tablets} tablets (paced): {p95:.1f} ms; "
        f"throughput ≥ 0.3 × floor: {ratio:.3f} ×"
    )


def run(args: argparse.Namespace) -> int:
    url = args.database_url
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load benchmark runs on loopback only")
    print(f"uptime before: {_load()}")
    if not args.reuse:
        _recreate_database(url)
    os.environ["DATABASE_URL"] = url
    # One ledger key for this process and gunicorn's (DEBUG off): one chain;
    # one PIN key, so PINs stored here sign in there.
    os.environ.setdefault("PORTAL_LEDGER_KEY", "benchmark-ledger-" + secrets.token_urlsafe(24))
    os.environ.setdefault("PORTAL_PIN_KEY", "benchmark-pins-" + secrets.token_urlsafe(24))
    from benchmarks import django_env

    started = time.perf_counter()
    database, _migrate = django_env.setup(Path(tempfile.gettempdir()) / "unused.sqlite3")
    built = _build(args)
    print(
        f"database {database}: {len(built['skills'])} skills, {len(built['tablets'])} tablets, "
        f"built in {time.perf_counter() - started:.1f} s"
    )
    rng = random.Random(args.seed)
    wanted = [p.strip() for p in args.phases.split(",") if p.strip()]
    if unknown := set(wanted) - {"ceiling", "signin", "signin_pbkdf2", "burst", "paced"}:
        raise SystemExit(f"unknown phases: {', '.join(sorted(unknown))}")
    counts = {"ceiling": args.marks, "burst": args.marks, "paced": args.paced_marks}
    counts |= {"signin": 0, "signin_pbkdf2": 0}
    thinks = {"ceiling": 0, "burst": 0, "paced": args.think_ms, "signin": 0, "signin_pbkdf2": 0}
    marking = {"burst", "paced"}
    for tab in built["tablets"]:
        need = sum(counts[p] for p in wanted if p in marking)
        if len(tab["pairs"]) < need:
            raise SystemExit(f"a tablet has only {len(tab['pairs'])} marks to give; lower --marks")
    port = _free_port()
    from django.db import connections

    connections.close_all()
    server = _start_gunicorn(
        url,
        port,
        args.workers,
        args.worker_class,
        args.threads,
        args.max_requests,
        args.max_requests_jitter,
    )
    args.server_pid = server.pid
    threads = f" × {args.threads} threads" if args.worker_class == "gthread" else ""
    recycle = (
        "deploy/gunicorn.conf.py's"
        if args.max_requests is None
        else f"{args.max_requests} + 0..{args.max_requests_jitter or 0}"
    )
    print(f"gunicorn: {args.workers} {args.worker_class} workers{threads}, max requests {recycle}")
    results = {}
    try:
        first = 0
        for name in wanted:
            count = counts[name]
            tablets = [{**t, "take": t["pairs"][first : first + count]} for t in built["tablets"]]
            if name in marking:
                first += count
            _wait_idle(server.pid)
            if name.startswith("signin"):
                tablets = _set_pins(tablets, "pbkdf2" if name == "signin_pbkdf2" else "hmac")
                connections.close_all()
            stats, planned = _phase(name, args, tablets, port, thinks[name], rng)
            check = _verify(planned) if name in marking else None
            results[name] = (_report(name, stats, check, thinks[name]), stats, check)
    finally:
        _stop(server)
    print(f"\npgbench: single-row upsert, {args.pgbench_clients} clients, {args.pgbench_seconds} s")
    floor = _pgbench(url, args.pgbench_clients, args.pgbench_seconds)
    _summary(results, floor, len(built["tablets"]))
    bad = sum(r[2]["lost"] + r[2]["duplicated"] for r in results.values() if r[2] is not None)
    print(f"lost + duplicated marks: {bad}")
    print(f"uptime after: {_load()}")
    return 1 if bad else 0


def _load() -> str:
    """The load averages (1, 5, 15 min), as ``uptime`` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tablets", description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
