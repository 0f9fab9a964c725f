"""The scripts and CI install pinned versions from the lock files; every
requirement (with its range) must be pinned there, inside its range."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def requirements(path: Path) -> list[Requirement]:
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        else:
            found.append(Requirement(line))
    return found


def pins(path: Path) -> dict[str, str]:
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.M)
    }


@pytest.mark.parametrize("name", ["requirements", "requirements-dev"])
def test_every_requirement_is_pinned_within_its_range(name):
    pinned = pins(ROOT / f"{name}.lock")
    for req in requirements(ROOT / f"{name}.txt"):
        version = pinned.get(canonicalize_name(req.name))
        assert version, f"{req.name} is missing from {name}.lock: run pip-compile"
        assert req.specifier.contains(version, prereleases=True), (req, version)
