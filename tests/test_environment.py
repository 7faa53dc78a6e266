"""environment.yml, pyproject.toml and the lock file (requirements/constraints.txt) agree."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version.strip()
    return pins


def _pyproject_deps() -> list[str]:
    pp = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = pp["project"]["dependencies"] + pp["project"]["optional-dependencies"]["test"]
    return [_norm(re.split(r"[<>=!~ \[;]", d)[0]) for d in deps]


def test_every_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = [d for d in _pyproject_deps() if d not in lock]
    assert not missing, f"add {missing} to requirements/constraints.txt (pip freeze after installing)"


def test_environment_yml_matches_pyproject_and_lock():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda = {}
    for item in env["dependencies"]:
        if isinstance(item, str) and "==" in item:
            name, version = item.split("==")
            conda[_norm(name)] = version
    lock = _lock()
    for dep in _pyproject_deps():
        assert dep in conda, f"{dep} is in pyproject.toml but not in environment.yml"
        assert conda[dep] == lock[dep], f"{dep}: environment.yml pins {conda[dep]}, the lock {lock[dep]}"
    assert set(conda) == set(_pyproject_deps()), "environment.yml lists packages pyproject.toml does not"
    pip_items = [i for i in env["dependencies"] if isinstance(i, dict)]
    assert pip_items and "-e ." in pip_items[0]["pip"], "environment.yml must install the package itself"


def test_installed_versions_are_the_locked_ones():
    lock = _lock()
    for dep in _pyproject_deps():
        assert metadata.version(dep) == lock[dep], f"{dep} installed {metadata.version(dep)}, locked {lock[dep]}"
