"""The competition-day drill, short: deploy/drill.py
--preset small — 4 delegations, 3 skills, 24 entries, 12 judges, 10 tablets —
with the same faults as the full drill: Redis and PostgreSQL restarted while
the tablets mark, a tablet resending its last minute, a Celery worker SIGKILLed
in the certificate batch.

The drill starts PostgreSQL and Redis of its own (on free ports here) and the
stack with run-all.sh, so the machine's services are never restarted. Bounded:
the drill takes about a minute; the test gives it three.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT, base_env, free_port

pytestmark = pytest.mark.worker

BUDGET = 180.0

sys.path.insert(0, str(ROOT / "deploy"))
import drill  # noqa: E402


def test_small_drill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    missing = drill.missing_tools()
    if missing:
        pytest.skip("the drill needs " + ", ".join(missing))
    report = tmp_path / "report.md"
    figures = tmp_path / "report.json"
    ports = {f"--{n}": str(free_port()) for n in ("pg-port", "redis-port", "port", "gunicorn-port")}
    command = [
        sys.executable, str(ROOT / "deploy" / "drill.py"), "--preset", "small",
        "--workdir", str(tmp_path / "drill"), "--report", str(report), "--json", str(figures),
        "--node-prefix", f"drilltest{free_port()}",
        *[x for pair in ports.items() for x in pair],
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=BUDGET)
    except subprocess.TimeoutExpired:
        # SIGTERM runs the drill's own cleanup (its PostgreSQL, Redis, gunicorn
        # and workers live in sessions of their own): a timeout leaves nothing running.
        process.terminate()
        try:
            stdout, _stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, _stderr = process.communicate()
        pytest.fail(f"the drill took more than {BUDGET:.0f} s:\n{stdout[-4000:]}")
    run = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert figures.exists(), f"no report:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    data = json.loads(figures.read_text())
    text = report.read_text()
    facts = data["facts"]

    # Every mark the tablets meant to write is stored exactly once, with one
    # ledger record per client key, through both restarts and the resends.
    marks = facts["marks"]
    assert marks["distinct_planned"] > 300, marks
    assert marks["stored"] == marks["distinct_planned"], marks
    for key in (
        "lost",
        "duplicated",
        "unexpected",
        "wrong_value",
        "version_not_1",
        "keys_without_record",
        "keys_with_several_records",
        "refused",
        "unanswered",
    ):
        assert marks[key] == 0, (key, marks)  # fmt: skip
    assert marks["ledger_records_for_keys"] == marks["planned"]
    assert facts["verify_ledger"] == "ok"

    # The faults were injected while the day went on.
    faults = {f["name"]: f for f in data["faults"]}
    assert faults["Redis restarted"]["during"].startswith("marking")
    assert faults["PostgreSQL restarted"]["during"].startswith("marking")
    resend = faults["a tablet resends every mark of the last minute"]["detail"]
    assert " 0 wrong" in resend and not resend.startswith("0 resent"), resend
    assert "Celery worker SIGKILLed mid-batch" in faults, data["phases"]

    # Certificates: as many as the awards call for, unique serials, all drawn.
    certs = facts["certificates"]
    assert certs["expected"] > 0
    assert certs["issued"] == certs["unique_serials"] == certs["expected"], certs
    # The QR code's verification URL is on the configured host and answers.
    verification = facts["verification"]
    assert verification["url_host"] == verification["configured_host"], verification
    assert verification["in_pdf"] and verification["status"] == 200, verification
    assert certs["batch_status"] == "done", (certs, data["findings"])
    assert certs["files_stored"] == certs["expected"], certs

    assert facts["signed_off"] == "3 of 3 skills"
    assert facts["published"] == 3
    assert facts["excel"]["downloads"] == facts["excel"]["leads"] == 4
    assert facts["excel"]["leads_missing_own_entries"] == 0
    assert data["ok"] and run.returncode == 0, text
    assert "p95" in text and "Errors the tablets saw" in text

    # Nothing of the drill's is left running.
    assert not list((tmp_path / "drill" / "run").glob("*.pid"))
