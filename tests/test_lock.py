"""The locks the installs use (make venv, the Docker image) cover pyproject.toml: a
dependency added or re-ranged without `make lock` fails here, so a stale lock fails CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def pins(lock: str) -> dict[str, Version]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def requirements(*, dev: bool) -> list[Requirement]:
    found = [Requirement(r) for r in PYPROJECT["dependencies"]]
    if dev:
        found += [Requirement(r) for r in PYPROJECT["optional-dependencies"]["dev"]]
    return found


@pytest.mark.parametrize(
    "lock, dev", [("requirements.lock", True), ("requirements-prod.lock", False)]
)
def test_every_dependency_is_locked_within_its_range(lock, dev):
    locked = pins(lock)
    missing = [str(r) for r in requirements(dev=dev) if canonicalize_name(r.name) not in locked]
    assert not missing, f"{lock} misses {missing}: run `make lock`"
    outside = [
        f"{r.name}=={locked[canonicalize_name(r.name)]} (wants {r.specifier})"
        for r in requirements(dev=dev)
        if not r.specifier.contains(locked[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outside, f"{lock} pins outside pyproject's ranges: {outside}: run `make lock`"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-prod.lock"])
def test_every_pin_carries_hashes(lock):
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text())
    pinned = [b for b in blocks if PIN.match(b)]
    assert pinned
    unhashed = [b.split()[0] for b in pinned if "--hash=sha256:" not in b]
    assert not unhashed, f"{lock} has pins without hashes: {unhashed}"


def test_the_prod_lock_has_no_dev_tools():
    # Some dev extras also come in through the app (websockets via uvicorn); these do not.
    tools = {"pytest", "ruff", "playwright", "pip-tools", "import-linter"}
    assert not (tools & set(pins("requirements-prod.lock")))
    assert tools <= set(pins("requirements.lock"))


def test_installs_use_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert "pip install --require-hashes -r requirements-prod.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
