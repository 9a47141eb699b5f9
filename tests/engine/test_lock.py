"""The supply chain and the test runner: every locked dependency is pinned with hashes and installed
with --require-hashes, the compromised litellm releases stay out, and scripts/test.sh totals every suite."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LOCK = ROOT / "requirements" / "lock.txt"
COMPROMISED_LITELLM = {Version("1.82.7"), Version("1.82.8")}
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})$")
# The lock is made for Python 3.11 on any platform; this is the machine it is installed on here.
ENVIRONMENT = {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.7", "extra": ""}


def lock_entries() -> list[tuple[Requirement, list[str]]]:
    """Each requirement of the lock with its hashes (continuation lines joined, comments dropped)."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = re.split(r"\s+(?=--)", line)
        entries.append((Requirement(spec), options))
    return entries


def applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(ENVIRONMENT)


def test_every_line_pins_one_version_with_hashes():
    entries = lock_entries()
    assert len(entries) > 50
    for requirement, options in entries:
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{requirement} is not pinned with =="
        assert "*" not in specifiers[0].version, f"{requirement} pins a wildcard"
        assert options and all(HASH.match(o) for o in options), f"{requirement.name} has no sha256 hash: {options}"
    names = [canonicalize_name(r.name) for r, _ in entries]
    assert len(names) == len(set(names)), "a package is pinned twice"


def test_the_compromised_litellm_releases_are_excluded():
    pinned = {canonicalize_name(r.name): r for r, _ in lock_entries()}
    litellm = Version(next(iter(pinned["litellm"].specifier)).version)
    assert litellm not in COMPROMISED_LITELLM
    header = LOCK.read_text(encoding="utf-8")
    assert "litellm 1.82.7 and 1.82.8 must never appear here" in header
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    requirement = next(Requirement(d) for d in declared if canonicalize_name(Requirement(d).name) == "litellm")
    assert not any(requirement.specifier.contains(v) for v in COMPROMISED_LITELLM)
    assert requirement.specifier.contains(litellm)


def test_the_lock_holds_every_declared_dependency_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    pinned = {canonicalize_name(r.name): Version(next(iter(r.specifier)).version) for r, _ in lock_entries()}
    for line in declared:
        requirement = Requirement(line)
        if not applies(requirement):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(pinned[name], prereleases=True), f"{name}=={pinned[name]} is outside {requirement}"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the lock is installed on Python 3.11 only")
def test_the_environment_is_the_lock_and_the_lock_is_closed():
    """What setup installed is exactly the lock, and every dependency of a locked package is locked
    (pip's hash-checking mode refuses to install anything unpinned)."""
    locked = {canonicalize_name(r.name): r for r, _ in lock_entries() if applies(r)}
    for name, requirement in locked.items():
        assert importlib.metadata.version(name) == next(iter(requirement.specifier)).version, name
    for name in locked:
        for line in importlib.metadata.requires(name) or []:
            dependency = Requirement(line)
            if applies(dependency):
                assert canonicalize_name(dependency.name) in locked, f"{name} needs {dependency}, which is not locked"


def test_setup_installs_the_lock_with_hashes_and_the_project_separately():
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert '--require-hashes -r requirements/lock.txt' in setup
    assert '--no-deps -e .' in setup


# ---- scripts/test.sh: one line totalling every suite ----

PYTEST_OUT = """\
tests/engine/test_cli.py ....F.                                          [100%]
FAILED tests/engine/test_x.py::test_prints - assert '3 passed, 1 failed in 0.1s' == ''
==== 2 failed, 120 passed, 3 skipped, 1 xfailed, 4 warnings, 1 error in 9.12s (0:00:09) ====
"""
EXTENSION_OUT = """\
== vscode-extension: unit tests ==
# pass 30
unit: 30 passed, 0 failed, 0 skipped; e2e: 1 passed, 0 failed, 1 skipped
vscode-extension: 31 passed, 0 failed, 1 skipped
"""


def totals(tmp_path: Path, suites: dict[str, tuple[str, int]]) -> subprocess.CompletedProcess:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    for name, (text, status) in suites.items():
        (logs / f"{name}.log").write_text(text)
        (logs / f"{name}.status").write_text(f"{status}\n")
    script = f'source "{ROOT / "scripts" / "test.sh"}"; totals "{logs}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)


def test_test_sh_totals_pytest_and_the_extension(tmp_path):
    result = totals(tmp_path, {"pytest": (PYTEST_OUT, 1), "vscode-extension": (EXTENSION_OUT, 0)})
    # errors count as failures, xfailed as skipped; only the closing summary of each suite counts.
    assert result.stdout.splitlines()[-1] == "all-suites: 151 passed, 3 failed, 5 skipped"
    assert result.returncode == 1


def test_test_sh_passes_when_every_suite_passes(tmp_path):
    quiet = "....\n\x1b[32m5 passed\x1b[0m, 1 skipped in 0.30s\n"
    result = totals(tmp_path, {"pytest": (quiet, 0), "vscode-extension": (EXTENSION_OUT, 0)})
    assert result.stdout.splitlines()[-1] == "all-suites: 36 passed, 0 failed, 2 skipped"
    assert result.returncode == 0


def test_test_sh_counts_no_tests_and_silent_failures_as_failures(tmp_path):
    result = totals(tmp_path, {"pytest": ("no tests ran in 0.01s\n", 5)})
    assert result.stdout.splitlines() == ["pytest: no tests ran (exit 5), counted as a failure", "all-suites: 0 passed, 1 failed, 0 skipped"]
    assert result.returncode == 1
    broken = "vscode-extension: npm ci failed\nvscode-extension: 0 passed, 0 failed, 0 skipped\n"
    result = totals(tmp_path, {"pytest": ("7 passed in 1.00s\n", 0), "vscode-extension": (broken, 1)})
    assert result.stdout.splitlines()[-1] == "all-suites: 7 passed, 1 failed, 0 skipped"
    assert result.returncode == 1
