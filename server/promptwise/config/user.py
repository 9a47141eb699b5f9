"""The user's own settings, outside any repository: which hosts calls may go to and which folders may be read.

A repository's `promptwise.toml` is written by whoever wrote the repository, so it may not choose where
a model call (and the key it carries) goes, nor make promptwise read files outside the workspace. Those
decisions live here, in `$XDG_CONFIG_HOME/promptwise/config.toml` (default `~/.config/promptwise/`), or
in the editor's user-scope settings, or on the command line.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

USER_CONFIG_BYTES = 1024 * 1024


class UserModelRoute(BaseModel):
    """Where eval calls to one model go, when not to the provider's own endpoint."""

    model_config = ConfigDict(extra="forbid")

    api_base: Optional[str] = Field(None, description="Base URL for this model's calls, e.g. a local server.")
    api_key_env: Optional[str] = Field(None, description="Environment variable holding the key sent to api_base.")
    litellm_model: Optional[str] = Field(None, description="Model name litellm calls, e.g. `openai/llama3.1`.")


class UserEvalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_base: Optional[str] = Field(None, description="Base URL for all eval calls, e.g. a LiteLLM Proxy.")
    api_key_env: Optional[str] = Field(None, description="Environment variable holding the key sent to api_base.")
    confirm_above_usd: Optional[float] = Field(
        None,
        ge=0,
        description="USD: the editor asks before an eval run whose estimate is above this. A repository's own "
        "evals.confirm_above_usd may only lower it (default 0.50), so a cloned repository cannot skip the question.",
    )


class UserConfig(BaseModel):
    """Settings only the user decides: `~/.config/promptwise/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    allow_read: list[str] = Field(
        default_factory=lambda: ["~/.claude/"],
        description="Folders outside the workspace that prompt files may read (imports, partials, samples, cases).",
    )
    evals: UserEvalSettings = Field(default_factory=UserEvalSettings)
    models: dict[str, UserModelRoute] = Field(default_factory=dict, description="Per-model call destinations.")


@dataclass
class LoadedUserConfig:
    settings: UserConfig
    path: Path | None = None
    problems: list[str] = field(default_factory=list)


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "promptwise" / "config.toml"


_cache: dict[Path, tuple[float, LoadedUserConfig]] = {}


def load_user_config(path: Path | None = None) -> LoadedUserConfig:
    """The user's settings; a missing file gives the defaults, a bad one its problems and the defaults."""
    from ..access import read_bytes

    path = path or user_config_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return LoadedUserConfig(UserConfig(), None)
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    data, error = read_bytes(path, USER_CONFIG_BYTES)
    if data is None:
        loaded = LoadedUserConfig(UserConfig(), path, [f"{path}: {error}"])
    else:
        try:
            loaded = LoadedUserConfig(UserConfig.model_validate(tomllib.loads(data.decode("utf-8"))), path)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            loaded = LoadedUserConfig(UserConfig(), path, [f"{path}: not valid TOML: {exc}"])
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            loaded = LoadedUserConfig(UserConfig(), path, [f"{path}: '{where}': {first['msg']}; using the defaults"])
    _cache[path] = (mtime, loaded)
    return loaded
