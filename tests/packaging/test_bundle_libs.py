"""scripts/bundle_libs.py: which pinned packages each VS Code target and Python gets, with their hashes."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bundle_libs", REPO / "scripts" / "bundle_libs.py")
bundle_libs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bundle_libs)

H1 = "sha256:" + "a" * 64
H2 = "sha256:" + "b" * 64
LOCK = f"""# a header
pydantic==2.14.4 \\
    --hash={H1} \\
    --hash={H2}
tomli==2.5.0 ; python_full_version < '3.11' \\
    --hash={H1}
regex==2026.9.29 ; python_full_version < '3.11' \\
    --hash={H1}
regex==2026.11.19 ; python_full_version >= '3.11' \\
    --hash={H2}
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash={H1}
"""


def names(reqs: str) -> list[str]:
    return [line.split(" ")[0] for line in reqs.splitlines()]


def test_each_python_gets_its_own_pins():
    entries = bundle_libs.parse_lock(LOCK)
    assert names(bundle_libs.requirements_for(entries, "linux-x64", "3.10")) == ["pydantic==2.14.4", "tomli==2.5.0", "regex==2026.9.29"]
    assert names(bundle_libs.requirements_for(entries, "linux-x64", "3.12")) == ["pydantic==2.14.4", "regex==2026.11.19"]


def test_platform_markers_follow_the_target_not_the_build_machine():
    entries = bundle_libs.parse_lock(LOCK)
    assert "colorama==0.4.6" in names(bundle_libs.requirements_for(entries, "win32-x64", "3.12"))
    assert "colorama==0.4.6" not in names(bundle_libs.requirements_for(entries, "darwin-arm64", "3.12"))


def test_every_line_keeps_all_its_hashes():
    entries = bundle_libs.parse_lock(LOCK)
    first = bundle_libs.requirements_for(entries, "linux-x64", "3.12").splitlines()[0]
    assert first == f"pydantic==2.14.4 --hash={H1} --hash={H2}"


def test_an_unpinned_or_unhashed_line_is_refused():
    with pytest.raises(bundle_libs.BundleError, match="exact pin and hashes"):
        bundle_libs.parse_lock("pydantic>=2\n")
    with pytest.raises(bundle_libs.BundleError, match="exact pin and hashes"):
        bundle_libs.parse_lock("pydantic==2.14.4\n")


def test_pip_is_told_the_target_platform_and_python():
    flags = bundle_libs.pip_target_flags("linux-x64", "3.13")
    assert flags[:7] == ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.13", "--abi", "cp313"]
    assert "manylinux_2_28_x86_64" in flags and "manylinux2014_x86_64" in flags
    assert "win_amd64" in bundle_libs.pip_target_flags("win32-x64", "3.13")


def test_the_real_bundle_lock_pins_everything_for_every_target():
    entries = bundle_libs.parse_lock((REPO / "requirements" / "bundle.txt").read_text())
    pinned = {name for name, *_ in entries}
    assert {"pydantic", "pygls", "lsprotocol", "litellm", "tiktoken", "tokenizers", "dotpromptz-handlebars"} <= pinned
    assert not any(name == "litellm" and version in ("1.82.7", "1.82.8") for name, version, *_ in entries)
    for target in bundle_libs.TARGETS:
        for python in bundle_libs.DEFAULT_PYTHONS:
            reqs = names(bundle_libs.requirements_for(entries, target, python))
            assert len({r.split("==")[0] for r in reqs}) == len(reqs), (target, python)  # one pin per package
