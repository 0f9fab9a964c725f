"""The import graph: layers point one way (.importlinter, docs/architecture.md)
and no module takes part in an import circle."""

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "operations", "competitions", "teams", "scoring", "awards", "appeals",
        "tablets", "interchange", "results", "draws", "sector", "accounts", "demo")  # fmt: skip


def test_the_layers_contract_is_kept():
    run = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_no_module_is_in_an_import_circle():
    graph = grimp.build_graph(*APPS)
    modules = {m for m in graph.modules if ".migrations." not in m}
    circles = sorted(
        (a, b)
        for a in modules
        for b in graph.find_modules_directly_imported_by(a)
        if b in modules and b != a and graph.chain_exists(importer=b, imported=a)
    )
    assert circles == []
