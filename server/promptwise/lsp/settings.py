"""Editor settings (`promptwise.*`): typed, every one defaulted, and a clear message for each bad value."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from lsprotocol import types

if TYPE_CHECKING:
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

SECTION = "promptwise"
WATCHED = ("**/promptwise.toml", "**/pyproject.toml", "**/_*.prompt")
PYPROJECT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What the editor can set; `None` means "whatever the config file says"."""

    default_model: str | None = None
    expected_output_tokens: int | None = None
    warn_at: float | None = None
    max_file_size: int | None = None
    budgets: dict[str, int] | None = field(default=None, hash=False)
    inlay_hints: bool = True
    hover: bool = True
    diagnostics: bool = True

    def overrides(self) -> dict[str, Any]:
        """The values to merge over the config file, as Config field names."""
        names = ("default_model", "expected_output_tokens", "warn_at", "max_file_size", "budgets")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def _model(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a model name such as \"gpt-4o-mini\"")
    return value.strip()


def _count(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
            raise ValueError(f"expected a whole number of at least {minimum:,}")
        return int(value)

    return check


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError("expected a share of the budget between 0 and 1, e.g. 0.8")
    return float(value)


def _budgets(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and not isinstance(v, bool) and isinstance(v, int) and v > 0 for k, v in value.items()
    ):
        raise ValueError("expected globs mapped to token counts, e.g. {\"**/*.prompty\": 4000}")
    return dict(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


# Setting name as the editor spells it -> (Settings field, validator).
_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "defaultModel": ("default_model", _model),
    "expectedOutputTokens": ("expected_output_tokens", _count(0)),
    "warnAt": ("warn_at", _share),
    "maxFileSize": ("max_file_size", _count(1024)),
    "budgets": ("budgets", _budgets),
    "inlayHints.enabled": ("inlay_hints", _flag),
    "hover.enabled": ("hover", _flag),
    "diagnostics.enabled": ("diagnostics", _flag),
}
# The config file's snake_case names work too.
_ALIASES = {attr: name for name, (attr, _) in _SETTINGS.items()}


def _flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if name.split(".")[-1] == "budgets" or not isinstance(value, dict):
            flat[name] = value
        else:
            flat.update(_flatten(value, name + "."))
    return flat


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from a `workspace/configuration` answer or initialization options, and what was wrong."""
    if raw is None:
        return Settings(), []
    if not isinstance(raw, dict):
        return Settings(), [f"{SECTION} settings must be an object, not {type(raw).__name__}; using the defaults"]
    if isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _flatten(raw).items():
        name = key[len(SECTION) + 1 :] if key.startswith(SECTION + ".") else key
        name = _ALIASES.get(name, name)
        if name not in _SETTINGS:
            problems.append(f"unknown setting {SECTION}.{name}; it is ignored (known: {', '.join(_SETTINGS)})")
            continue
        if value is None:
            continue
        attr, check = _SETTINGS[name]
        try:
            values[attr] = check(value)
        except ValueError as exc:
            problems.append(f"{SECTION}.{name} = {value!r}: {exc}; using the default instead")
    return Settings(**values), problems


# ---- the LSP side: reading settings, watching config files ----


def register(server: PromptwiseServer) -> None:
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)


def apply(ls: PromptwiseServer, raw: Any, refresh: bool = True) -> bool:
    """Use settings from the editor; bad values fall back to defaults and say so. True when they changed."""
    parsed, problems = parse_settings(raw)
    for problem in problems:
        message = types.ShowMessageParams(type=types.MessageType.Warning, message=f"promptwise: {problem}")
        if ls.supports_configuration and not ls.initialized_done:
            ls.pending_messages.append(message)
        else:
            ls.window_show_message(message)
    changed = ls.state.set_settings(parsed)
    if changed and refresh:
        ls.refresh()
    return changed


async def fetch(ls: PromptwiseServer, refresh: bool = True) -> bool:
    """Ask the client for the `promptwise` section (workspace/configuration)."""
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception as exc:  # a client that fails here still gets a working server
        log.warning("workspace/configuration failed: %s", exc)
        return False
    raw = answer[0] if answer else None
    if raw is None:  # the client has no promptwise section: keep what initializationOptions said
        return False
    return apply(ls, raw, refresh)


async def did_change_configuration(ls: PromptwiseServer, params: types.DidChangeConfigurationParams) -> None:
    if ls.supports_configuration:
        await fetch(ls)
    else:
        apply(ls, params.settings)


def watch_config_files(ls: PromptwiseServer) -> None:
    """Ask the client to report changes to config files and partials, where it can register watchers."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED]
    )
    ls.client_register_capability(
        types.RegistrationParams(
            registrations=[
                types.Registration(
                    id="promptwise-config-files",
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=options,
                )
            ]
        )
    )


def did_change_watched_files(ls: PromptwiseServer, params: types.DidChangeWatchedFilesParams) -> None:
    from .documents import is_config_file, uri_to_path

    for change in params.changes:
        path = uri_to_path(change.uri)
        if not is_config_file(path):
            continue
        if change.type == types.FileChangeType.Deleted:
            ls.reported_configs.pop(path, None)
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=change.uri, diagnostics=[]))
        else:
            check_config_file(ls, path)
    ls.refresh()


def check_config_file(ls: PromptwiseServer, path: Path) -> None:
    """Validate a config file now (it was saved or changed) so its problems show without waiting.
    It is read and parsed on a worker (a repository's config can be huge or deeply nested); its
    problems are sent from the message loop."""
    import asyncio

    from .diagnostics import config_problems

    async def check() -> None:
        try:
            loaded = await ls.analyzer.run(_load_config_file, path)
        except Exception:
            log.exception("checking %s failed", path)
            return
        if loaded is not None and not ls.stopping:
            config_problems(ls, loaded)

    try:
        task = asyncio.ensure_future(check())
    except RuntimeError:  # no event loop (the server's parts used directly)
        loaded = _load_config_file(path)
        if loaded is not None:
            config_problems(ls, loaded)
        return
    ls.background.add(task)
    task.add_done_callback(ls.background.discard)


def _load_config_file(path: Path) -> Any:
    from .. import access
    from ..config import load_config_file

    if path.name == "pyproject.toml":
        # Read within a bound, regular files only: a pyproject.toml can be a FIFO that never ends.
        text, _ = access.read_text(path, PYPROJECT_BYTES)
        if text is None or "[tool.promptwise" not in text:
            return None
    return load_config_file(path)
