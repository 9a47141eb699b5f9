"""A prompt file as it was at a commit, analysed with its includes, partials and config as of that commit.

The engine reads files from disk (through `promptwise.access`, with its workspace rules), so a
commit's files are written from git's object store into a private temporary folder laid out like
the repository, and only the ones needed: the file asked for, the configs on its folders' way up,
and, one round at a time, whatever it includes that the commit has. The working tree is the other
side of a comparison and is read where it is.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .. import access
from ..analysis import Analysis, analyze_file
from ..config import LoadedConfig, load_config
from ..formats import Finding, Severity
from ..formats.limits import DEFAULT_MAX_BYTES
from ..text import Span
from .git import FILE_MODES, Repo

CONFIG_NAMES = ("promptwise.toml", "pyproject.toml")
# Includes of includes are found a round at a time; past this depth they are reported missing.
MAX_ROUNDS = 12
# Files one snapshot may write: a prompt pulling in more than this is not one a reviewer reads.
MAX_FILES = 5000
# A partial a partial uses is reported on the top reference, by name: Dotprompt looks for `_name.prompt`.
_NESTED_PARTIAL = re.compile(r"partial '([^']+)' not found")

Result = Analysis | list[Finding]


class WorkingTree:
    """The files as they are on disk: the head side of `promptwise diff` by default."""

    label = "working tree"

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.root = repo.root

    def has(self, rel: str) -> bool:
        return os.path.lexists(self.root / rel)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def analyze(self, rel: str, model: str | None = None) -> Result | None:
        """The analysis of `rel`, or None when the file is not there."""
        path = self.path(rel)
        if not self.has(rel):
            return None
        # A link to a file outside the repository is reported, never read (as `check` does).
        if os.path.islink(path) and access.refusal(path, origin=path.parent) is not None:
            why = f"{rel} links to a file outside the workspace; it was not read (allow that folder with allow_read in the user config)"
            return [Finding("unreadable-file", Severity.ERROR, why, Span(0, 0))]
        return analyze_file(path, load_config(path), model=model)

    def relative(self, path: Path | None) -> str | None:
        return _relative(path, self.root)

    def dependencies(self, result: Result) -> set[str]:
        return dependencies(result, self.relative)

    def config(self, rel: str) -> LoadedConfig:
        """The settings that apply to `rel` (which need not exist)."""
        return load_config(self.path(rel))

    def files(self) -> list[str]:
        """Tracked and untracked files (ignored ones not), as git lists them: no contents are read."""
        out = self.repo.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", what="list the files of the working tree")
        return list(dict.fromkeys(p for p in out.split("\0") if p))

    def close(self) -> None:
        pass


class Snapshot:
    """A commit's files, written on demand into a temporary folder and analysed there."""

    def __init__(self, repo: Repo, commit: str, label: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.repo = repo
        self.commit = commit
        self.label = label or commit[:12]
        self.max_bytes = max_bytes
        self.tree = repo.tree(commit)
        self.root = Path(tempfile.mkdtemp(prefix="promptwise-rev-"))
        # The folder's top is the project's top: includes across folders resolve as in the repository.
        (self.root / ".git").mkdir()
        self._written: set[str] = set()  # asked for, whether or not it could be written
        self._stored: set[str] = set()  # written
        self._too_large: dict[str, int] = {}

    def has(self, rel: str) -> bool:
        return rel in self.tree

    def path(self, rel: str) -> Path:
        return self.root / rel

    def relative(self, path: Path | None) -> str | None:
        return _relative(path, self.root)

    def config(self, rel: str) -> LoadedConfig:
        """The settings that apply to `rel` as of the commit (the configs above it are written, not `rel`)."""
        self._write_configs(rel)
        return load_config(self.path(rel))

    def files(self) -> list[str]:
        return list(self.tree)

    def analyze(self, rel: str, model: str | None = None) -> Result | None:
        """The analysis of `rel` as of the commit, or None when the commit has no such file."""
        if not self.has(rel):
            return None
        if not self._write(rel):
            return [self._not_read(rel)]
        result: Result = []
        for _ in range(MAX_ROUNDS):
            path = self.path(rel)
            result = analyze_file(path, load_config(path), model=model)
            wanted = [r for r in self._missing_includes(result) if r not in self._written]
            if not any([self._write(r) for r in wanted]):
                break
        return self._cleaned(result)

    def dependencies(self, result: Result) -> set[str]:
        """The repository paths an analysis read besides the file: its includes and its config."""
        return dependencies(result, self.relative)

    def _missing_includes(self, result: Result) -> list[str]:
        if not isinstance(result, Analysis):
            return []
        wanted = []
        for include in result.document.includes:
            if not include.error:
                continue
            targets = [include.path]
            # A missing partial of a partial is named in the error of the reference that reached it.
            targets += [_partial_path(result.document.path.parent, name) for name in _NESTED_PARTIAL.findall(include.error)]
            for target in targets:
                rel = self.relative(target)
                if rel is not None and rel in self.tree:
                    wanted.append(rel)
        return wanted

    def _write(self, rel: str) -> bool:
        """Write `rel` and the configs above it from the commit; False when the file cannot be (too large,
        not a regular file, or over the snapshot's file limit)."""
        if rel in self._written:
            return rel in self._stored
        if len(self._written) >= MAX_FILES or not _safe(rel):
            return False
        self._write_configs(rel)
        return self._write_blob(rel)

    def _configs_above(self, rel: str) -> list[str]:
        parts = PurePosixPath(rel).parts
        found = []
        for depth in range(len(parts)):
            for name in CONFIG_NAMES:
                config = "/".join((*parts[:depth], name))
                if config != rel and config in self.tree and config not in self._written and _safe(config):
                    found.append(config)
        return found

    def _write_configs(self, rel: str) -> None:
        for config in self._configs_above(rel):
            self._write_blob(config)

    def prefetch(self, rels: list[str]) -> None:
        """Write files (and the configs above them) the analyses will want, read from git in one batch:
        a file's includes as the other side has them, say, so that its analysis needs no second round."""
        wanted: list[str] = []
        for rel in rels:
            if rel in self._written or rel not in self.tree or not _safe(rel):
                continue
            wanted += [*self._configs_above(rel), rel]
        wanted = [r for r in dict.fromkeys(wanted) if self.tree[r].mode in FILE_MODES]
        wanted = wanted[: max(0, MAX_FILES - len(self._written))]
        blobs = self.repo.read_many([self.tree[r].sha for r in wanted], self.max_bytes)
        for rel in wanted:
            self._written.add(rel)
            self._store(rel, *blobs[self.tree[rel].sha])

    def _write_blob(self, rel: str) -> bool:
        entry = self.tree.get(rel)
        self._written.add(rel)
        if entry is None or entry.mode not in FILE_MODES:
            return False
        return self._store(rel, *self.repo.read(entry.sha, self.max_bytes))

    def _store(self, rel: str, data: bytes | None, size: int) -> bool:
        if data is None:
            self._too_large[rel] = size
            return False
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(data)
        self._stored.add(rel)
        return True

    def _not_read(self, rel: str) -> Finding:
        size = self._too_large.get(rel)
        if size is not None:
            why = f"is {size / 1048576:.1f} MiB at {self.label}, over the {self.max_bytes / 1048576:.0f} MiB limit; it was not analyzed"
            return Finding("file-too-large", Severity.WARNING, f"{rel} {why}", Span(0, 0))
        return Finding("unreadable-file", Severity.ERROR, f"{rel} at {self.label} is not a regular file; it was not read", Span(0, 0))

    def _cleaned(self, result: Result) -> Result:
        """Messages name the repository's paths, not the temporary folder's."""
        findings = result.findings if isinstance(result, Analysis) else result
        tmp, real = str(self.root), str(self.repo.root)

        def moved(path: Path) -> Path:
            rel = self.relative(path)
            return self.repo.root / rel if rel is not None else path

        findings[:] = [
            replace(
                f,
                message=f.message.replace(tmp, real),
                related=[replace(r, path=moved(r.path), message=r.message.replace(tmp, real)) for r in f.related],
            )
            for f in findings
        ]
        return result

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dependencies(result: Result, relative) -> set[str]:  # noqa: ANN001 - a side's relative()
    if not isinstance(result, Analysis):
        return set()
    found = {relative(inc.path) for inc in result.document.includes}
    config = load_config(result.document.path).path  # remembered per file: no second read
    if config is not None:
        found.add(relative(config))
    found.discard(None)
    return found  # type: ignore[return-value]


def _partial_path(folder: Path, name: str) -> Path:
    """Where Dotprompt looks for the partial `name` used by a file in `folder` (as formats.dotprompt does)."""
    base = folder / name
    return base.parent / f"_{base.name}.prompt"


def _relative(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        try:
            return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
        except ValueError:
            return None


def _safe(rel: str) -> bool:
    """A tree path git could hold but that must not leave the snapshot folder when written."""
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and ".git" not in parts
