"""Reading a repository's history the way `promptwise diff` needs it: what changed, and old file contents.

Old versions come from git's object store (`git cat-file --batch`), never from a checkout or a clone,
and only the files asked for are read. The repository is not trusted: git runs with its
program-running hooks off (fsmonitor, external diff, textconv), with no prompt for credentials, and
never fetches a missing object over the network (a partial clone's lazy fetch is disabled).
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

# A regular file's blob modes; symlinks (120000) and submodules (160000) are not read as prompt text.
FILE_MODES = ("100644", "100755")
GIT_TIMEOUT = 30.0
_SAFE = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
    "-c", "core.quotePath=false",
)


class GitError(Exception):
    """A git command failed; the message says what was asked and git's own words."""


@dataclass(frozen=True)
class Change:
    """One file that differs between two sides: A(dded), M(odified), D(eleted) or R(enamed) from old_path."""

    status: str
    path: str  # repository-relative, POSIX; for a deletion, the path that was deleted
    old_path: str | None = None  # the base side's path: the same for M and D, the old name for R, None for A


@dataclass(frozen=True)
class Entry:
    mode: str
    sha: str


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_NO_LAZY_FETCH="1", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


class Repo:
    """A git repository at `root` (its top folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._trees: dict[str, dict[str, Entry]] = {}
        self._batch: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.blobs_read = 0  # how many file contents were read from git, for `diff --stats` and the bench

    @classmethod
    def find(cls, start: Path) -> "Repo":
        """The repository holding `start`; GitError when it is in none (or git is not installed)."""
        folder = start if start.is_dir() else start.parent
        top = _run(["rev-parse", "--show-toplevel"], folder, what=f"find the git repository holding {start}")
        return cls(Path(top.strip()))

    def git(self, *args: str, what: str) -> str:
        return _run(list(args), self.root, what=what)

    def commit(self, rev: str) -> str:
        """The commit id `rev` names; GitError with git's words when it names none."""
        out = self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", what=f"resolve {rev!r}")
        return out.strip()

    def default_base(self) -> tuple[str, str]:
        """(commit, how it was chosen): the merge base with the upstream branch, else HEAD."""
        try:
            upstream = self.git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", what="find the upstream branch").strip()
        except GitError:
            upstream = ""
        if upstream:
            try:
                base = self.git("merge-base", "HEAD", upstream, what=f"find the merge base with {upstream}").strip()
                return base, f"merge base with {upstream}"
            except GitError:
                pass
        return self.commit("HEAD"), "HEAD"

    def changes(self, base: str, head: str | None = None) -> list[Change]:
        """Files that differ between commit `base` and `head` (a commit, or None for the working tree,
        untracked files included, ignored ones not)."""
        args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", "--no-color", base]
        if head is not None:
            args.append(head)
        args.append("--")
        out = self.git(*args, what=f"compare {base[:12]} with {head[:12] if head else 'the working tree'}")
        changes = _parse_name_status(out)
        if head is None:
            listed = {c.path for c in changes}
            untracked = self.git("ls-files", "-z", "--others", "--exclude-standard", what="list untracked files")
            changes += [Change("A", p) for p in untracked.split("\0") if p and p not in listed]
        return changes

    def grep(self, terms: list[str], commit: str | None = None, pathspecs: tuple[str, ...] = ()) -> list[str]:
        """Files whose text holds any of `terms` (fixed strings, case-sensitive): git searches a commit's
        objects itself, or the working tree's tracked and untracked files; binary files are skipped."""
        # The terms go on stdin (`-f -`): a change of thousands of files must not overflow the command line.
        args = ["grep", "-l", "-z", "-F", "-I", "--no-color", "--full-name", "-f", "-"]
        if commit is None:
            args.append("--untracked")
        if commit is not None:
            args.append(commit)
        args += ["--", *pathspecs]
        patterns = "".join(f"{t}\n" for t in terms if t and "\n" not in t).encode("utf-8", "surrogateescape")
        if not patterns:
            return []
        # git grep exits 1 when nothing matches.
        out = _run(args, self.root, what="search the files for names of changed files", allow=(0, 1), stdin=patterns)
        prefix = f"{commit}:" if commit is not None else ""
        return [p[len(prefix):] if prefix and p.startswith(prefix) else p for p in out.split("\0") if p]

    def tree(self, commit: str) -> dict[str, Entry]:
        """Every file path in a commit's tree with its mode and blob id (a listing; no contents are read)."""
        with self._lock:
            found = self._trees.get(commit)
        if found is not None:
            return found
        out = self.git("ls-tree", "-r", "-z", "--full-tree", commit, what=f"list the files of {commit[:12]}")
        entries: dict[str, Entry] = {}
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob":
                entries[path] = Entry(parts[0], parts[2])
        with self._lock:
            self._trees[commit] = entries
        return entries

    def read(self, sha: str, max_bytes: int) -> tuple[bytes | None, int]:
        """A blob's bytes and size; (None, size) when it is larger than `max_bytes` (not read)."""
        with self._lock:
            proc = self._batch_process()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{sha}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().decode("utf-8", "replace").split()
            if len(header) != 3 or header[1] == "missing":
                raise GitError(f"git has no object {sha[:12]} (a shallow or partial clone?)")
            size = int(header[2])
            data = _read_exactly(proc.stdout, size + 1)[:size]  # the content, then a newline
            self.blobs_read += 1
        return (data, size) if size <= max_bytes else (None, size)

    def read_many(self, shas: list[str], max_bytes: int) -> dict[str, tuple[bytes | None, int]]:
        """`read` for many blobs at once: the requests go to git in one write, the answers come back in
        order (one round trip instead of one per file)."""
        found: dict[str, tuple[bytes | None, int]] = {}
        unique = list(dict.fromkeys(shas))
        for start in range(0, len(unique), 256):  # a chunk's requests fit the pipe: git never waits on us
            chunk = unique[start : start + 256]
            with self._lock:
                proc = self._batch_process()
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write("".join(f"{sha}\n" for sha in chunk).encode())
                proc.stdin.flush()
                for sha in chunk:
                    header = proc.stdout.readline().decode("utf-8", "replace").split()
                    if len(header) != 3 or header[1] == "missing":
                        raise GitError(f"git has no object {sha[:12]} (a shallow or partial clone?)")
                    size = int(header[2])
                    data = _read_exactly(proc.stdout, size + 1)[:size]
                    self.blobs_read += 1
                    found[sha] = (data, size) if size <= max_bytes else (None, size)
        return found

    def _batch_process(self) -> subprocess.Popen[bytes]:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", *_SAFE, "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_env(),
            )
        return self._batch

    def close(self) -> None:
        with self._lock:
            if self._batch is not None:
                try:
                    if self._batch.stdin:
                        self._batch.stdin.close()
                    self._batch.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._batch.kill()
                self._batch = None

    def __enter__(self) -> "Repo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_exactly(stream, size: int) -> bytes:  # noqa: ANN001 - a binary pipe
    chunks: list[bytes] = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _parse_name_status(out: str) -> list[Change]:
    fields = out.split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields):
        status = fields[i]
        if not status:
            i += 1
            continue
        kind = status[0]
        if kind in "RC" and i + 2 < len(fields):
            old, new = fields[i + 1], fields[i + 2]
            changes.append(Change("R", new, old) if kind == "R" else Change("A", new))
            i += 3
            continue
        path = fields[i + 1] if i + 1 < len(fields) else ""
        if kind == "D":
            changes.append(Change("D", path, path))
        elif kind == "A":
            changes.append(Change("A", path))
        elif path:  # M, T (type change), U (unmerged)
            changes.append(Change("M", path, path))
        i += 2
    return changes


def _run(args: list[str], cwd: Path, what: str, allow: tuple[int, ...] = (0,), stdin: bytes | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *_SAFE, *args],
            cwd=cwd,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=_env(),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitError(f"cannot {what}: git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"cannot {what}: git did not answer within {GIT_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise GitError(f"cannot {what}: {exc.strerror or exc}") from None
    if done.returncode not in allow:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"cannot {what}: {said[-1] if said else f'git exited with {done.returncode}'}")
    return done.stdout.decode("utf-8", "surrogateescape")
