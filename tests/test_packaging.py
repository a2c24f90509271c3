"""The image and the wheel carry every app: each package that pyproject installs is
copied by the Dockerfile, and each app's templates, static files and schemas are package
data (a moved folder once left the console without its templates in the image)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _packages() -> list[str]:
    include = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    return [pattern.rstrip("*") for pattern in include]


def test_the_dockerfile_copies_every_installed_package():
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert set(_packages()) <= copied, f"Dockerfile misses {set(_packages()) - copied}"


def test_every_app_folder_is_installed():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(_packages())


def test_templates_static_and_schemas_are_package_data():
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    for package in _packages():
        for folder, glob in (("templates", "templates/**/*"), ("static", "static/**/*"),
                             ("schemas", "schemas/*.xsd")):  # fmt: skip
            if (ROOT / package / folder).is_dir():
                assert glob in package_data.get(package, []), f"{package}/{folder} not shipped"
