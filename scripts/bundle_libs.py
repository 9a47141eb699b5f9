"""Fill the VS Code extension's bundled/libs for one VS Code target: promptwise and its pinned dependencies.

Layout (read by vscode-extension/bundled/tool/run.py):
  libs/common/   wheels that are the same file for every bundled Python (pure Python, abi3) and promptwise itself
  libs/cp3XY/    the rest, built for that Python (pydantic-core, regex, ...)
  libs/bundle.json  target, Pythons and the lock's sha256

Every wheel comes from the registry through `pip download --require-hashes` on requirements/bundle.txt, whose
markers are evaluated here for the target and each Python (pip would evaluate them for the Python running it).
The finished libs are cached per lock, target and Pythons, so a second run copies instead of downloading.

Usage: python scripts/bundle_libs.py --target linux-x64 --out vscode-extension/bundled/libs [--pythons 3.11,3.12]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name, parse_wheel_filename

REPO = Path(__file__).resolve().parent.parent
# From 3.11, as pyproject.toml says: promptwise's patterns use possessive quantifiers (`*+`), which `re` has from 3.11 on.
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def _manylinux(arch: str) -> list[str]:
    # pip expands manylinux2014 to 2010 and 1, but not the manylinux_2_X names: list them (glibc 2.17 to 2.28).
    return [f"manylinux_2_{n}_{arch}" for n in range(28, 16, -1)] + [f"manylinux2014_{arch}"]


# VS Code target -> (marker environment, pip --platform tags). pip expands a macOS version to every older one.
TARGETS: dict[str, tuple[dict[str, str], list[str]]] = {
    "linux-x64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}, _manylinux("x86_64")),
    "linux-arm64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"}, _manylinux("aarch64")),
    "alpine-x64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}, ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"]),
    "alpine-arm64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"}, ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64"]),
    "darwin-x64": ({"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"}, ["macosx_12_0_x86_64"]),
    "darwin-arm64": ({"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"}, ["macosx_12_0_arm64"]),
    "win32-x64": ({"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}, ["win_amd64"]),
    "win32-arm64": ({"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "ARM64"}, ["win_arm64"]),
}


# Parts of the bundled packages that promptwise never loads, left out of the .vsix (relative to libs/common).
PRUNE = (
    "litellm/proxy/_experimental/out",  # the LiteLLM Proxy's web admin UI: 800+ static files, served by the proxy only
)


class BundleError(Exception):
    pass


def parse_lock(text: str) -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker or None, hashes) per entry of a `uv pip compile --generate-hashes` file."""
    entries = []
    for block in re.sub(r"\\\n", " ", text).splitlines():
        line = block.split("#", 1)[0].strip()
        if not line:
            continue
        spec, _, rest = line.partition(" --hash=")
        hashes = re.findall(r"sha256:[0-9a-f]{64}", line)
        requirement, _, marker = spec.partition(";")
        name, sep, version = requirement.strip().partition("==")
        if not sep or not hashes:
            raise BundleError(f"requirements line without an exact pin and hashes: {line[:80]}")
        entries.append((name.strip(), version.strip(), marker.strip() or None, hashes))
    return entries


def marker_env(target: str, python: str) -> dict[str, str]:
    base, _ = TARGETS[target]
    # x.y.0: markers such as `python_full_version < '3.11.3'` then keep the backport, which is harmless on 3.11.7.
    return {
        **base,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{python}.0",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


def requirements_for(entries, target: str, python: str) -> str:
    env = marker_env(target, python)
    lines = []
    for name, version, marker, hashes in entries:
        if marker is None or Marker(marker).evaluate(env):
            lines.append(f"{name}=={version} " + " ".join(f"--hash={h}" for h in hashes))
    return "\n".join(lines) + "\n"


def pip_target_flags(target: str, python: str) -> list[str]:
    _, platforms = TARGETS[target]
    abi = "cp" + python.replace(".", "")
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python, "--abi", abi]
    for p in platforms:
        flags += ["--platform", p]
    return flags


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The machine's pip config names local indexes that may not exist: that warning is noise here.
    noise = re.compile(r"^WARNING: Location '.*' is ignored")
    output = "\n".join(line for line in result.stdout.splitlines() if not noise.match(line))
    if result.returncode != 0:
        raise BundleError(f"pip {args[0]} failed:\n{output[-4000:]}")
    if output.strip():
        print(output, file=sys.stderr)


def download(reqs: str, target: str, python: str, into: Path) -> dict[str, str]:
    """Wheel file names by canonical project name, each checked against the lock's hashes."""
    into.mkdir(parents=True)
    req_file = into / "requirements.txt"
    req_file.write_text(reqs)
    try:
        pip("download", "--no-deps", "--require-hashes", "-d", str(into), *pip_target_flags(target, python), "-r", str(req_file))
    except BundleError as err:
        raise BundleError(f"no complete set of wheels for {target} on Python {python}: {err}") from None
    wheels = {}
    for f in into.glob("*.whl"):
        name, _, _, _ = parse_wheel_filename(f.name)
        wheels[str(canonicalize_name(name))] = f.name
    return wheels


def install(wheels: list[Path], target: str, python: str, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    if wheels:
        pip("install", "--no-deps", "--no-index", "--no-compile", "--target", str(into), *pip_target_flags(target, python), *map(str, wheels))
    # Console scripts point at the build machine's interpreter: of no use inside the extension.
    shutil.rmtree(into / "bin", ignore_errors=True)


def build(target: str, pythons: list[str], lock: Path, out: Path) -> None:
    entries = parse_lock(lock.read_text())
    with tempfile.TemporaryDirectory(prefix="promptwise-bundle-") as tmp:
        tmp_path = Path(tmp)
        chosen: dict[str, dict[str, str]] = {}
        for python in pythons:
            print(f"[bundle] downloading wheels for {target}, Python {python}", file=sys.stderr)
            chosen[python] = download(requirements_for(entries, target, python), target, python, tmp_path / python)
        files = [set(c.values()) for c in chosen.values()]
        common = set.intersection(*files)
        staging = tmp_path / "libs"
        first = pythons[0]
        install(sorted(tmp_path / first / f for f in common), target, first, staging / "common")
        for python in pythons:
            own = sorted(tmp_path / python / f for f in set(chosen[python].values()) - common)
            install(own, target, python, staging / ("cp" + python.replace(".", "")))
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(out))


def copy_promptwise(out: Path) -> None:
    dest = out / "common" / "promptwise"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(REPO / "server" / "promptwise", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, choices=sorted(TARGETS))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--pythons", default=",".join(DEFAULT_PYTHONS), help="comma-separated, e.g. 3.11,3.12 (default: %(default)s)")
    parser.add_argument("--lock", default=REPO / "requirements" / "bundle.txt", type=Path)
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("PROMPTWISE_E2E_CACHE", Path.home() / ".cache" / "promptwise-e2e")) / "bundled-libs")
    args = parser.parse_args(argv)
    pythons = [p.strip() for p in args.pythons.split(",") if p.strip()]
    bad = [p for p in pythons if not re.fullmatch(r"3\.\d{1,2}", p) or int(p.split(".")[1]) < 11]
    if bad or not pythons:
        parser.error(f"--pythons takes versions 3.11 or newer, e.g. 3.11,3.12 (got {args.pythons!r})")
    lock_sha = hashlib.sha256(args.lock.read_bytes()).hexdigest()
    stamp = {"target": args.target, "pythons": pythons, "lock_sha256": lock_sha}
    key = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:16]
    cached = args.cache / f"{args.target}-{key}"
    try:
        if not (cached / "bundle.json").is_file():
            build(args.target, pythons, args.lock, cached)
            (cached / "bundle.json").write_text(json.dumps(stamp, indent=2) + "\n")
        else:
            print(f"[bundle] wheels for {args.target} ({', '.join(pythons)}) from {cached}", file=sys.stderr)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(cached, args.out, symlinks=True)
        for part in PRUNE:
            shutil.rmtree(args.out / "common" / part, ignore_errors=True)
        copy_promptwise(args.out)
    except BundleError as err:
        print(f"bundle_libs: {err}", file=sys.stderr)
        return 1
    print(f"[bundle] {args.out}: {', '.join(sorted(p.name for p in args.out.iterdir() if p.is_dir()))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
