"""The competition-day drill.

    python deploy/drill.py [--preset provincial|small] [--tablets 100] [--report FILE]

One command plays a scripted competition day on the whole production stack,
on loopback only, and injects the faults a venue brings:

1. Services of its own: a PostgreSQL cluster (``initdb`` into a fresh data
   directory, port 55432) and a Redis (port 56379, append-only file on, as
   deploy/README.md recommends), so restarting them disturbs nobody — the
   machine's PostgreSQL (5432) and Redis (6379) are never touched. Then
   ``deploy/run-all.sh`` pointed at them: nginx (TLS), gunicorn (3 workers),
   2 Celery workers and beat, with a run directory of the drill's own.
2. The day: the roster is seeded with ``demo.builder`` (the preset's
   delegations, skills, entries and judges), then the event workbook's
   ``aspects`` sheet (7 M + 3 J aspects per skill) is imported with
   ``manage.py import_event``; the organiser makes chief-judge, delegation-lead
   logins and a PIN for every judge (``tablets.services.generate_pin``).
   ``--tablets`` simulated tablets (a separate process, the client of
   ``benchmarks/tablets.py`` over TLS) sign in with each judge's PIN through
   nginx and mark every entry; every chief judge signs off on the board over
   HTTP; the organiser has awards computed and starts the certificate batch
   (Celery), publishes every skill; every delegation lead downloads the
   delegation's Excel.
3. Faults: Redis restarted at a quarter of the marks, PostgreSQL restarted
   (fast shutdown: every connection cut) at half, one tablet resends every mark
   it sent in the last minute, a Celery worker SIGKILLed (its whole process
   group, pid from the run directory) while the certificate batch renders —
   then started again, as systemd's ``Restart=always`` would.
4. The report (printed, ``--report`` Markdown, ``--json``): marks planned vs
   stored (each exactly once: one Mark per (entry, aspect, judge), one
   LedgerRecord per client key), ``verify_ledger``, certificates expected vs
   produced with unique serials, errors the tablets saw by kind, p95 mark
   latency, the time of each phase. Exit status 1 when anything is lost or
   duplicated or a phase failed.

Bounded: every phase has a time limit; everything started is stopped in a
``finally`` (``run-all.sh stop``, the drill's PostgreSQL and Redis), also on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import http.cookiejar
import io
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The tablet client of the load benchmark: one HTTP/1.1 connection per tablet,
# POST /tablet/api/mark with a cookie and a CSRF header.
from benchmarks.tablets import Tablet, _pct  # noqa: E402

EVENT = "demo-final"  # demo.builder's final
# The same PATH the operations tests use: nginx and the PostgreSQL tools live
# in sbin or under /usr/lib/postgresql on Debian.
TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])


@dataclasses.dataclass(frozen=True)
class Preset:
    delegations: int
    skills: int
    entries: int
    judges: int
    tablets: int
    think_ms: int  # mean pause between taps; 0 = as fast as answers come
    chunk: int  # certificates per Celery chunk
    marking_limit: float  # seconds
    batch_limit: float  # seconds


PRESETS = {
    # demo.builder's provincial preset, at full size.
    "provincial": Preset(40, 60, 1600, 600, 100, 0, 40, 2400, 300),
    # CI: the same day and faults, small enough for about two minutes. Tablets
    # pause between taps so marking lasts long enough for the faults to land in it.
    "small": Preset(4, 3, 24, 12, 10, 350, 3, 120, 120),
}
M_ASPECTS, J_ASPECTS = 7, 3
M_MAX, J_MAX = Decimal(10), Decimal(10)  # 7 x 10 + 3 x 10 = 100
DESCRIPTORS = ["未完成", "基本完成", "良好", "优秀"]
PASSWORD = "drill-" + "x" * 20  # chiefs, leads, organiser: loopback-only accounts


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


class DrillError(Exception):
    """A phase could not do its job; the report says which and why."""


# ====================================================================== services


def _pg_bindir() -> Path:
    """The newest PostgreSQL server binaries (Debian keeps them out of PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if found:
        return found[0].parent
    initdb = shutil.which("initdb", path=TOOL_PATH)
    if initdb and shutil.which("pg_ctl", path=TOOL_PATH):
        return Path(initdb).resolve().parent
    raise DrillError("PostgreSQL server binaries (initdb, pg_ctl) not found")


def missing_tools() -> list[str]:
    """What the drill needs on the machine; the CI test skips when any is missing."""
    missing = [
        t
        for t in ("nginx", "redis-server", "redis-cli", "openssl", "curl")
        if not shutil.which(t, path=TOOL_PATH)
    ]
    try:
        _pg_bindir()
    except DrillError:
        missing.append("initdb/pg_ctl")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a postgres user (initdb refuses to run as root)")
    return missing


class Postgres:
    """A throw-away cluster: trust auth, loopback TCP and a socket dir of its own."""

    def __init__(self, port: int, logs: Path) -> None:
        self.port = port
        self.bindir = _pg_bindir()
        # Under /tmp, not the work dir: initdb refuses root, and the postgres
        # user must be able to reach its data dir (a pytest tmp dir is 0700).
        self.home = Path(tempfile.mkdtemp(prefix="portal-drill-pg-"))
        self.data = self.home / "data"
        self.sockets = self.home / "sockets"
        self.log_file = self.home / "postgres.log"
        self.logs = logs
        self.running = False

    def _as_owner(self, *cmd: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return list(cmd)

    def _run(self, *cmd: str, timeout: float = 90) -> None:
        done = subprocess.run(
            self._as_owner(*cmd), capture_output=True, text=True, timeout=timeout, cwd="/"
        )
        if done.returncode:
            raise DrillError(f"{cmd[0]} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.home, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} "
            # gunicorn threads + 2 x Celery concurrency + this process + headroom.
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )
        self.running = False

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def cleanup(self, keep: bool) -> None:
        if self.running:
            try:
                self.stop()
            except Exception:
                with contextlib.suppress(Exception):
                    self.stop("immediate")
        with contextlib.suppress(OSError):
            shutil.copy(self.log_file, self.logs / "postgres.log")
        if not keep:
            shutil.rmtree(self.home, ignore_errors=True)


class Redis:
    """A Redis of the drill's own, with the append-only file on (deploy/README.md):
    queued Celery messages must survive its restart."""

    def __init__(self, port: int, home: Path) -> None:
        self.port = port
        self.home = home
        self.pidfile = home / "redis.pid"
        self.running = False

    def _cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=20,
        )

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--dir",
                str(self.home),
                "--logfile",
                str(self.home / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],
            check=True,
            timeout=20,
        )
        self.running = True
        deadline = time.monotonic() + 20
        while self._cli("ping").stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise DrillError(f"redis-server on {self.port} did not answer")
            time.sleep(0.1)

    def stop(self, save: bool = True) -> None:
        pid = self._pid()
        # SHUTDOWN writes the append-only file out before exiting.
        self._cli("shutdown", "save" if save else "nosave")
        deadline = time.monotonic() + 20
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.running = False

    def _pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int(self.pidfile.read_text().strip())
        return None

    def unacked(self) -> int:
        """Celery messages delivered to a worker and not yet acknowledged."""
        out = self._cli("hlen", "unacked").stdout.strip()
        return int(out) if out.isdigit() else -1

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cleanup(self, keep: bool) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                self.stop(save=False)
        if not keep:
            for name in ("appendonlydir", "dump.rdb"):
                shutil.rmtree(self.home / name, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free(port: int) -> bool:
    with socket.socket() as s:
        # As the servers do: a port with connections in TIME_WAIT is free to them.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ====================================================================== the stack


class Stack:
    """deploy/run-all.sh with a run directory, ports, database and Redis of our own."""

    def __init__(self, args: argparse.Namespace, pg: Postgres, redis: Redis, work: Path) -> None:
        self.port = args.port
        self.run_dir = work / "run"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PORTAL_", "GUNICORN_", "CELERY_", "AWS_"))
            and k not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}
        }
        self.env.update(
            PATH=TOOL_PATH,
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            DATABASE_URL=pg.url("portal_drill"),
            REDIS_URL=redis.url(),
            DJANGO_SETTINGS_MODULE=args.settings,
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="drill-" + secrets.token_urlsafe(40),
            PORTAL_LEDGER_KEY="drill-ledger-" + secrets.token_urlsafe(40),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{args.port}",
            # Where certificates' QR codes point: the drill's own nginx.
            PORTAL_BASE_URL=f"https://127.0.0.1:{args.port}",
            DJANGO_STATIC_ROOT=str(work / "static"),
            DJANGO_MEDIA_ROOT=str(work / "media"),
            PORTAL_RUN_DIR=str(self.run_dir),
            PORTAL_PORT=str(args.port),
            WEB_CONCURRENCY=str(args.web_workers),
            GUNICORN_THREADS="4",
            GUNICORN_BIND=f"127.0.0.1:{args.gunicorn_port}",
            # Access logs of ~100 k marks would only cost disk and CPU here.
            GUNICORN_ACCESS_LOG="/dev/null",
            CELERY_NODE_PREFIX=args.node_prefix,
            CELERY_WORKERS="2",
            CELERY_CONCURRENCY="2",
            PORTAL_START_TIMEOUT="90",
            PORTAL_STOP_TIMEOUT="30",
            LOG_LEVEL="WARNING",
            PYTHON=sys.executable,
        )
        self.started = False

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def run_all(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "deploy" / "run-all.sh"), *args, "--env-file", os.devnull],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> None:
        self.started = True  # from here on, stop() must run whatever happens
        done = self.run_all("start")
        if done.returncode:
            raise DrillError(f"run-all.sh start failed:\n{done.stdout}\n{done.stderr}")

    def stop(self) -> None:
        if self.started:
            done = self.run_all("stop", timeout=120)
            if done.returncode or done.stderr.strip():
                log(f"run-all.sh stop: {done.stderr.strip()}")
            self.started = False

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def worker_pid(self, n: int) -> int:
        return int((self.run_dir / f"worker{n}.pid").read_text().strip())

    def restart_worker(self, n: int) -> int:
        """Start worker n again the way run-all.sh does (own session, same log
        and pid file, so ``run-all.sh stop`` still stops it): what systemd's
        ``Restart=always`` in portal-worker@.service does after a crash."""
        celery = str(Path(sys.executable).parent / "celery")
        # Through a shell that exits at once, as run-all.sh's spawn: the worker
        # must not be this process's child, or it would linger as a zombie that
        # `kill -0` (run-all.sh stop) takes for alive.
        out = subprocess.run(
            [
                "bash",
                "-c",
                'log="$1"; shift; setsid "$@" >> "$log" 2>&1 < /dev/null & echo $!',
                "spawn",
                str(self.run_dir / "logs" / f"worker{n}.log"),
                celery, "-A", "portal", "worker", "--loglevel", "INFO",
                "--hostname", f"{self.env['CELERY_NODE_PREFIX']}-w{n}@%h",
                "--concurrency", self.env["CELERY_CONCURRENCY"],
            ],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=True, timeout=20,
        )  # fmt: skip
        pid = int(out.stdout.strip())
        (self.run_dir / f"worker{n}.pid").write_text(f"{pid}\n")
        return pid


# ====================================================================== HTTP helpers


def tls_context() -> ssl.SSLContext:
    # run-all.sh makes a self-signed certificate for loopback.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A browser-ish session: cookies, CSRF token from the form or the cookie,
    Referer/Origin on POSTs (Django checks them over HTTPS), no redirects."""

    def __init__(self, base: str, ctx: ssl.SSLContext) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect(),
        )

    def request(
        self, path: str, data: dict[str, str] | None = None, timeout: float = 30
    ) -> tuple[int, dict[str, str], bytes]:
        url = self.base + path
        headers = {"User-Agent": "portal-drill"}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers.update(Referer=url, Origin=self.base)
        req = urllib.request.Request(url, data=body, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def form_token(self, path: str) -> str:
        status, _h, page = self.request(path)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not found:
            raise DrillError(f"GET {path}: {status}, no CSRF token")
        return found.group(1).decode()

    def login(self, username: str, password: str) -> None:
        token = self.form_token("/accounts/login/")
        status, _h, page = self.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        if status != 302:
            raise DrillError(f"login {username}: HTTP {status} {page[:200]!r}")

    def post(self, path: str, data: dict[str, str] | None = None) -> tuple[int, bytes]:
        # Django rotates the CSRF secret at login: the cookie holds the current one.
        fields = {"csrfmiddlewaretoken": self.cookie("csrftoken") or "", **(data or {})}
        status, _h, body = self.request(path, fields)
        return status, body


def with_retries(what: str, call: Callable[[], Any], attempts: int = 5) -> Any:
    """Pages are retried like a person would press reload: on 5xx and network errors."""
    for attempt in range(attempts):
        try:
            return call()
        except (OSError, DrillError) as exc:
            if attempt == attempts - 1:
                raise DrillError(f"{what}: {exc}") from exc
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


# ====================================================================== tablets (client)


class TlsTablet(Tablet):
    """``benchmarks.tablets.Tablet`` through nginx: TLS, and an Origin header,
    which Django's CSRF check needs on every HTTPS POST. ``Tablet`` writes its
    Cookie line verbatim, so the Origin line rides along after it."""

    def __init__(self, port: int, token: str, ctx: ssl.SSLContext) -> None:
        super().__init__(port, token)
        self.ctx = ctx
        self.cookie += f"\r\nOrigin: https://127.0.0.1:{port}"

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, ssl=self.ctx
            )
        return await super().post(body)


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | asyncio.IncompleteReadError):
        return "connection reset"
    if isinstance(exc, ssl.SSLError):
        return "tls error"
    return type(exc).__name__


class SignedOut(Exception):
    pass


async def _pin_login(plan: dict, code: str, pin: str, ctx: ssl.SSLContext, stats: dict) -> str:
    """The tablet's sign-in page: GET for the CSRF token, POST code + PIN;
    retried on 5xx and network errors like the mark posts."""
    base = f"https://127.0.0.1:{plan['port']}"

    def once() -> str:
        browser = Browser(base, ctx)
        token = browser.form_token("/tablet/login/")
        status, _h, _page = browser.request(
            "/tablet/login/",
            {"csrfmiddlewaretoken": token, "code": code, "pin": pin, "device": f"drill-{code}"},
        )
        session = browser.cookie("tablet_session")
        if status != 302 or not session:
            raise DrillError(f"HTTP {status}")
        return session

    for attempt in range(30):
        started = time.perf_counter()
        try:
            token = await asyncio.to_thread(once)
        except (OSError, DrillError) as exc:
            stats["errors"].append([time.time(), f"login: {exc}"[:80]])
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
            continue
        stats["login_latencies"].append(time.perf_counter() - started)
        return token
    raise DrillError(f"judge {code} could not sign in")


async def _send(client: TlsTablet, body: bytes, plan: dict, stats: dict) -> dict:
    """One tap until the server gives a final answer: retried with the same
    client key on network errors, timeouts and 5xx (as static/tablets/tablet.js,
    with a shorter backoff); every JSON answer below 500 is final."""
    delay = 0.5
    while True:
        t0 = time.perf_counter()
        try:
            status, data = await asyncio.wait_for(client.post(body), plan["timeout"])
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            stats["errors"].append([time.time(), _error_kind(exc)])
            await client.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
            continue
        stats["latencies"].append(time.perf_counter() - t0)
        if status >= 500:
            stats["errors"].append([time.time(), f"http {status}"])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
            continue
        if status == 401:
            stats["errors"].append([time.time(), "http 401"])
            raise SignedOut
        try:
            answer = json.loads(data)
        except ValueError:
            answer = {"status": "refused", "code": f"http {status} (not JSON)"}
        return answer


async def _tablet(index: int, tab: dict, plan: dict, stats: dict, ctx: ssl.SSLContext) -> None:
    rng = random.Random(index)
    think = plan["think_ms"] / 1000
    resender = index == plan["resend_tablet"]
    total = sum(len(s["marks"]) for s in tab["sessions"])
    done = 0
    for session in tab["sessions"]:
        # The tablet's queue is per judge (tablet.queue.<judge code> in
        # tablet.js): what it can resend is what this judge sent. Another
        # judge's keys would rightly be refused (client_key_reused).
        sent: list[tuple[float, bytes, dict]] = []
        client = TlsTablet(
            plan["port"], await _pin_login(plan, session["code"], session["pin"], ctx, stats), ctx
        )
        try:
            for mark in session["marks"]:
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
                started = time.perf_counter()
                while True:
                    try:
                        answer = await _send(client, body, plan, stats)
                        break
                    except SignedOut:  # sign in again and resend, same key
                        await client.close()
                        token = await _pin_login(plan, session["code"], session["pin"], ctx, stats)
                        client = TlsTablet(plan["port"], token, ctx)
                stats["mark_latencies"].append(time.perf_counter() - started)
                if answer.get("status") == "saved":
                    stats["saved"].append([mark["key"], bool(answer.get("replayed"))])
                    stats["progress"] += 1
                    if resender:
                        sent.append((time.monotonic(), body, mark))
                else:
                    stats["refused"].append({"key": mark["key"], **answer})
                done += 1
                if resender and not stats["resend"] and done >= 0.7 * total and len(sent) > 5:
                    await _resend_last_minute(client, sent, plan, stats)
        finally:
            await client.close()


async def _resend_last_minute(client: TlsTablet, sent: list, plan: dict, stats: dict) -> None:
    """The flaky tablet: it lost track of what was acknowledged and sends again
    every mark of the last minute, same client keys. Each must come back
    ``saved`` + ``replayed`` with the value first stored, and write nothing."""
    since = time.monotonic() - 60
    batch = [(body, mark) for t, body, mark in sent if t >= since]
    result: dict[str, Any] = {"at": time.time(), "resent": len(batch), "replayed": 0, "wrong": []}
    for body, mark in batch:
        answer = await _send(client, body, plan, stats)
        if answer.get("status") == "saved" and answer.get("replayed"):
            if Decimal(answer.get("value", "nan")) == Decimal(mark["value"]):
                result["replayed"] += 1
                continue
        result["wrong"].append({"key": mark["key"], **answer})
    stats["resend"] = result


async def _client(plan: dict, progress_path: Path) -> dict:
    stats: dict[str, Any] = {
        "latencies": [],
        "mark_latencies": [],
        "login_latencies": [],
        "errors": [],
        "saved": [],
        "refused": [],
        "resend": None,
        "progress": 0,
    }
    ctx = tls_context()
    total = sum(len(s["marks"]) for t in plan["tablets"] for s in t["sessions"])

    async def report_progress() -> None:
        while True:
            progress_path.write_text(json.dumps({"saved": stats["progress"], "total": total}))
            await asyncio.sleep(0.25)

    reporter = asyncio.create_task(report_progress())
    started = time.time()
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(_tablet(i, t, plan, stats, ctx) for i, t in enumerate(plan["tablets"]))
            ),
            plan["max_seconds"],
        )
    except TimeoutError:
        stats["timed_out"] = True
    finally:
        reporter.cancel()
    stats["started"], stats["ended"] = started, time.time()
    del stats["progress"]
    return stats


def client_main(plan_path: str, out_path: str, progress_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    stats = asyncio.run(_client(plan, Path(progress_path)))
    Path(out_path).write_text(json.dumps(stats))


# ====================================================================== the day


@dataclasses.dataclass
class Phase:
    name: str
    seconds: float = 0.0
    ok: bool = True
    detail: str = ""


@dataclasses.dataclass
class Fault:
    name: str
    at: float
    seconds: float
    during: str
    detail: str = ""
    errors: dict[str, int] = dataclasses.field(default_factory=dict)


class Day:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.preset: Preset = PRESETS[args.preset]
        self.tablets = args.tablets or self.preset.tablets
        self.work = Path(args.workdir).resolve()
        self.phases: list[Phase] = []
        self.faults: list[Fault] = []
        self.findings: list[str] = []
        self.facts: dict[str, Any] = {"preset": args.preset, "tablets": self.tablets}
        self.pg: Postgres | None = None
        self.redis: Redis | None = None
        self.stack: Stack | None = None
        self.client: subprocess.Popen | None = None

    # ------------------------------------------------------------ bookkeeping

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        phase = Phase(name)
        self.phases.append(phase)
        log(f"{name} ...")
        started = time.perf_counter()
        try:
            yield phase
        except Exception as exc:
            phase.ok = False
            phase.detail = phase.detail or f"{type(exc).__name__}: {exc}"
            raise
        finally:
            phase.seconds = time.perf_counter() - started
            log(
                f"{name}: {'ok' if phase.ok else 'FAILED'} in {phase.seconds:.1f} s"
                + (f" ({phase.detail})" if phase.detail else "")
            )

    def fail(self, phase: Phase, detail: str) -> None:
        phase.ok = False
        phase.detail = detail

    # ------------------------------------------------------------ run

    def run(self) -> int:
        try:
            self._day()
        except Exception as exc:
            log(f"stopped: {type(exc).__name__}: {exc}")
            self.findings.append(f"The drill stopped early: {type(exc).__name__}: {exc}")
            if not any(not p.ok for p in self.phases):
                self.phases.append(Phase("drill", ok=False, detail=str(exc)))
        finally:
            self._teardown()
        return self._report()

    def _stop_stack(self) -> None:
        if self.stack:
            self.stack.stop()

    def _stop_postgres(self) -> None:
        if self.pg:
            self.pg.cleanup(self.args.keep)

    def _stop_redis(self) -> None:
        if self.redis:
            self.redis.cleanup(self.args.keep)

    def _teardown(self) -> None:
        with self.phase("stop") as phase:
            if self.client is not None and self.client.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.client.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            problems = []
            for what, stop in (
                ("stack", self._stop_stack),
                ("postgres", self._stop_postgres),
                ("redis", self._stop_redis),
            ):
                try:
                    stop()
                except Exception as exc:
                    problems.append(f"{what}: {exc}")
            if problems:
                self.fail(phase, "; ".join(problems))

    def _day(self) -> None:
        args = self.args
        if missing := missing_tools():
            raise DrillError("missing on this machine: " + ", ".join(missing))
        for what, port in (
            ("--pg-port", args.pg_port),
            ("--redis-port", args.redis_port),
            ("--port", args.port),
            ("--gunicorn-port", args.gunicorn_port),
        ):
            if not _free(port):
                raise DrillError(f"{what} {port} is in use on 127.0.0.1 (another drill?)")
        logs = self.work / "logs"
        if (self.work / "run").exists():
            shutil.rmtree(self.work / "run")  # pid files of a drill that was killed outright
        logs.mkdir(parents=True, exist_ok=True)

        with self.phase("services: PostgreSQL + Redis of the drill's own"):
            self.pg = Postgres(args.pg_port, logs)
            self.pg.init()
            self.pg.create_database("portal_drill")
            self.redis = Redis(args.redis_port, self.work / "redis")
            self.redis.start()
        with self.phase("stack: run-all.sh (migrate, collectstatic, nginx, gunicorn, celery)"):
            self.stack = Stack(args, self.pg, self.redis, self.work)
            self.stack.start()
        self._django()
        with self.phase("roster: seed_demo preset"):
            self._seed()
        with self.phase("import: aspects sheet via manage.py import_event") as phase:
            self._import(phase)
        with self.phase("setup: logins, PINs, marking plan"):
            plan = self._plan()
        with self.phase("marking: tablets through nginx, faults injected") as phase:
            stats = self._marking(plan, phase)
        with self.phase("check marks") as phase:
            self._check_marks(plan, stats, phase)
        with self.phase("sign-off: chief judges on the board (HTTP)") as phase:
            self._sign_off(phase)
        with self.phase("awards: organiser's recompute (Celery)") as phase:
            self._awards(phase)
        with self.phase("certificates: Celery batch, a worker SIGKILLed") as phase:
            self._certificates(phase)
        with self.phase("publication") as phase:
            self._publish(phase)
        with self.phase("delegation leads download their Excel (HTTP)") as phase:
            self._lead_excel(phase)
        with self.phase("verify_ledger") as phase:
            out = self.stack.manage("verify_ledger", timeout=600)
            self.facts["verify_ledger"] = (out.stdout + out.stderr).strip()
            if out.returncode or out.stdout.strip() != "ok":
                self.fail(phase, self.facts["verify_ledger"])

    def _django(self) -> None:
        assert self.stack is not None
        # This process is the organiser's console: the same settings as the stack.
        for key in (
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_DEBUG",
            "DJANGO_SECRET_KEY",
            "PORTAL_LEDGER_KEY",
            "DJANGO_ALLOWED_HOSTS",
            "DJANGO_STATIC_ROOT",
            "DJANGO_MEDIA_ROOT",
            "PORTAL_BASE_URL",
            "LOG_LEVEL",
        ):
            os.environ[key] = self.stack.env[key]
        # No connection kept across requests that do not exist here; a restarted
        # PostgreSQL must not leave this process with a dead one.
        os.environ["DATABASE_CONN_MAX_AGE"] = "0"
        import django

        django.setup()

    # ------------------------------------------------------------ roster and import

    def _seed(self) -> None:
        from demo import builder as demo

        p = self.preset
        sizes = demo.sizes_for(
            "provincial",
            delegations=p.delegations,
            skills=p.skills,
            entries=p.entries,
            judges=p.judges,
        )
        result = demo.build_demo(sizes, seed=self.args.seed, reset=True)
        self.facts["roster"] = result.counts

    def _import(self, phase: Phase) -> None:
        from openpyxl import Workbook

        from competitions.models import Skill

        book = Workbook()
        ws = book.worksheets[0]
        ws.title = "aspects"
        ws.append(
            [
                "skill_code",
                "criterion",
                "sub_criterion",
                "aspect_code",
                "type",
                "max_mark",
                "description",
                "criterion_name",
                *[f"descriptor_{i}" for i in range(4)],
            ]
        )
        for code in (
            Skill.objects.filter(event__code=EVENT).order_by("code").values_list("code", flat=True)
        ):
            for i in range(M_ASPECTS):
                ws.append([code, "A", "A1", f"M{i + 1}", "M", M_MAX, f"测量{i + 1}", "测量"])
            for i in range(J_ASPECTS):
                ws.append(
                    [code, "B", "B1", f"J{i + 1}", "J", J_MAX, f"评价{i + 1}", "评价", *DESCRIPTORS]
                )
        path = self.work / "aspects.xlsx"
        book.save(path)
        assert self.stack is not None
        out = self.stack.manage("import_event", str(path), "--event", EVENT)
        if out.returncode:
            raise DrillError(f"import_event failed: {out.stdout}{out.stderr}"[-2000:])
        phase.detail = f"{M_ASPECTS} M + {J_ASPECTS} J aspects per skill"

    # ------------------------------------------------------------ the organiser's morning

    def _plan(self) -> dict:
        """The day's people, schemes and the tablets' plan of marks. Long because it lists the
        setup in the order the data depends on."""
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group, User
        from django.db import connections, transaction

        from competitions.models import Skill
        from tablets import services as tablets
        from teams.models import DelegationLead, Entry, Judge, JudgeAssignment
        from teams.roles import ORGANISER_GROUP

        password = make_password(PASSWORD)  # one hash for all drill accounts: loopback only
        with transaction.atomic():
            organiser, _ = User.objects.update_or_create(
                username="drill-organiser", defaults={"password": password, "is_staff": True}
            )
            organiser.groups.add(Group.objects.get_or_create(name=ORGANISER_GROUP)[0])
            chiefs = {}
            for a in JudgeAssignment.objects.filter(skill__event__code=EVENT, role="chief"):
                user, _ = User.objects.update_or_create(
                    username=f"drill-chief-{a.judge.code}".lower(), defaults={"password": password}
                )
                Judge.objects.filter(pk=a.judge_id).update(user=user)
                chiefs[a.skill_id] = user.username
            leads = {}
            delegations = set(
                Entry.objects.filter(skill__event__code=EVENT).values_list(
                    "delegation_id", flat=True
                )
            )
            for d in sorted(delegations):
                user, _ = User.objects.update_or_create(
                    username=f"drill-lead-{d}", defaults={"password": password}
                )
                DelegationLead.objects.update_or_create(user=user, defaults={"delegation_id": d})
                leads[d] = user.username
        self.organiser_id = organiser.pk
        self.chiefs, self.leads = chiefs, leads

        markers = list(
            JudgeAssignment.objects.filter(skill__event__code=EVENT, role="judge")
            .select_related("judge", "skill")
            .order_by("skill__code", "judge__code")
        )

        # A PIN for every marking judge, from the tablets service (as the board's
        # "new PIN" button).
        def pin(judge: Judge) -> tuple[str, str]:
            try:
                return judge.code, tablets.generate_pin(judge, organiser)
            finally:
                connections.close_all()

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            pins = dict(pool.map(pin, [a.judge for a in markers]))

        rng = random.Random(self.args.seed)
        sessions: dict[str, dict] = {}
        for skill in Skill.objects.filter(event__code=EVENT).order_by("code"):
            panel = [a.judge for a in markers if a.skill_id == skill.pk]
            scopes = {j.pk: tablets.load_scope(skill, j) for j in panel}
            for j in panel:
                sessions[j.code] = {"code": j.code, "pin": pins[j.code], "marks": []}
            kinds = {a.pk: a.kind for a in next(iter(scopes.values())).aspects} if scopes else {}
            entries = sorted({e for s in scopes.values() for e in s.allowed})
            for e_index, entry_id in enumerate(entries):
                for a_index, (aspect_id, kind) in enumerate(sorted(kinds.items())):
                    allowed = [
                        j for j in panel if aspect_id in scopes[j.pk].allowed.get(entry_id, ())
                    ]
                    if kind == "M":
                        # One judge measures; shared out over the panel.
                        allowed = [allowed[(e_index + a_index) % len(allowed)]] if allowed else []
                        value = str(Decimal(rng.randint(0, int(M_MAX * 2))) / 2)
                    else:
                        # The same score from every judge: no discrepancy holds up sign-off.
                        value = str((entry_id * 7 + aspect_id * 3) % 4)
                    for judge in allowed:
                        sessions[judge.code]["marks"].append(
                            {
                                "key": str(uuid.uuid4()),
                                "entry": entry_id,
                                "aspect": aspect_id,
                                "judge": judge.pk,
                                "kind": kind,
                                "value": value,
                            }
                        )
        # Tablets share out the judges: a tablet signs in as one judge, marks
        # everything of that judge, then signs in as the next.
        order = sorted(sessions.values(), key=lambda s: -len(s["marks"]))
        tablets_plan = [{"sessions": order[i :: self.tablets]} for i in range(self.tablets)]
        tablets_plan = [t for t in tablets_plan if t["sessions"]]
        marks = [m for s in order for m in s["marks"]]
        self.facts["judges_marking"] = len(order)
        self.facts["marks_planned"] = len(marks)
        log(f"{len(marks)} marks planned for {len(order)} judges on {len(tablets_plan)} tablets")
        return {
            "port": self.stack.port if self.stack else 0,
            "tablets": tablets_plan,
            "think_ms": self.preset.think_ms,
            "timeout": 20.0,
            "resend_tablet": 0,
            "max_seconds": self.preset.marking_limit,
        }

    # ------------------------------------------------------------ marking + faults

    def _marking(self, plan: dict, phase: Phase) -> dict:
        assert self.pg and self.redis
        paths = {k: self.work / f"client-{k}.json" for k in ("plan", "out", "progress")}
        paths["plan"].write_text(json.dumps(plan))
        paths["out"].unlink(missing_ok=True)
        paths["progress"].write_text(json.dumps({"saved": 0, "total": 1}))
        from django.db import connections

        connections.close_all()
        # Its own process: the client's CPU and GIL are not this one's.
        self.client = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client",
                *(str(paths[k]) for k in ("plan", "out", "progress")),
            ],
            cwd=ROOT,
            start_new_session=True,
        )
        schedule: list[tuple[float, str, Callable[[], Fault]]] = [
            (0.25, "Redis restarted", self._restart_redis),
            (0.50, "PostgreSQL restarted", self._restart_postgres),
        ]
        deadline = time.monotonic() + self.preset.marking_limit + 60
        while self.client.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.client.pid, signal.SIGKILL)
                raise DrillError("tablets did not finish in time")
            with contextlib.suppress(ValueError, OSError):
                progress = json.loads(paths["progress"].read_text())
                share = progress["saved"] / max(1, progress["total"])
                if schedule and share >= schedule[0][0]:
                    _at, name, inject = schedule.pop(0)
                    log(f"fault: {name} at {share:.0%} of the marks")
                    fault = inject()
                    fault.during = f"marking, {share:.0%} of the marks saved"
                    if self.client.poll() is not None:
                        fault.during += " (the tablets had finished when it ended)"
                    self.faults.append(fault)
            time.sleep(0.1)
        if self.client.returncode:
            raise DrillError(f"tablet client exited with {self.client.returncode}")
        for _at, name, _inject in schedule:
            self.findings.append(f"Fault not injected (marking ended first): {name}")
        stats = json.loads(paths["out"].read_text())
        if stats.get("timed_out"):
            self.fail(phase, f"tablets stopped at the {self.preset.marking_limit:.0f} s limit")
        if stats["resend"]:
            r = stats["resend"]
            self.faults.append(
                Fault(
                    "a tablet resends every mark of the last minute",
                    r["at"],
                    0.0,
                    "marking",
                    f"{r['resent']} resent, {r['replayed']} replayed with the first value, "
                    f"{len(r['wrong'])} wrong",
                )
            )
            if r["wrong"] or not r["resent"]:
                self.fail(phase, f"resend: {r['wrong'][:3]}")
        else:
            self.fail(phase, "the resending tablet never resent")
        # Errors belong to a fault from its start until 30 s after it ended
        # or until the next fault began.
        starts = [*sorted(f.at for f in self.faults), float("inf")]
        for fault in self.faults:
            until = min(fault.at + fault.seconds + 30, min(t for t in starts if t > fault.at))
            fault.errors = dict(Counter(k for t, k in stats["errors"] if fault.at <= t < until))
        self.facts["marking_seconds"] = stats["ended"] - stats["started"]
        return stats

    def _restart_redis(self) -> Fault:
        assert self.redis
        at = time.time()
        self.redis.stop(save=True)
        self.redis.start()
        return Fault(
            "Redis restarted",
            at,
            time.time() - at,
            "",
            "SHUTDOWN (append-only file written), started again",
        )

    def _restart_postgres(self) -> Fault:
        assert self.pg
        at = time.time()
        self.pg.stop("fast")  # every connection is cut, open transactions roll back
        self.pg.start()
        return Fault(
            "PostgreSQL restarted", at, time.time() - at, "", "pg_ctl stop -m fast, then start"
        )

    # ------------------------------------------------------------ checks

    def _check_marks(self, plan: dict, stats: dict, phase: Phase) -> None:
        """Every planned mark stored once, one ledger record per client key, the chain verified.
        Long because each check reports its own figures."""
        from django.db.models import Count

        from scoring.models import LedgerRecord, Mark

        planned = {m["key"]: m for t in plan["tablets"] for s in t["sessions"] for m in s["marks"]}
        # What the tablets meant to write: distinct (entry, aspect, judge); an
        # M mark is one per (entry, aspect) whoever measured it.
        wanted = {
            (m["entry"], m["aspect"], m["judge"] if m["kind"] == "J" else None): m
            for m in planned.values()
        }
        stored: dict[tuple, list] = defaultdict(list)
        for entry, aspect, judge, kind, value, version in Mark.objects.filter(
            skill__event__code=EVENT
        ).values_list("entry_id", "aspect_id", "judge_id", "kind", "value", "version"):
            stored[(entry, aspect, judge if kind == "J" else None)].append((value, version))
        lost = [k for k in wanted if k not in stored]
        duplicated = [k for k, v in stored.items() if len(v) > 1]
        unexpected = [k for k in stored if k not in wanted]
        wrong = [
            k for k, m in wanted.items() if k in stored and stored[k][0][0] != Decimal(m["value"])
        ]
        rewritten = [k for k, v in stored.items() if any(ver != 1 for _v, ver in v)]
        per_key = dict(
            LedgerRecord.objects.filter(client_key__in=list(planned))
            .values_list("client_key")
            .annotate(n=Count("id"))
            .values_list("client_key", "n")
        )
        no_record = [k for k in planned if per_key.get(k, 0) == 0]
        several = [k for k, n in per_key.items() if n > 1]
        answered = {k for k, _r in stats["saved"]}
        unanswered = [k for k in planned if k not in answered]
        self.facts["marks"] = {
            "planned": len(planned),
            "distinct_planned": len(wanted),
            "stored": sum(len(v) for v in stored.values()),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "unexpected": len(unexpected),
            "wrong_value": len(wrong),
            "version_not_1": len(rewritten),
            "ledger_records_for_keys": sum(per_key.values()),
            "keys_without_record": len(no_record),
            "keys_with_several_records": len(several),
            "saved_answers": len(stats["saved"]),
            "replayed_answers": sum(1 for _k, r in stats["saved"] if r),
            "refused": len(stats["refused"]),
            "unanswered": len(unanswered),
        }
        self.facts["refused_sample"] = stats["refused"][:5]
        errors = Counter(k for _t, k in stats["errors"])
        self.facts["tablet_errors"] = dict(errors.most_common())
        self.facts["latency_ms"] = {
            "mark_p50": _pct(stats["mark_latencies"], 0.50),
            "mark_p95": _pct(stats["mark_latencies"], 0.95),
            "mark_p99": _pct(stats["mark_latencies"], 0.99),
            "request_p50": _pct(stats["latencies"], 0.50),
            "request_p95": _pct(stats["latencies"], 0.95),
            "login_p95": _pct(stats["login_latencies"], 0.95),
            "mark_max": max(stats["mark_latencies"], default=0) * 1000,
        }
        self.facts["requests"] = len(stats["latencies"])
        self.facts["logins"] = len(stats["login_latencies"])
        if stats["latencies"] and self.facts.get("marking_seconds"):
            self.facts["requests_per_s"] = len(stats["latencies"]) / self.facts["marking_seconds"]
        bad = {
            k: v
            for k, v in self.facts["marks"].items()
            if k
            in (
                "lost",
                "duplicated",
                "unexpected",
                "wrong_value",
                "version_not_1",
                "keys_without_record",
                "keys_with_several_records",
                "refused",
                "unanswered",
            )
            and v
        }
        if bad or self.facts["marks"]["stored"] != len(wanted):
            self.fail(phase, f"marks: {bad}")

    # ------------------------------------------------------------ after marking

    def _sign_off(self, phase: Phase) -> None:
        from competitions.models import Skill
        from scoring.models import SkillMarking
        from scoring.status import marking_status

        assert self.stack
        base = self.stack.base
        ctx = tls_context()

        def sign(skill_id: int) -> None:
            def once() -> None:
                browser = Browser(base, ctx)
                browser.login(self.chiefs[skill_id], PASSWORD)
                # The board asks for confirmation first; the chief confirms.
                status, _body = browser.post(
                    f"/tablet/board/{skill_id}/sign-off/", {"confirm": "yes"}
                )
                if status != 302:
                    raise DrillError(f"sign-off of skill {skill_id}: HTTP {status}")

            with_retries(f"chief of skill {skill_id}", once)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(sign, sorted(self.chiefs)))
        signed = set(
            SkillMarking.objects.filter(
                skill__event__code=EVENT, status=SkillMarking.Status.SIGNED_OFF
            ).values_list("skill_id", flat=True)
        )
        missing = sorted(set(self.chiefs) - signed)
        self.facts["signed_off"] = f"{len(signed)} of {len(self.chiefs)} skills"
        if missing:
            why = []
            for skill in Skill.objects.filter(pk__in=missing[:3]):
                st = marking_status(skill)
                why.append(
                    f"{skill.code}: {len(st.incomplete)} incomplete, "
                    f"{len(st.unacknowledged)} discrepancies, {st.scheme_problems}"
                )
            self.fail(phase, f"not signed off: {len(missing)} skills; " + "; ".join(why))

    def _awards(self, phase: Phase) -> None:
        from django.db import transaction
        from django.db.models import F, Q

        from awards import tasks as awards
        from awards.models import Award
        from competitions.models import Event, Skill
        from scoring.models import EntryResult, SkillMarking
        from scoring.results import results_for

        event = Event.objects.get(code=EVENT)
        skills = list(Skill.objects.filter(event=event, entries__isnull=False).distinct())
        # Sign-off does not store results; compute_awards reads the stored
        # EntryResult rows. Note it when they are missing or older than the sign-off.
        stale = (
            SkillMarking.objects.filter(skill__in=skills)
            .filter(
                Q(results_computed_at__isnull=True) | Q(results_computed_at__lt=F("signed_off_at"))
            )
            .count()
        )
        if stale:
            self.findings.append(
                f"After sign-off {stale} of {len(skills)} skills had no stored results "
                "(SkillMarking.results_computed_at empty or older than the sign-off): "
                "scoring.signoff.sign_off does not call recompute_skill, nor "
                "send scoring.signals.results_changed (to which awards answer). "
                "awards.awarding.compute_awards reads EntryResult rows as stored, so an "
                "organiser's recompute right after sign-off computes no awards. The drill "
                "stores them as the results pages do (scoring.results.results_for) before "
                "asking for the recompute."
            )
            for skill in skills:
                results_for(skill)
        started = time.time()
        with transaction.atomic():
            queued = awards.request_event_recompute(event)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            done = (
                Award.objects.filter(skill__in=skills, computed_at__gte=_aware(started))
                .values("skill_id")
                .distinct()
                .count()
            )
            if done >= len(skills):
                break
            time.sleep(0.5)
        ranked = EntryResult.objects.filter(skill__in=skills, rank__isnull=False).count()
        self.facts["awards"] = {
            "skills_queued": queued,
            "skills_with_awards": done,
            "awards": Award.objects.filter(skill__in=skills).count(),
            "ranked_entries": ranked,
        }
        if done < len(skills):
            self.fail(phase, f"awards computed for {done} of {len(skills)} skills in 180 s")

    def _certificates(self, phase: Phase) -> None:
        """The certificate phase: start a batch, SIGKILL a worker holding a chunk, wait, then check
        what was issued and stored. Long because it is one scenario, step by step, and its
        report."""
        from django.contrib.auth.models import User
        from django.core.files.storage import default_storage
        from django.db import transaction
        from django.db.models import Count, Max

        from awards import tasks as awards
        from awards.models import Award, Certificate, CertificateBatch, CertificateChunk
        from competitions.models import Event
        from teams.models import EntryMember

        assert self.stack and self.redis
        event = Event.objects.get(code=EVENT)
        members = Counter(
            EntryMember.objects.filter(entry__skill__event=event).values_list("entry_id", flat=True)
        )
        expected = sum(
            members[entry_id] * (bool(kind) + bool(title))
            for entry_id, kind, title in Award.objects.filter(skill__event=event).values_list(
                "entry_id", "kind", "title"
            )
        )
        organiser = User.objects.get(pk=self.organiser_id)
        with transaction.atomic():
            batch = awards.start_batch(event, organiser, size=self.preset.chunk)
        # Wait until a chunk is being drawn, then SIGKILL a whole worker (main
        # process and pool: a crash, an OOM kill, a pulled plug) that holds
        # one: the worker logs each task it takes ("received") and finishes.
        logs = {n: self.stack.run_dir / "logs" / f"worker{n}.log" for n in (1, 2)}
        offsets = {n: logs[n].stat().st_size for n in logs}
        killed: dict[str, Any] = {}
        deadline = time.monotonic() + self.preset.batch_limit
        while time.monotonic() < deadline and not killed:
            batch.refresh_from_db()
            if batch.finished:
                break
            started = CertificateChunk.objects.filter(
                batch=batch, completed=False, attempts__gte=1
            ).values_list("index", "done")
            held = {n: _held_tasks(logs[n], offsets[n], "render_certificate_chunk") for n in logs}
            victim = max(held, key=lambda n: len(held[n]))
            if started and held[victim]:
                pid = self.stack.worker_pid(victim)
                at = time.time()
                os.killpg(pid, signal.SIGKILL)
                killed = {
                    "worker": victim,
                    "pid": pid,
                    "at": at,
                    "tasks_held": len(held[victim]),
                    "chunks_started": list(started),
                    "done_at_kill": batch.done,
                    "total": batch.total,
                }
                log(
                    f"fault: SIGKILL worker{victim} (process group {pid}) holding "
                    f"{len(held[victim])} chunk task(s), {batch.done}/{batch.total} drawn"
                )
                time.sleep(3)  # RestartSec=3 in portal-worker@.service
                killed["unacked_after_kill"] = self.redis.unacked()
                killed["restarted_pid"] = self.stack.restart_worker(victim)
                break
            time.sleep(0.02)
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            if batch.finished:
                break
            time.sleep(0.5)
        batch.refresh_from_db()
        chunks = list(CertificateChunk.objects.filter(batch=batch).order_by("index"))
        certs = Certificate.objects.filter(event=event, revoked=False)
        serials = certs.aggregate(n=Count("serial"), distinct=Count("serial", distinct=True))
        files = [c.file.name for c in certs.exclude(file="")]
        stored = sum(1 for name in files if default_storage.exists(name))
        drawn = certs.exclude(generated_at=None).aggregate(n=Count("id"), last=Max("generated_at"))
        self.facts["certificates"] = {
            "drawn_per_s": drawn["n"] / (drawn["last"] - batch.created_at).total_seconds()
            if drawn["n"]
            else 0.0,
            "expected": expected,
            "issued": serials["n"],
            "unique_serials": serials["distinct"],
            "files_stored": stored,
            "batch_status": batch.status,
            "batch_total": batch.total,
            "batch_done": batch.done,
            "batch_errors": batch.errors,
            "chunks": len(chunks),
            "chunks_delivered_again": sum(1 for c in chunks if c.attempts >= 2),
            "max_render_count": certs.aggregate(m=Max("render_count"))["m"],
            "seconds": (batch.finished_at - batch.created_at).total_seconds()
            if batch.finished_at
            else None,
        }
        self.facts["worker_kill"] = killed
        if killed:
            self.faults.append(
                Fault(
                    "Celery worker SIGKILLed mid-batch",
                    killed["at"],
                    3.0,
                    f"certificate batch, {killed['done_at_kill']}/{killed['total']} drawn",
                    f"worker{killed['worker']} process group {killed['pid']} (main + pool) "
                    f"killed holding {killed['tasks_held']} chunk task(s); chunks started "
                    f"(index, drawn) {killed['chunks_started']}; Redis 'unacked' held "
                    f"{killed['unacked_after_kill']} message(s); restarted as pid "
                    f"{killed['restarted_pid']}",
                )
            )
        problems: list[str] = []
        if not killed:
            problems.append(
                "fault not injected: the batch finished before a worker was seen holding a chunk"
            )
        if batch.status != CertificateBatch.Status.DONE:
            stuck = [
                (c.index, c.attempts, c.done, len(c.certificate_ids))
                for c in chunks
                if not c.completed
            ]
            problems.append(
                f"batch {batch.pk} is {batch.status} after {self.preset.batch_limit:.0f} s; "
                f"incomplete chunks (index, attempts, done, size): {stuck[:10]}; "
                f"Redis 'unacked' now holds {self.redis.unacked()} message(s)"
            )
            if killed:
                self.findings.append(
                    "The certificate batch did not complete after a whole Celery worker was "
                    "SIGKILLed: the chunk messages that worker had taken stay in Redis's "
                    "'unacked' hash, and kombu's Redis transport gives them to another "
                    "worker only after its visibility_timeout, 3600 s by default "
                    "(portal/settings.py sets no CELERY_BROKER_TRANSPORT_OPTIONS). "
                    "acks_late + reject_on_worker_lost cover a killed pool process, not "
                    "a killed worker. Reproduce: python deploy/drill.py --preset small. "
                    "Fix (settings): CELERY_BROKER_TRANSPORT_OPTIONS = "
                    "{'visibility_timeout': 60} (longer than a chunk takes; a chunk is "
                    "idempotent if delivered twice); kombu scans for expired messages only "
                    "every unacked_restore_interval x throttle, so redelivery came ~70 s "
                    "after the kill with 30 s in a trial (--settings)."
                )
        if expected != serials["n"] or serials["n"] != serials["distinct"]:
            problems.append(
                f"certificates expected {expected}, issued {serials['n']}, "
                f"unique serials {serials['distinct']}"
            )
        if batch.status == CertificateBatch.Status.DONE and (
            stored != serials["n"] or batch.errors or batch.done != batch.total
        ):
            problems.append(
                f"{stored} files stored for {serials['n']} certificates, "
                f"batch errors {batch.errors}"
            )
        if problems:
            self.fail(phase, "; ".join(problems))

    def _publish(self, phase: Phase) -> None:
        from django.contrib.auth.models import User

        from competitions import publication
        from competitions.models import Event, Skill
        from results import publishing

        organiser = User.objects.get(pk=self.organiser_id)
        event = Event.objects.get(code=EVENT)
        refused = []
        for skill in Skill.objects.filter(event=event, entries__isnull=False).distinct():
            try:
                publishing.publish(skill, organiser)
            except publishing.PublicationRefused as exc:
                refused.append(f"{skill.code}: {exc}")
        self.facts["published"] = publication.published_skills(event).count()
        if refused or not publication.event_fully_published(event):
            self.fail(phase, f"refused: {refused[:3]}")
        self._verification_url(phase)

    def _verification_url(self, phase: Phase) -> None:
        """A certificate's verification URL (the one its QR code and PDF carry)
        has the configured host, and answers through nginx once published."""
        from django.conf import settings
        from django.core.files.storage import default_storage

        from awards import rendering
        from awards.models import Certificate

        assert self.stack
        cert = (
            Certificate.objects.filter(event__code=EVENT, revoked=False)
            .exclude(file="")
            .select_related("athlete")
            .order_by("pk")
            .first()
        )
        if cert is None:
            self.fail(phase, "no rendered certificate to verify")
            return
        url = rendering.verify_url(cert.serial)
        configured = urllib.parse.urlsplit(settings.PORTAL_BASE_URL)
        got = urllib.parse.urlsplit(url)
        with default_storage.open(cert.file.name, "rb") as fh:
            in_pdf = url.encode() in fh.read()
        status, _headers, body = Browser(self.stack.base, tls_context()).request(got.path)
        self.facts["verification"] = {
            "url": url,
            "configured_host": configured.netloc,
            "url_host": got.netloc,
            "in_pdf": in_pdf,
            "status": status,
            "shows_name": cert.athlete.name in body.decode("utf-8", "replace"),
        }
        if got.netloc != configured.netloc or got.scheme != configured.scheme:
            self.fail(phase, f"verification URL {url} is not on {settings.PORTAL_BASE_URL}")
        elif not in_pdf:
            self.fail(phase, f"the certificate PDF does not carry {url}")
        elif status != 200 or not self.facts["verification"]["shows_name"]:
            self.fail(phase, f"{url} answered HTTP {status} after publication")

    def _lead_excel(self, phase: Phase) -> None:
        from openpyxl import load_workbook

        from teams.models import Entry

        assert self.stack
        base = self.stack.base
        ctx = tls_context()
        numbers: dict[int, set[str]] = defaultdict(set)
        for d, no in Entry.objects.filter(skill__event__code=EVENT).values_list(
            "delegation_id", "competitor_no"
        ):
            numbers[d].add(str(no))

        def download(delegation_id: int) -> tuple[int, int]:
            def once() -> tuple[int, int]:
                browser = Browser(base, ctx)
                browser.login(self.leads[delegation_id], PASSWORD)
                status, _headers, body = browser.request(f"/lead/{EVENT}/results.xlsx", timeout=120)
                if status != 200:
                    raise DrillError(f"lead {delegation_id}: HTTP {status}")
                book = load_workbook(io.BytesIO(body), read_only=True)
                cells = {
                    str(v)
                    for ws in book.worksheets
                    for row in ws.iter_rows(values_only=True)
                    for v in row
                    if v is not None
                }
                return len(body), len(numbers[delegation_id] & cells)

            return with_retries(f"lead {delegation_id}", once)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            got = dict(zip(self.leads, pool.map(download, sorted(self.leads)), strict=True))
        short = {d: (n, len(numbers[d])) for d, (_size, n) in got.items() if n < len(numbers[d])}
        self.facts["excel"] = {
            "downloads": len(got),
            "leads": len(self.leads),
            "bytes_total": sum(s for s, _n in got.values()),
            "leads_missing_own_entries": len(short),
        }
        if short:
            self.fail(
                phase,
                f"workbooks without all the delegation's competitor numbers: "
                f"{dict(list(short.items())[:3])}",
            )

    # ------------------------------------------------------------ report

    def _report(self) -> int:
        ok = all(p.ok for p in self.phases)
        text = render_report(self, ok)
        print("\n" + text, flush=True)
        if self.args.report:
            Path(self.args.report).write_text(text)
        if self.args.json:
            Path(self.args.json).write_text(
                json.dumps(
                    {
                        "ok": ok,
                        "facts": self.facts,
                        "findings": self.findings,
                        "phases": [dataclasses.asdict(p) for p in self.phases],
                        "faults": [dataclasses.asdict(f) for f in self.faults],
                    },
                    indent=2,
                    default=str,
                )
            )
        return 0 if ok else 1


def _held_tasks(path: Path, offset: int, task: str) -> set[str]:
    """Ids of ``task`` messages a worker took and has not finished, from its log
    (Celery logs "Task name[id] received" and "... succeeded/raised/retry")."""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    taken = set(re.findall(rf"Task awards\.{task}\[([0-9a-f-]+)\] received", text))
    ended = set(re.findall(rf"Task awards\.{task}\[([0-9a-f-]+)\] (?!received)", text))
    return taken - ended


def _aware(epoch: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def render_report(day: Day, ok: bool) -> str:
    """The drill's Markdown report. Long because it is the report's text, section by section."""
    f = day.facts
    p = day.preset
    lines = [
        f"# Competition-day drill: {'PASSED' if ok else 'FAILED'}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} · machine: {os.cpu_count()} cores, "
        f"{_mem_gb():.0f} GB · preset `{day.args.preset}` ({p.delegations} delegations, "
        f"{p.skills} skills, {p.entries} entries, {p.judges} judges) · {day.tablets} tablets · "
        f"{M_ASPECTS} M + {J_ASPECTS} J aspects per skill (J marked by every judge of the "
        f"panel the rules allow, M by one) · gunicorn {day.args.web_workers} workers x 4 "
        "threads, 2 Celery workers x 2, beat, nginx (TLS) · roster seeded with "
        "demo.builder, aspects imported with `manage.py import_event`",
        "",
        "## Phases",
        "",
        "| phase | seconds | result |",
        "|---|---:|---|",
    ]
    for ph in day.phases:
        lines.append(
            f"| {ph.name} | {ph.seconds:.1f} | {'ok' if ph.ok else '**FAILED**'}"
            f"{': ' + ph.detail if ph.detail else ''} |"
        )
    if "marks" in f:
        m = f["marks"]
        lat = f["latency_ms"]
        lines += [
            "",
            "## Marks",
            "",
            "| | |",
            "|---|---:|",
            f"| planned (distinct entry, aspect, judge) | {m['distinct_planned']} |",
            f"| stored | {m['stored']} |",
            f"| lost / duplicated / unexpected / wrong value | {m['lost']} / {m['duplicated']} / "
            f"{m['unexpected']} / {m['wrong_value']} |",
            f"| marks with version != 1 (written more than once) | {m['version_not_1']} |",
            f"| ledger records for the tablets' client keys | {m['ledger_records_for_keys']} |",
            f"| keys with no record / with several | {m['keys_without_record']} / "
            f"{m['keys_with_several_records']} |",
            f"| answers `saved` (of them `replayed`: a retry whose first try had landed) | "
            f"{m['saved_answers']} ({m['replayed_answers']}) |",
            f"| refused / never answered | {m['refused']} / {m['unanswered']} |",
            f"| judges signed in by PIN (sign-ins incl. after a fault) | "
            f"{f.get('judges_marking')} ({f.get('logins')}) |",
            f"| marking time, requests, requests/s | {f.get('marking_seconds', 0):.0f} s, "
            f"{f.get('requests')}, {f.get('requests_per_s', 0):.0f} |",
            f"| mark latency incl. retries p50 / **p95** / p99 / max (ms) | {lat['mark_p50']:.0f} "
            f"/ **{lat['mark_p95']:.0f}** / {lat['mark_p99']:.0f} / {lat['mark_max']:.0f} |",
            f"| request latency p50 / p95 (ms); PIN sign-in p95 | {lat['request_p50']:.0f} / "
            f"{lat['request_p95']:.0f}; {lat['login_p95']:.0f} |",
            "",
            "Errors the tablets saw (each was retried): "
            + (", ".join(f"{k}: {v}" for k, v in f["tablet_errors"].items()) or "none"),
        ]
        if f.get("refused_sample"):
            lines.append(f"First refusals: `{f['refused_sample']}`")
    lines += [
        "",
        "## Faults",
        "",
        "| fault | during | lasted | what happened | tablet errors in it (+30 s) |",
        "|---|---|---:|---|---|",
    ]
    for fa in day.faults:
        errs = ", ".join(f"{k}: {v}" for k, v in fa.errors.items()) or "none"
        lines.append(f"| {fa.name} | {fa.during} | {fa.seconds:.1f} s | {fa.detail} | {errs} |")
    if "certificates" in f:
        c = f["certificates"]
        secs = f"{c['seconds']:.0f} s" if c["seconds"] else "not finished"
        lines += [
            "",
            "## Certificates",
            "",
            f"expected {c['expected']} (awards x team members) · issued {c['issued']} · unique "
            f"serials {c['unique_serials']} · PDFs stored {c['files_stored']} · batch "
            f"{c['batch_status']} {c['batch_done']}/{c['batch_total']}, errors "
            f"{c['batch_errors']}, {c['chunks']} chunks ({c['chunks_delivered_again']} delivered "
            f"again), max renders of one certificate {c['max_render_count']} · {secs} · "
            f"{c['drawn_per_s']:.1f} certificates drawn per second (2 workers x 2)",
        ]
    lines += ["", "## Other checks", ""]
    for key, label in (
        ("signed_off", "signed off"),
        ("awards", "awards"),
        ("published", "skills published"),
        ("excel", "delegation Excel"),
        ("verify_ledger", "verify_ledger"),
        ("roster", "roster"),
    ):
        if key in f:
            lines.append(f"- {label}: `{f[key]}`")
    if day.findings:
        lines += ["", "## Findings", ""] + [f"- {x}" for x in day.findings]
    lines += ["", f"Logs: `{day.work / 'run' / 'logs'}`, `{day.work / 'logs'}`", ""]
    return "\n".join(lines)


def _mem_gb() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0.0


# ====================================================================== main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python deploy/drill.py",
        description="A scripted competition day on the whole stack, with faults injected.",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="provincial")
    parser.add_argument("--tablets", type=int, help="simulated tablets (preset: 100 / 10)")
    parser.add_argument("--report", help="write the Markdown report here too")
    parser.add_argument("--json", help="write the report's figures as JSON here")
    parser.add_argument(
        "--workdir",
        default=str(ROOT / "var" / "drill"),
        help="run dir, logs, media, Redis files (default var/drill)",
    )
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--port", type=int, default=58443, help="nginx (HTTPS)")
    parser.add_argument("--gunicorn-port", type=int, default=58001)
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers (>= 2)")
    parser.add_argument("--node-prefix", default="drill", help="Celery node name prefix")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--settings",
        default="portal.settings",
        help="settings module of the whole stack, to try a settings change before it lands",
    )
    parser.add_argument("--keep", action="store_true", help="keep PostgreSQL and Redis data")
    args = parser.parse_args(argv)
    if args.web_workers < 2:
        parser.error("--web-workers must be at least 2")
    return args


def _stop_on_signal(signum: int, _frame: object) -> None:
    # SIGTERM (a CI timeout, kill) runs the same cleanup as Ctrl-C.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--client"]:
        client_main(*argv[1:4])
        return 0
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    return Day(args).run()


if __name__ == "__main__":
    sys.exit(main())
