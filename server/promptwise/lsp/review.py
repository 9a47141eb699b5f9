"""Cost in review, in the editor: the change against HEAD for the hover and the status bar, and the
branch comparison behind "Compare Prompt Costs with Branch...".

HEAD's side of a file is made on the analysis workers (review.head) when the file is opened and looked
up after that; a hover never waits for git, it shows the line once it is there.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer  # command handlers' type hints are read at run time

from .commands import parse_args
from .documents import uri_to_path
from .workspace import REQUEST_FAILED

if TYPE_CHECKING:
    from ..review.git import Repo
    from ..review.head import HeadCosts
    from .documents import Snapshot
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

LIST_BRANCHES = "promptwise.listBranches"
COMPARE_COSTS = "promptwise.compareCosts"
COMMANDS = (LIST_BRANCHES, COMPARE_COSTS)
# How long the status bar's breakdown waits for HEAD's side the first time; after that it is known.
HEAD_WAIT = 3.0


@attrs.define
class FolderArgs:
    """`{uri?}`: a document or folder whose workspace folder is meant; without it, the first folder."""

    uri: str | None = None


@attrs.define
class CompareArgs:
    """`{base?, uri?}`: the branch or commit to compare with (default: what `promptwise diff` uses)."""

    base: str | None = None
    uri: str | None = None


def register(server: PromptwiseServer) -> None:
    server.command(LIST_BRANCHES)(list_branches)
    server.command(COMPARE_COSTS)(compare_costs)


def _costs(ls: PromptwiseServer) -> HeadCosts | None:
    """The server's HEAD sides, made on its analysis workers; set up on first use (git and the review
    engine are not imported at start-up)."""
    costs = getattr(ls, "head_costs", None)
    if costs is None and hasattr(ls, "analyzer"):
        from ..review.head import HeadCosts

        costs = ls.head_costs = HeadCosts(ls.analyzer.workers.submit)  # type: ignore[attr-defined]
    return costs


def _on_disk(uri: str) -> Path | None:
    return uri_to_path(uri) if uri.startswith("file:") else None


def _overrides(ls: PromptwiseServer) -> dict[str, Any] | None:
    return ls.state.settings.overrides() or None


def opened(ls: PromptwiseServer, uri: str) -> None:
    """Start making HEAD's side of a file the editor opened, so its first hover already has it: after
    the file's own first analysis (its hints come first) and with the editor's settings known."""
    path = _on_disk(uri)
    if path is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # the server's parts used without a message loop
        costs = _costs(ls)
        if costs is not None:
            costs.lookup(path, _overrides(ls))
        return
    task = loop.create_task(_after_first_analysis(ls, uri, path))
    ls.background.add(task)
    task.add_done_callback(ls.background.discard)


async def _after_first_analysis(ls: PromptwiseServer, uri: str, path: Path) -> None:
    try:
        await ls.analysis(uri)
    except asyncio.CancelledError:  # edited meanwhile (or closed): the first hover starts it if still open
        if ls.state.get(uri) is None:
            return
    except Exception:
        log.debug("analysis before HEAD's side failed for %s", uri, exc_info=True)
    costs = _costs(ls)  # the review engine is imported here, after the file's first answers
    if costs is not None:
        costs.lookup(path, _overrides(ls))


def saved(ls: PromptwiseServer, uri: str) -> None:
    """A save is a moment to look again where there was no repository (a `git init` since)."""
    costs, path = _costs(ls), _on_disk(uri)
    if costs is not None and path is not None:
        costs.retry(path)
        costs.lookup(path, _overrides(ls))


def head_line(ls: PromptwiseServer, snap: Snapshot) -> str | None:
    """The hover's change line if HEAD's side is ready now (never waits; never raises)."""
    costs, path = _costs(ls), _on_disk(snap.uri)
    if costs is None or path is None or snap.analysis is None:
        return None
    from ..review.head import change_against

    try:
        change = change_against(costs.known(path, _overrides(ls)), snap.analysis)
    except Exception:  # the rest of the hover is worth more than this line
        log.exception("the change against HEAD failed for %s", snap.uri)
        return None
    return change.line() if change is not None else None


async def head_change(ls: PromptwiseServer, snap: Snapshot, wait: float = HEAD_WAIT) -> dict[str, Any] | None:
    """The change against HEAD as data for the status bar tooltip, waiting a little for HEAD's side."""
    costs, path = _costs(ls), _on_disk(snap.uri)
    if costs is None or path is None or snap.analysis is None:
        return None
    from ..review.head import NoBase, change_against

    try:
        future = costs.lookup(path, _overrides(ls))
        base = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait)
        if isinstance(base, NoBase):
            log.debug("no change against HEAD for %s: %s", snap.uri, base.reason)
        change = change_against(base, snap.analysis)
    except asyncio.TimeoutError:
        return None  # still being made: the next update has it
    except Exception:
        log.exception("the change against HEAD failed for %s", snap.uri)
        return None
    return change.to_json() if change is not None else None


# ---- Compare Prompt Costs with Branch... ----


def _folder(ls: LanguageServer, uri: str | None) -> Path:
    """The workspace folder the command is for: the one holding `uri`, else the first one open."""
    folders = [Path(os.path.abspath(f)) for f in ls.folders]  # type: ignore[attr-defined]
    if uri:
        path = Path(os.path.abspath(uri_to_path(uri)))
        inside = [f for f in folders if path == f or f in path.parents]
        if inside:
            return max(inside, key=lambda f: len(f.parts))
        return path if path.is_dir() else path.parent
    if folders:
        return folders[0]
    raise JsonRpcException("open a folder first: the comparison is made for a workspace folder's git repository", code=REQUEST_FAILED)


def _repo(folder: Path) -> Repo:
    from ..review.git import GitError, Repo

    try:
        return Repo.find(folder)
    except GitError as exc:
        raise JsonRpcException(f"{folder} is not in a git repository, so there is no branch to compare with ({exc})", code=REQUEST_FAILED) from None


async def list_branches(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    request: FolderArgs = parse_args(FolderArgs, args) if args else FolderArgs()
    folder = _folder(ls, request.uri)
    from ..review.git import GitError
    from ..review.head import branch_choices

    def listed() -> dict[str, Any]:
        with _repo(folder) as repo:
            try:
                choices = branch_choices(repo)
            except GitError as exc:
                raise JsonRpcException(f"cannot list the branches of {repo.root}: {exc}", code=REQUEST_FAILED) from None
            return {"folder": str(folder), "root": str(repo.root), "branches": [asdict(c) for c in choices]}

    return await ls.analyzer.run(listed)  # type: ignore[attr-defined]


async def compare_costs(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    request: CompareArgs = parse_args(CompareArgs, args) if args else CompareArgs()
    folder = _folder(ls, request.uri)
    from ..review.git import GitError

    try:
        from ..review.compare import compare
        from ..review.report import to_markdown
    except ImportError:
        raise JsonRpcException("this promptwise has no cost comparison (promptwise diff); update the promptwise package", code=REQUEST_FAILED) from None

    def compared() -> dict[str, Any]:
        with _repo(folder) as repo:
            inside = _within(folder, repo.root)
            paths = () if inside == "." else (inside,)
            try:
                comparison = compare(repo, base=request.base or None, paths=paths)
            except GitError as exc:
                raise JsonRpcException(f"cannot compare with {request.base or 'the default base'}: {exc}", code=REQUEST_FAILED) from None
            return {"folder": str(folder), "root": str(repo.root), "base": request.base, "markdown": to_markdown(comparison)}

    return await ls.analyzer.run(compared)  # type: ignore[attr-defined]


def _within(folder: Path, root: Path) -> str:
    try:
        return Path(os.path.realpath(folder)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return "."
