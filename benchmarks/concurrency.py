"""A national final's traffic through nginx and gunicorn on this machine.

1. Builds the national preset with every mark (``benchmarks.scoring``'s
   builder: 109 skills, 4,059 entries, 487,080 marks, COPY-loaded) in its own
   database (default ``portal_load_national``), unless it is there already
   (``--rebuild`` forces it). Opens one tablet session for each of
   ``--tablets`` judges (spread over every skill) and a signed-in browser
   session for the chief judge of each of ``--boards`` skills.
2. Starts the whole stack with ``deploy/run-all.sh`` (nginx with TLS on a
   free loopback port, gunicorn with ``deploy/gunicorn.conf.py``, one Celery
   worker and beat on ``REDIS_URL``), in a run directory of its own.
3. Calibrates (``--calibrate-seconds`` each, 0 to skip): each endpoint alone,
   closed loop over ``--in-flight`` connections, for its CPU per request:
   the mark ``POST /tablet/api/mark``, the tablet's poll ``GET
   /tablet/api/poll/<skill>?entry=<entry>`` (tablet.js, every 15 s) and the
   chief judge's grid ``GET /tablet/board/<skill>/grid/`` (board.js, every 5 s).
4. The run (``--seconds``): every tablet polls every ``--poll-every`` s and
   every board refreshes every ``--board-every`` s, on fixed schedules with
   random phases, while marks are sent as fast as answers come over
   ``--in-flight`` connections (the highest rate the machine sustains with
   the polls and boards on top), each for one tablet in turn, with its cookie.
   A mark that times out or gets a 5xx is sent again with the same client
   key; a share (``--resend``) is sent twice on purpose and must come back
   ``replayed``.
5. Reports p50/p95 per endpoint, requests per second, CPU per request of the
   server's processes (gunicorn, nginx, Celery, and the PostgreSQL backends
   of this database, sampled from /proc every second) and, separately, of
   the client; then checks the database: every acknowledged mark has exactly
   one ledger record with its client key, and every mark touched holds the
   last acknowledged value at its starting version plus the acknowledged
   writes (lost and duplicated must be 0; exit status 1 otherwise).

Loopback only; the client is one asyncio process. The load average is
printed before and after: other work on the machine moves every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.concurrency_client import ENDPOINTS
from benchmarks.tablets import _free_port, _load, _pct, _proc_cpu

HELP = "1,000 tablets and 109 chief boards through nginx + gunicorn, national final"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_load_national"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_NATIONAL_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the run")
    parser.add_argument("--tablets", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=109)
    parser.add_argument("--poll-every", type=float, default=15.0)
    parser.add_argument("--board-every", type=float, default=5.0)
    parser.add_argument(
        "--in-flight", type=int, default=16, help="marks in flight at once (closed loop)"
    )
    parser.add_argument("--calibrate-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout (tablet.js)")
    parser.add_argument("--resend", type=float, default=0.02, help="share of marks sent twice")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the national data")
    parser.add_argument("--seed", type=int, default=2026)


# ---------------------------------------------------------------- data


def _recreate(url: str) -> None:
    from benchmarks.tablets import _recreate_database

    _recreate_database(url)


def _ensure_national(args: argparse.Namespace) -> None:
    from competitions.models import Event
    from demo import builder as demo
    from scoring.models import Mark

    final = Event.objects.filter(code=demo.DEMO_EVENT_CODES[-1]).first()
    if final is not None and Mark.objects.filter(skill__event=final).exists():
        return
    from benchmarks import scoring

    started = time.perf_counter()
    for label, seconds in scoring._build(
        argparse.Namespace(preset="national", seed=args.seed)
    ).items():
        print(f"build: {label}: {seconds:.1f} s")
    print(f"built in {time.perf_counter() - started:.1f} s")


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    """Tablets (a session, a skill, an entry on screen and the judge's own
    marks with their current value and version) and boards (a chief
    judge's browser session and the skill)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.utils.module_loading import import_string

    from competitions.models import Event
    from demo import builder as demo
    from scoring.models import Mark
    from tablets import services
    from tablets.models import TabletSession
    from teams.models import JudgeAssignment

    rng = random.Random(args.seed)
    final = Event.objects.get(code=demo.DEMO_EVENT_CODES[-1])
    own: dict[tuple[int, int], list[list]] = defaultdict(list)
    for skill, judge, entry, aspect, kind, value, version in Mark.objects.filter(
        skill__event=final
    ).values_list("skill_id", "judge_id", "entry_id", "aspect_id", "kind", "value", "version"):
        own[(skill, judge)].append([entry, aspect, kind, str(value), version])
    by_skill: dict[int, list[int]] = defaultdict(list)
    for skill, judge in sorted(own):
        by_skill[skill].append(judge)
    # Round robin over the skills, so every skill has tablets.
    chosen: list[tuple[int, int]] = []
    depth = 0
    while len(chosen) < args.tablets and depth < max(map(len, by_skill.values())):
        for skill, judges in sorted(by_skill.items()):
            if depth < len(judges) and len(chosen) < args.tablets:
                chosen.append((skill, judges[depth]))
        depth += 1
    TabletSession.objects.filter(device="bench-concurrency").delete()
    tablets = []
    for skill, judge_id in chosen:
        marks = own[(skill, judge_id)]
        rng.shuffle(marks)
        marker = JudgeAssignment.objects.get(skill_id=skill, judge_id=judge_id, role="judge")
        _s, token = services.start_session(marker.judge, via="pin", device="bench-concurrency")
        tablets.append(
            {
                "skill": skill,
                "judge": judge_id,
                "token": token,
                "entry": marks[0][0],
                "marks": marks,
            }
        )
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    boards = []
    chiefs = (
        JudgeAssignment.objects.filter(skill__event=final, role="chief")
        .select_related("judge")
        .order_by("skill_id")[: args.boards]
    )
    for assignment in chiefs:
        chief = assignment.judge
        user = chief.user
        if user is None:
            user = chief.user = User.objects.create_user(f"bench-chief-{chief.code.lower()}")
            chief.save(update_fields=["user"])
        session = store()
        session[SESSION_KEY] = str(user.pk)
        # As a password login records it (axes' backend only guards logins).
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        boards.append({"skill": assignment.skill_id, "session": session.session_key})
    return {"tablets": tablets, "boards": boards, "cookie": settings.SESSION_COOKIE_NAME}


# ---------------------------------------------------------------- the stack


def _start_stack(args: argparse.Namespace, run_dir: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": f"https://127.0.0.1:{port}",
        "DJANGO_STATIC_ROOT": str(run_dir / "static"),
        "DJANGO_MEDIA_ROOT": str(run_dir / "media"),
        "PORTAL_RUN_DIR": str(run_dir / "run"),
        "GUNICORN_BIND": f"127.0.0.1:{_free_port()}",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "CELERY_WORKERS": "1",
        "CELERY_CONCURRENCY": "1",
        "CELERY_NODE_PREFIX": f"benchconc{os.getpid()}",
        "LOG_LEVEL": "WARNING",
        "PYTHON": sys.executable,
    }
    for name in ("GUNICORN_CONTROL_SOCKET", "GUNICORN_MAX_REQUESTS", "GUNICORN_ACCESS_LOG"):
        env.pop(name, None)
    started = subprocess.run(
        [
            str(ROOT / "deploy" / "run-all.sh"),
            "start",
            "--port",
            str(port),
            "--env-file",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if started.returncode != 0:
        _stop_stack(env)
        raise SystemExit(f"run-all.sh failed:\n{started.stdout}\n{started.stderr}")
    return env


def _stop_stack(env: dict[str, str]) -> None:
    subprocess.run(
        [str(ROOT / "deploy" / "run-all.sh"), "stop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )


def _descendants(roots: dict[str, int]) -> dict[int, str]:
    """Every live process under each root (the group it belongs to)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    groups: dict[int, str] = {}
    for pid in parent:
        node, seen = pid, 0
        while node and seen < 10:
            for name, root in roots.items():
                if node == root:
                    groups[pid] = name
            if pid in groups:
                break
            node, seen = parent.get(node, 0), seen + 1
    return groups


class CpuMeter:
    """CPU seconds of the server's processes between ``start`` and ``stop``,
    per group, sampled every second: a process that appears counts from zero,
    one that exits keeps its last sample."""

    def __init__(self, run_dir: Path, database_url: str) -> None:
        self.roots = {
            name: int((run_dir / f"{pidfile}.pid").read_text())
            for name, pidfile in (
                ("gunicorn", "web"),
                ("nginx", "nginx"),
                ("celery", "worker1"),
                ("celery beat", "beat"),
            )
        }
        self.database_url = database_url
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group: dict[int, str] = {}

    def _backends(self) -> list[int]:
        import psycopg

        name = urlparse(self.database_url).path.lstrip("/")
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return [
                r[0]
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()",
                    [name],
                )
            ]

    def sample(self, first: bool = False) -> None:
        current = _descendants(self.roots)
        current |= dict.fromkeys(self._backends(), "postgres")
        for pid, group in current.items():
            cpu = _proc_cpu(pid)
            if pid not in self.first:
                self.first[pid] = cpu if first else 0.0
                self.group[pid] = group
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def used(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for pid, cpu in self.last.items():
            out[self.group[pid]] += cpu - self.first[pid]
        return dict(out)

    def reset(self) -> None:
        """Start counting afresh once the server is idle: requests a client
        gave up on are still being served and belong to the phase before."""
        for _ in range(120):
            before = sum(
                _proc_cpu(p) for p, g in _descendants(self.roots).items() if g == "gunicorn"
            )
            time.sleep(1.0)
            after = sum(
                _proc_cpu(p) for p, g in _descendants(self.roots).items() if g == "gunicorn"
            )
            if after - before < 0.05:
                break
        self.first, self.last, self.group = {}, {}, {}
        self.sample(first=True)


# ---------------------------------------------------------------- a phase


def _phase(name: str, plan: dict, seconds: float, meter: CpuMeter) -> dict:
    plan = {**plan, "phase": name, "seconds": seconds}
    with tempfile.TemporaryDirectory() as tmp:
        plan_path, out_path = Path(tmp, "plan.json"), Path(tmp, "out.json")
        plan_path.write_text(json.dumps(plan))
        meter.reset()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from benchmarks.concurrency_client import client_main; "
                "client_main(sys.argv[1], sys.argv[2])",
                str(plan_path),
                str(out_path),
            ],
            cwd=ROOT,
        )
        while proc.poll() is None:
            meter.sample()
            time.sleep(1.0)
        meter.sample()
        if proc.returncode:
            raise SystemExit(f"the client failed ({proc.returncode})")
        out = json.loads(out_path.read_text())
    out["server_cpu"] = meter.used()
    if name == "mixed":
        out["offered"] = {
            "poll": len(plan["tablets"]) / plan["poll_every"],
            "board": len(plan["boards"]) / plan["board_every"],
        }
    return out


def _report(name: str, out: dict) -> dict[str, float]:
    """Prints one phase; returns its requests per second by endpoint."""
    seconds = out["seconds"]
    total = sum(len(v) for v in out["lat"].values())
    print(f"\n[{name}] {seconds:.1f} s, {total} requests")
    print("  endpoint   requests    req/s    p50 ms    p95 ms    p99 ms   errors")
    rates = {}
    offered = out.get("offered", {})
    for endpoint in ENDPOINTS:
        lat = out["lat"][endpoint]
        if not lat and not out["errors"][endpoint]:
            continue
        rates[endpoint] = len(lat) / seconds
        print(
            f"  {endpoint:<9} {len(lat):>9} {rates[endpoint]:>8.1f} "
            f"{_pct(lat, 0.5):>9.1f} {_pct(lat, 0.95):>9.1f} {_pct(lat, 0.99):>9.1f} "
            f"{out['errors'][endpoint]:>8}"
            + (f"   (asked {offered[endpoint]:.1f}/s)" if endpoint in offered else "")
        )
    print(
        "  answers: "
        + " · ".join(
            f"{e} " + ", ".join(f"{n}×{s}" for s, n in sorted(out["statuses"][e].items()))
            for e in ENDPOINTS
            if out["statuses"][e]
        )
    )
    cpu = out["server_cpu"]
    server = sum(cpu.values())
    if total:
        print(
            f"  server CPU per request {server * 1000 / total:.2f} ms ("
            + " · ".join(f"{g} {s * 1000 / total:.2f}" for g, s in sorted(cpu.items()))
            + f") · server CPU {server / seconds:.2f} cores busy of {os.cpu_count()}"
        )
        print(
            f"  client CPU (one process, separate) {out['cpu'] * 1000 / total:.2f} ms per request"
            f" · {out['cpu'] / seconds:.2f} cores"
        )
    if out["lat"]["mark"]:
        print(
            f"  marks: {len(out['acked'])} acknowledged · retries {out['retries']} · "
            f"resent {out['resent']} (replayed {out['replayed']}) · "
            f"refused {len(out['refused'])} · unanswered {len(out['unanswered'])}"
        )
        if out["refused"]:
            print(f"  first refusal: {out['refused'][0]}")
    return rates


def _verify(outs: list[dict], start_versions: dict[tuple[int, int, int], int]) -> dict:
    """Every acknowledged mark stored exactly once (see the module docstring).
    A mark the client gave up on (no answer after retrying to the end) may be
    stored or not, but at most once; stored, it counts as a write."""
    from scoring.models import LedgerRecord, Mark

    acked = [a for out in outs for a in out["acked"]]
    unanswered = [u for out in outs for u in out["unanswered"]]
    keys = [a["key"] for a in acked + unanswered]
    records: dict[str, int] = dict.fromkeys(keys, 0)
    for i in range(0, len(keys), 5000):
        for key in LedgerRecord.objects.filter(client_key__in=keys[i : i + 5000]).values_list(
            "client_key", flat=True
        ):
            records[key] += 1
    writes: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    for out in outs:  # one write per mark and phase at most: phases in order
        for a in out["acked"] + [u for u in out["unanswered"] if records[u["key"]]]:
            writes[(a["entry"], a["aspect"], a["judge"])].append(a["value"])
    stored = {}
    entries = sorted({k[0] for k in writes})
    for i in range(0, len(entries), 2000):
        for entry, aspect, judge, value, version in Mark.objects.filter(
            entry_id__in=entries[i : i + 2000]
        ).values_list("entry_id", "aspect_id", "judge_id", "value", "version"):
            stored[(entry, aspect, judge)] = (value, version)
    lost = sum(records[a["key"]] == 0 for a in acked)
    duplicated = sum(records[a["key"]] > 1 for a in acked + unanswered)
    for mark, values in writes.items():
        found = stored.get(mark)
        if found is None or found[0] != Decimal(values[-1]):
            lost += 1
        elif found[1] != start_versions[mark] + len(values):
            duplicated += 1
    return {
        "acked": len(acked),
        "records": sum(records[a["key"]] for a in acked),
        "lost": lost,
        "duplicated": duplicated,
        "unanswered": len(unanswered),
        "unanswered_stored": sum(records[u["key"]] for u in unanswered),
    }


# ---------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    """Build or reuse, start the stack, calibrate, run, verify, stop. Long
    because it is the benchmark's script, step by step as the docstring."""
    url = args.database_url
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the concurrency benchmark runs on loopback only")
    name = urlparse(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing odd database name {name!r}")
    print(f"uptime before: {_load()}")
    if args.rebuild:
        _recreate(url)
    else:
        _create_if_missing(url)
    os.environ["DATABASE_URL"] = url
    # The ledger key is the stack's too: one chain across builder and server.
    os.environ.setdefault("PORTAL_LEDGER_KEY", "benchmark-ledger-national")
    # And one secret key: the chief judges' sessions are signed with it.
    os.environ["DJANGO_SECRET_KEY"] = "benchmark-" + secrets.token_urlsafe(40)
    from benchmarks import django_env

    database, _migrate = django_env.setup(Path(tempfile.gettempdir()) / "unused.sqlite3")
    _ensure_national(args)
    started = time.perf_counter()
    plan = _plan(args)
    marks = sum(len(t["marks"]) for t in plan["tablets"])
    print(
        f"database {database}: {len(plan['tablets'])} tablets over "
        f"{len({t['skill'] for t in plan['tablets']})} skills ({marks} marks of their own), "
        f"{len(plan['boards'])} boards; sessions opened in {time.perf_counter() - started:.1f} s"
    )
    start_versions = {(m[0], m[1], t["judge"]): m[4] for t in plan["tablets"] for m in t["marks"]}
    from django.db import connections

    connections.close_all()
    port = _free_port()
    plan |= {
        "port": port,
        "csrf": secrets.token_hex(16),
        "timeout": args.timeout,
        "resend": args.resend,
        "in_flight": args.in_flight,
        "poll_every": args.poll_every,
        "board_every": args.board_every,
        "seed": args.seed,
    }
    outs = []
    with tempfile.TemporaryDirectory(prefix="portal-concurrency-") as tmp:
        env = _start_stack(args, Path(tmp), port)
        print(
            f"stack: nginx (TLS) on 127.0.0.1:{port} → gunicorn {args.workers} gthread workers "
            f"× {args.threads} threads (deploy/gunicorn.conf.py) · 1 Celery worker + beat"
        )
        try:
            meter = CpuMeter(Path(tmp) / "run", url)
            cost = {}  # server CPU seconds per request, each endpoint alone
            if args.calibrate_seconds > 0:
                for endpoint in ENDPOINTS:
                    out = _phase(endpoint, plan, args.calibrate_seconds, meter)
                    _report(f"alone: {endpoint}, {args.in_flight} in flight", out)
                    outs.append(out)
                    _carry_versions(plan, out)
                    if out["lat"][endpoint]:
                        cost[endpoint] = sum(out["server_cpu"].values()) / len(out["lat"][endpoint])
            out = _phase("mixed", plan, args.seconds, meter)
            _report(
                f"run: {len(plan['tablets'])} tablets polling every {args.poll_every:g} s, "
                f"{len(plan['boards'])} boards every {args.board_every:g} s, marks as fast as "
                f"answered ({args.in_flight} in flight)",
                out,
            )
            outs.append(out)
            _demand(out, cost)
        finally:
            _stop_stack(env)
    check = _verify(outs, start_versions)
    print(
        f"\ndatabase: {check['records']} ledger records for {check['acked']} acknowledged marks · "
        f"lost {check['lost']} · duplicated {check['duplicated']} · "
        f"given up on by the client {check['unanswered']}, of which stored (once) "
        f"{check['unanswered_stored']}"
    )
    print(f"uptime after: {_load()}")
    return 1 if check["lost"] or check["duplicated"] else 0


def _demand(out: dict, cost: dict[str, float]) -> None:
    """What the polls and boards asked for, in cores, from each endpoint's
    CPU per request measured alone, against what the server had."""
    if not {"poll", "board"} <= set(cost):
        return
    need = {e: out["offered"][e] * cost[e] for e in ("poll", "board")}
    busy = sum(out["server_cpu"].values()) / out["seconds"]
    print(
        f"  demand: polls {out['offered']['poll']:.1f}/s × {cost['poll'] * 1000:.1f} ms = "
        f"{need['poll']:.2f} cores · boards {out['offered']['board']:.1f}/s × "
        f"{cost['board'] * 1000:.1f} ms = {need['board']:.2f} cores, before any mark; "
        f"the server's processes got {busy:.2f} cores"
        + (" → saturated: latencies are queueing" if sum(need.values()) > busy else "")
    )


def _carry_versions(plan: dict, out: dict) -> None:
    """The next phase starts from what this one wrote (values, versions)."""
    for tab, marks in zip(plan["tablets"], out["tablets"], strict=True):
        tab["marks"] = marks


def _create_if_missing(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
