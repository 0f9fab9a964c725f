"""Helpers for the operations tests: real PostgreSQL databases of our own,
free loopback ports, and manage.py in a subprocess with its own environment."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
# Where nginx and the PostgreSQL client tools live on Debian, also for a
# PATH without the sbin directories.
TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])


def which(tool: str) -> str | None:
    return shutil.which(tool, path=TOOL_PATH)


def server_url() -> str:
    """The PostgreSQL server of DATABASE_URL (CI) or the local one, without a database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def database_url(name: str) -> str:
    return f"{server_url()}/{name}"


def pg_unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(database_url("postgres"), connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {server_url()}: {exc}"


def pg_server_major() -> int:
    import psycopg

    with psycopg.connect(database_url("postgres")) as conn:
        return conn.info.server_version // 10000


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_counts(name: str) -> dict[str, int]:
    """Rows of every table in the public schema of a database."""
    import psycopg

    with psycopg.connect(database_url(name)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: _one(conn.execute(f'SELECT count(*) FROM "{t}"')) for t in tables}


def redis_url(db: int) -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def redis_unavailable(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:
        return f"Redis not reachable at {url}: {exc}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a portal process: the caller's, minus anything that
    would point it at the developer's or CI's own database and files."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_", "GUNICORN_", "CELERY_", "AWS_"))
        and k not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}
    }
    env["PATH"] = TOOL_PATH
    env["PYTHONPATH"] = str(ROOT)
    env["DJANGO_DEBUG"] = "1"  # a developer's machine unless the caller says otherwise
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _one(cursor) -> int:
    """The single value of a one-row, one-column result."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]
