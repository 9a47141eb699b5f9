"""What a prompt file's edits change against HEAD: its tokens, cost per call and per month then and now.

The editor asks on every hover, so the HEAD side is made once per (file, HEAD commit, editor settings)
on a background thread and looked up after that. Whether HEAD moved (a commit, a branch switch, a
reset) is a few `stat` calls on git's own files: HEAD, the branch's ref and packed-refs, whose
signature is taken before HEAD is resolved, so a move during the computation is seen at the next
look-up. A file outside any repository, a repository git cannot read, an ignored file or a commit-less
branch gives no comparison at all (never an error); a file HEAD does not have is "new since HEAD".
git runs only through `review.git` and its safe flags: the repository is not trusted.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from ..analysis import Analysis, analyze_file
from ..config import load_config
from .git import GitError, Repo
from .snapshot import Snapshot

# Without a repository (or with git failing) the folder is asked again after this many seconds:
# a `git init` or a repaired repository shows up without a restart.
RETRY_SECONDS = 30.0
# Files remembered at once; the editor's open files are a handful, this bounds a long session.
MOST_FILES = 256

Submit = Callable[[Callable[[], Any]], concurrent.futures.Future]


@dataclass(frozen=True)
class Figures:
    """What one version of a file costs, in the numbers the change line compares."""

    tokens: int
    cost: float | None  # per call: warm when the provider caches the stable prefix, else cold
    warm: bool
    per_month: float | None  # None without a volume for the file
    model: str

    @classmethod
    def of(cls, a: Analysis) -> "Figures":
        est = a.estimate
        return cls(
            tokens=a.prompt_tokens,
            cost=a.cost_per_call,
            warm=bool(est and est.cached),
            per_month=est.per_month if est else None,
            model=a.card.name if a.card else a.model,
        )


@dataclass(frozen=True)
class HeadBase:
    """The file as of HEAD: its figures, or None when HEAD has no such file."""

    commit: str
    path: str  # repository-relative, POSIX
    figures: Figures | None
    watched: tuple[Path, ...] = ()  # git's files that move when HEAD does
    signature: tuple[Any, ...] = ()  # their state when HEAD was resolved


@dataclass(frozen=True)
class NoBase:
    """No comparison for this file: why, for the log (never shown as an error)."""

    reason: str
    checked_at: float


@dataclass(frozen=True)
class HeadChange:
    """The current version against HEAD's."""

    commit: str
    now: Figures
    base: Figures | None  # None: new since HEAD

    @property
    def tokens(self) -> int:
        return self.now.tokens - (self.base.tokens if self.base else 0)

    @property
    def cost(self) -> float | None:
        if self.base is None or self.base.cost is None or self.now.cost is None:
            return None
        return self.now.cost - self.base.cost

    @property
    def per_month(self) -> float | None:
        if self.base is None or self.base.per_month is None or self.now.per_month is None:
            return None
        return self.now.per_month - self.base.per_month

    @property
    def unchanged(self) -> bool:
        return self.base is not None and self.now == self.base

    def line(self) -> str:
        """One line for a hover or a tooltip, e.g. `vs HEAD: +240 tokens/call (+9%), +$0.00012/call warm, +$3.60/month`."""
        from .report import signed_money, signed_tokens  # the same wording as `promptwise diff`

        if self.base is None:
            return f"vs HEAD: new since HEAD ({self.commit[:7]} has no such file)"
        if self.unchanged:
            return f"vs HEAD: unchanged ({self.now.tokens:,} tokens/call)"
        parts = [f"{signed_tokens(self.tokens)} tokens/call" + (f" ({_percent(self.tokens, self.base.tokens)})" if self.tokens and self.base.tokens else "")]
        cost = self.cost
        if cost is not None:
            parts.append(f"{signed_money(cost)}/call" + (" warm" if self.now.warm else ""))
        month = self.per_month
        if month is not None:
            parts.append(f"{signed_money(month)}/month")
        text = "vs HEAD: " + ", ".join(parts)
        if self.base.model != self.now.model:
            text += f" (model was {self.base.model})"
        return text

    def to_json(self) -> dict[str, Any]:
        base = self.base
        return {
            "commit": self.commit,
            "status": "new" if base is None else "unchanged" if self.unchanged else "changed",
            "tokens": self.tokens,
            "baseTokens": base.tokens if base else None,
            "costPerCall": self.cost,
            "basis": "warm" if self.now.warm else "cold",
            "perMonth": self.per_month,
            "baseModel": base.model if base else None,
            "line": self.line(),
        }


def change_against(base: HeadBase | NoBase | None, now: Analysis) -> HeadChange | None:
    """The change line's figures, when there is a HEAD side to compare with."""
    if not isinstance(base, HeadBase):
        return None
    return HeadChange(base.commit, Figures.of(now), base.figures)


def head_base(path: Path, overrides: dict[str, Any] | None = None, repos: "_Repos | None" = None) -> HeadBase | NoBase:
    """The file at `path` as of its repository's HEAD, analysed with its includes and config as of then
    and the editor's `overrides` over that config, as the current side is. Never raises: whatever
    goes wrong is a NoBase, and the file simply shows no change line."""
    try:
        return _head_base(path, overrides, repos)
    except Exception as exc:  # a repository nobody vetted must not break the editor
        return NoBase(f"{type(exc).__name__}: {exc}", time.monotonic())


def _head_base(path: Path, overrides: dict[str, Any] | None, repos: "_Repos | None") -> HeadBase | NoBase:
    now = time.monotonic()
    if not _inside_a_repository(path):  # no git process for a file no repository holds
        return NoBase(f"{path} is not in a git repository", now)
    try:
        repo = Repo.find(path)
        watched, signature = _head_files(repo)
        commit = repo.commit("HEAD")
    except GitError as exc:
        return NoBase(str(exc), now)
    rel = _relative(path, repo.root)
    if rel is None:
        return NoBase(f"{path} is not inside {repo.root}", now)
    repo = (repos or _Repos()).at(repo.root, commit)
    with Snapshot(repo, commit, "HEAD") as snapshot:
        if not snapshot.has(rel):
            if _ignored(repo, rel):
                return NoBase(f"{rel} is ignored by git", now)
            return HeadBase(commit, rel, None, watched, signature)
        result = snapshot.analyze(rel)
        if overrides and isinstance(result, Analysis):
            # The snapshot wrote what the file includes; analysed again with the editor's settings.
            written = snapshot.path(rel)
            result = analyze_file(written, load_config(written, overrides))
        if not isinstance(result, Analysis):
            why = "; ".join(f.message for f in result) or "it could not be analyzed"
            return NoBase(f"{rel} at HEAD: {why}", now)
        return HeadBase(commit, rel, Figures.of(result), watched, signature)


class HeadCosts:
    """The HEAD side of each file, made by `submit` (a worker pool) and remembered until HEAD moves."""

    def __init__(self, submit: Submit | None = None, retry: float = RETRY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._submit = submit or _now
        self._retry = retry
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Path, tuple], concurrent.futures.Future] = OrderedDict()
        self._repos = _Repos()

    def lookup(self, path: Path, overrides: dict[str, Any] | None = None) -> concurrent.futures.Future:
        """A future of the file's HEAD side: already done when it is known and HEAD has not moved since;
        else started now. Never blocks on git."""
        key = (Path(os.path.abspath(path)), _frozen(overrides))
        with self._lock:
            future = self._entries.get(key)
            if future is not None and self._fresh(future):
                self._entries.move_to_end(key)
                return future
        started = self._submit(lambda: self._made(key[0], overrides))
        with self._lock:
            self._entries[key] = started
            while len(self._entries) > MOST_FILES:
                self._entries.popitem(last=False)
        return started

    def _made(self, path: Path, overrides: dict[str, Any] | None) -> HeadBase | NoBase:
        found = head_base(path, overrides, self._repos)
        return replace(found, checked_at=self._clock()) if isinstance(found, NoBase) else found

    def known(self, path: Path, overrides: dict[str, Any] | None = None) -> HeadBase | NoBase | None:
        """The HEAD side if it is ready now (None while it is being made, which this starts)."""
        future = self.lookup(path, overrides)
        if not future.done() or future.cancelled() or future.exception() is not None:
            return None
        return future.result()

    def forget(self, path: Path | None = None) -> None:
        """Drop what was found for a file (all files without `path`): it is made again when next asked."""
        with self._lock:
            if path is None:
                self._entries.clear()
                return
            target = Path(os.path.abspath(path))
            for key in [k for k in self._entries if k[0] == target]:
                del self._entries[key]

    def retry(self, path: Path) -> None:
        """Look again for a file that had no comparison (no repository then, or git failed)."""
        target = Path(os.path.abspath(path))
        with self._lock:
            for key, future in list(self._entries.items()):
                if key[0] == target and future.done() and not future.cancelled() and future.exception() is None:
                    if isinstance(future.result(), NoBase):
                        del self._entries[key]

    def close(self) -> None:
        self.forget()
        self._repos.close()

    def _fresh(self, future: concurrent.futures.Future) -> bool:
        if not future.done():
            return True  # being made: its signature is taken before HEAD is resolved
        if future.cancelled() or future.exception() is not None:
            return False
        found = future.result()
        if isinstance(found, NoBase):
            return self._clock() - found.checked_at < self._retry
        return _signature(found.watched) == found.signature


class _Repos:
    """One `Repo` per repository, for its latest HEAD commit: its tree listing and git process are shared
    by the files of that commit, and let go when HEAD moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Path, tuple[str, Repo]] = {}

    def at(self, root: Path, commit: str) -> Repo:
        with self._lock:
            found = self._open.get(root)
            if found is not None and found[0] == commit:
                return found[1]
            repo = Repo(root)
            self._open[root] = (commit, repo)
        if found is not None:
            found[1].close()
        return repo

    def close(self) -> None:
        with self._lock:
            repos = [repo for _, repo in self._open.values()]
            self._open.clear()
        for repo in repos:
            repo.close()


def _head_files(repo: Repo) -> tuple[tuple[Path, ...], tuple[Any, ...]]:
    """git's files that change when HEAD moves, and their state now (taken before HEAD is resolved)."""
    out = repo.git("rev-parse", "--absolute-git-dir", "--git-common-dir", what="find the repository's git folder").splitlines()
    git_dir = Path(out[0])
    common = Path(out[1]) if len(out) > 1 else git_dir
    if not common.is_absolute():
        common = repo.root / common
    watched = [git_dir / "HEAD", common / "packed-refs"]
    try:
        ref = repo.git("symbolic-ref", "-q", "HEAD", what="find the current branch").strip()
    except GitError:  # a detached HEAD: HEAD itself holds the commit
        ref = ""
    if ref.startswith("refs/"):
        watched.append(common / ref)
    paths = tuple(watched)
    return paths, _signature(paths)


def _inside_a_repository(path: Path) -> bool:
    """A `.git` (a folder, or a worktree's file) in the file's folder or one above it: where git would look."""
    folder = Path(os.path.abspath(path)).parent
    return any(os.path.lexists(f / ".git") for f in (folder, *folder.parents))


def _signature(paths: tuple[Path, ...]) -> tuple[Any, ...]:
    out = []
    for path in paths:
        try:
            info = os.stat(path)
            out.append((info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def _ignored(repo: Repo, rel: str) -> bool:
    try:
        repo.git("check-ignore", "-q", "--no-index", "--", rel, what=f"check whether {rel} is ignored")
    except GitError:
        return False  # exit 1: not ignored
    return True


def _relative(path: Path, root: Path) -> str | None:
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return None


def _frozen(overrides: dict[str, Any] | None) -> tuple:
    if not overrides:
        return ()
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in overrides.items()))


def _now(fn: Callable[[], Any]) -> concurrent.futures.Future:
    """Without a worker pool: made on the spot (the CLI and tests)."""
    future: concurrent.futures.Future = concurrent.futures.Future()
    try:
        future.set_result(fn())
    except Exception as exc:
        future.set_exception(exc)
    return future


def _percent(delta: int, base: int) -> str:
    share = delta / base * 100
    return f"{share:+.1f}%" if abs(share) < 1 else f"{share:+.0f}%"


@dataclass(frozen=True)
class BranchChoice:
    """A commit to compare the working tree with, as the editor's branch picker lists it."""

    label: str
    ref: str  # what `compare` is given as the base
    description: str
    kind: str  # "merge-base", "head", "local" or "remote"


# Branches listed at most: a picker of thousands of stale remote branches helps nobody.
MOST_BRANCHES = 200


def branch_choices(repo: Repo) -> list[BranchChoice]:
    """The merge base with the upstream branch first (what `promptwise diff` compares with by default),
    then HEAD, then local and remote-tracking branches, most recently committed first."""
    choices: list[BranchChoice] = []
    base, how = repo.default_base()
    head = repo.commit("HEAD")
    if how != "HEAD":
        choices.append(BranchChoice(how, base, f"{base[:7]} · what promptwise diff compares with", "merge-base"))
    try:
        current = repo.git("symbolic-ref", "-q", "--short", "HEAD", what="find the current branch").strip()
    except GitError:
        current = ""
    choices.append(BranchChoice("HEAD", "HEAD", f"{head[:7]} · the last commit" + (f" on {current}" if current else ""), "head"))
    out = repo.git(
        "for-each-ref", "--sort=-committerdate", f"--count={MOST_BRANCHES}",
        "--format=%(refname)%09%(objectname)%09%(committerdate:relative)",
        "refs/heads", "refs/remotes",
        what="list the branches",
    )
    for record in out.splitlines():
        refname, _, rest = record.partition("\t")
        sha, _, when = rest.partition("\t")
        if refname.startswith("refs/heads/"):
            name, kind = refname[len("refs/heads/"):], "local"
        elif refname.startswith("refs/remotes/") and not refname.endswith("/HEAD"):
            name, kind = refname[len("refs/remotes/"):], "remote"
        else:
            continue
        words = [sha[:7], when] + (["current branch"] if kind == "local" and name == current else [])
        choices.append(BranchChoice(name, name, " · ".join(w for w in words if w), kind))
    return choices
