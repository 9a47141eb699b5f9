"""The folders the editor opened, what the user (never the repository) allows beyond them, and workspace trust.

Prompt files may only pull in files from the opened folders, plus folders the user allows: the user
config file's `allow_read` and `initializationOptions.user.allowRead`, which the extension sends from
user-scope settings only. Where eval calls go is the user's decision too (`user.evals`); it is kept
on `Workspace.user_evals` for the eval commands. In a workspace the editor does not trust
(`initializationOptions.trusted: false`) counts and findings work, but nothing calls a model.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path

from .. import access

if TYPE_CHECKING:
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803  # LSP RequestFailed
RESTRICTED = (
    "evals are disabled in a restricted workspace: they call models with your API keys, and this folder is "
    "not trusted. Trust the folder (Workspaces: Manage Workspace Trust) to run evals; counts and findings work either way"
)


@dataclass(frozen=True)
class UserEvals:
    """Where eval calls go, as the user set it in user-scope editor settings (None: not set there)."""

    api_base: str | None = None
    api_key_env: str | None = None


def split_options(raw: Any) -> tuple[Any, Any, bool]:
    """initializationOptions as (the `promptwise.*` settings, the `user` part, trusted)."""
    if not isinstance(raw, dict):
        return raw, None, True
    settings = {k: v for k, v in raw.items() if k not in ("user", "trusted")}
    trusted = raw.get("trusted", True)
    return settings, raw.get("user"), trusted is not False


def parse_user(raw: Any) -> tuple[list[str], UserEvals, list[str]]:
    """`{allowRead: [...], evals: {apiBase, apiKeyEnv}}` as (folders, eval destination, problems)."""
    problems: list[str] = []
    if raw is None:
        return [], UserEvals(), problems
    if not isinstance(raw, dict):
        return [], UserEvals(), [f"user settings must be an object, not {type(raw).__name__}; they are ignored"]
    folders: list[str] = []
    allow = raw.get("allowRead", [])
    if not isinstance(allow, list) or not all(isinstance(f, str) for f in allow):
        problems.append("promptwise.allowRead must be a list of folders; it is ignored")
        allow = []
    for folder in allow:
        expanded = os.path.expanduser(folder)
        if not os.path.isabs(expanded):
            problems.append(f"promptwise.allowRead: {folder!r} is not an absolute folder (or ~/...); it is ignored")
        else:
            folders.append(expanded)
    evals = raw.get("evals") or {}
    if not isinstance(evals, dict):
        problems.append("promptwise.evals must be an object with apiBase and apiKeyEnv; it is ignored")
        evals = {}
    values = {}
    for key, attr in (("apiBase", "api_base"), ("apiKeyEnv", "api_key_env")):
        value = evals.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            problems.append(f"promptwise.evals.{key} must be a string; it is ignored")
            continue
        values[attr] = value.strip()
    return folders, UserEvals(**values), problems


def apply_user(ls: PromptwiseServer, raw: Any) -> None:
    """Allow reads from the user's folders (the config file's allow_read plus the editor's allowRead)."""
    from ..config.user import load_user_config

    folders, evals, problems = parse_user(raw)
    ls.state.user_evals = evals
    loaded = load_user_config()
    problems += loaded.problems
    access.set_allowed([*loaded.settings.allow_read, *folders])
    for problem in problems:
        ls.pending_messages.append(types.ShowMessageParams(type=types.MessageType.Warning, message=f"promptwise: {problem}"))


def folders_of(params: types.InitializeParams) -> list[Path]:
    """The workspace folders, else rootUri, else rootPath; only local (file:) ones."""
    if params.workspace_folders:
        return [p for f in params.workspace_folders if (p := _local(f.uri)) is not None]
    if params.root_uri:
        root = _local(params.root_uri)
        return [root] if root is not None else []
    if params.root_path:
        return [Path(params.root_path)]
    return []


def set_folders(ls: PromptwiseServer, folders: Iterable[Path]) -> None:
    ls.folders = list(dict.fromkeys(folders))
    # No folder open (a single file): each file's own project is its workspace.
    access.set_workspace(ls.folders or None)


def did_change_workspace_folders(ls: PromptwiseServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    removed = {p for f in params.event.removed or [] if (p := _local(f.uri)) is not None}
    added = [p for f in params.event.added or [] if (p := _local(f.uri)) is not None]
    set_folders(ls, [*(f for f in ls.folders if f not in removed), *added])
    ls.refresh()  # what an open prompt may include changed


def require_trusted(ls: PromptwiseServer) -> None:
    """Refuse a command that calls a model in a workspace the editor does not trust."""
    if not ls.state.trusted:
        raise JsonRpcException(RESTRICTED, code=REQUEST_FAILED)


def _local(uri: str) -> Path | None:
    if urlparse(uri).scheme != "file":
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None
