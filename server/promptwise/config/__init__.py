"""Project settings from `promptwise.toml` or `[tool.promptwise]` in pyproject.toml, found by walking up."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationError

from ..access import read_bytes, workspace_folder
from .. import formats
from ..formats import glob_match
from ..catalog.aliases import did_you_mean, keys_at
from .positions import locate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_USER = "~/.config/promptwise/config.toml"
MAX_CONFIG_BYTES = 2 * 1024 * 1024
MAX_CONFIG_DEPTH = 32

Capability = Literal["tools", "vision", "json", "reasoning", "prompt_caching", "system_messages", "pdf"]
TokenizerName = Literal["o200k_base", "cl100k_base", "p50k_base", "claude", "deepseek"]


class ModelSettings(BaseModel):
    """A model added to the catalog or overriding litellm's entry (private deployments, negotiated prices)."""

    model_config = ConfigDict(extra="forbid")

    provider: Optional[str] = Field(None, description="Provider name as litellm spells it, e.g. `openai`.")
    input_cost_per_million: Optional[float] = Field(None, ge=0, description="USD per million input tokens.")
    output_cost_per_million: Optional[float] = Field(None, ge=0, description="USD per million output tokens.")
    cache_read_cost_per_million: Optional[float] = Field(None, ge=0, description="USD per million input tokens read from the prompt cache.")
    cache_write_cost_per_million: Optional[float] = Field(None, ge=0, description="USD per million input tokens written to the prompt cache.")
    deprecation_date: Optional[str] = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="ISO date the model retires.")
    context_window: Optional[int] = Field(None, ge=1, description="Maximum input tokens.")
    max_output_tokens: Optional[int] = Field(None, ge=1)
    tokenizer: Optional[TokenizerName] = Field(None, description="Tokenizer to count with.")
    supports: Optional[list[Capability]] = Field(None, description="Capabilities this model has.")
    mode: Optional[Literal["chat", "completion", "embedding"]] = None
    api_base: Optional[str] = Field(None, description=f"Ignored here: where calls go is set in the user config ({_USER}).")
    api_key_env: Optional[str] = Field(None, description=f"Ignored here: which variable's key is sent is set in the user config ({_USER}).")
    litellm_model: Optional[str] = Field(None, description=f"Ignored here: set in the user config ({_USER}).")


ServiceTier = Literal["standard", "batch", "flex", "priority"]
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class CacheRuleSettings(BaseModel):
    """Overrides of a provider's prompt-caching rule (`[caching."anthropic"]`), for when a provider changes it."""

    model_config = ConfigDict(extra="forbid")

    automatic: Optional[bool] = Field(None, description="Whether the provider caches prefixes without a breakpoint.")
    min_prefix: Optional[int] = Field(None, ge=0, description="Shortest prefix, in tokens, the provider caches.")
    increment: Optional[int] = Field(None, ge=1, description="Cache hits come in multiples of this many tokens past the minimum.")
    writes: Optional[bool] = Field(None, description="Whether writing a prefix to the cache is charged (at the price map's cache write price).")
    lifetime_minutes: Optional[int] = Field(None, ge=1, description="Minutes an unused prefix stays cached.")


class EvalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    judge_model: Optional[str] = Field(None, description="Model that grades `llm-rubric` assertions.")
    embedding_model: Optional[str] = Field(None, description="Model for `similar` assertions.")
    concurrency: int = Field(8, ge=1, le=1000, description="Model calls in flight at once.")
    timeout: float = Field(60.0, gt=0, description="Seconds before a model call times out.")
    retries: int = Field(3, ge=0, le=20, description="Retries on 429 and 5xx responses.")
    api_base: Optional[str] = Field(None, description=f"Ignored here: a gateway for eval calls is set in the user config ({_USER}) or with --api-base.")
    api_key_env: Optional[str] = Field(None, description=f"Ignored here: set in the user config ({_USER}) or with --api-key-env.")
    cache_dir: Optional[str] = Field(None, description="Where responses are cached (default .promptwise/cache).")
    retry_backoff: float = Field(
        1.0, ge=0, le=60, description="Seconds before the first retry when the provider sends no Retry-After; doubles each retry."
    )
    max_spend: Optional[float] = Field(
        None, ge=0, description="USD: a run whose estimate (before any call, cached responses left out) is above this is refused; `eval --max-spend` overrides it."
    )
    confirm_above_usd: float = Field(
        0.50, ge=0, description="USD: the editor asks before starting an eval run whose estimate is above this; it may only lower the user's threshold (default 0.50, `confirm_above_usd` under [evals] in the user config)."
    )


class Config(BaseModel):
    """promptwise settings: `[tool.promptwise]` in pyproject.toml, or the top level of promptwise.toml."""

    model_config = ConfigDict(extra="forbid")

    default_model: str = Field("gpt-4o-mini", description="Model for files that do not name one.")
    expected_output_tokens: int = Field(
        500, ge=0, description="Output tokens reserved and priced per call when a file sets no max output."
    )
    warn_at: float = Field(0.8, gt=0, le=1, description="Share of the budget at which near-budget warns.")
    budgets: dict[str, PositiveInt] = Field(
        default_factory=dict,
        description="Glob (relative to the config file) to maximum input tokens per call; later globs win.",
    )
    allowed_providers: Optional[list[str]] = Field(
        None, description="Providers model suggestions may use (default: current provider plus keys in the environment)."
    )
    plain_prompts: list[str] = Field(
        default_factory=lambda: ["prompts/**/*.txt", "prompts/**/*.md"],
        description="Globs of plain-text prompts counted as one user message.",
    )
    exclude: list[str] = Field(
        default_factory=lambda: ["node_modules/**", ".venv/**", "venv/**", ".git/**", "**/node_modules/**"],
        description="Globs `promptwise check` skips when searching folders.",
    )
    duplicate_min_chars: int = Field(60, ge=1, description="Shortest paragraph reported when duplicated.")
    section_min_tokens: int = Field(
        400, ge=1, description="Messages of at least this many tokens get a hint on each Markdown heading (instruction files always do)."
    )
    max_file_size: int = Field(8 * 1024 * 1024, ge=1024, description="Bytes above which a file is not analyzed.")
    models: dict[str, ModelSettings] = Field(default_factory=dict, description="Models to add or override.")
    service_tier: ServiceTier = Field("standard", description="Service tier whose prices apply: standard, batch, flex or priority.")
    reasoning: dict[Effort, NonNegativeInt] = Field(
        default_factory=dict,
        description="Reasoning tokens to expect per call at each effort, in place of the assumed defaults (measured eval usage still comes first).",
    )
    budgets_usd: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Glob (relative to the config file) to maximum cost per call in USD; later globs win.",
    )
    budgets_usd_per_month: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Glob (relative to the config file) to maximum projected spend per month in USD (needs a volume); later globs win.",
    )
    volumes: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Glob (relative to the config file) to calls per day, to project spend per month; later globs win.",
    )
    caching: dict[str, CacheRuleSettings] = Field(
        default_factory=dict, description="Per-provider overrides of the prompt-caching rules promptwise applies."
    )
    suggest_min_days_left: int = Field(
        90, ge=0, description="Model suggestions leave out models retiring within this many days."
    )
    evals: EvalSettings = Field(default_factory=EvalSettings)


@dataclass
class ConfigProblem:
    path: Path
    key: str
    message: str
    line: int = 0  # zero-based
    column: int = 0  # zero-based, in characters of the line


@dataclass
class LoadedConfig:
    settings: Config
    path: Path | None = None
    problems: list[ConfigProblem] = field(default_factory=list)
    catalog: Any = field(default=None, repr=False)  # the catalog with these overrides, built on first use
    base: Path | None = None  # without a config file: the workspace folder of the file it is for

    @property
    def root(self) -> Path:
        """Where globs are relative to and runs are kept: the config's folder, else the file's workspace
        folder (not the working folder: the editor starts the server outside the workspace)."""
        if self.path:
            return self.path.parent
        return self.base or Path.cwd()

    def relative(self, path: Path) -> str | None:
        try:
            return Path(os.path.realpath(path)).relative_to(os.path.realpath(self.root)).as_posix()
        except ValueError:
            return None

    def budget_for(self, path: Path) -> tuple[int | None, str | None]:
        """The budget the last matching glob gives, and that glob."""
        return self._last_match(self.settings.budgets, path)

    def cost_budget_for(self, path: Path) -> tuple[float | None, str | None]:
        """The dollars per call the last matching `[budgets_usd]` glob allows, and that glob."""
        return self._last_match(self.settings.budgets_usd, path)

    def monthly_cost_budget_for(self, path: Path) -> tuple[float | None, str | None]:
        """The dollars per month the last matching `[budgets_usd_per_month]` glob allows, and that glob."""
        return self._last_match(self.settings.budgets_usd_per_month, path)

    def volume_for(self, path: Path) -> tuple[float | None, str | None]:
        """The calls per day the last matching `[volumes]` glob gives, and that glob."""
        return self._last_match(self.settings.volumes, path)

    def _last_match(self, table: dict[str, Any], path: Path) -> tuple[Any, str | None]:
        if not table:
            return None, None  # no realpath on every keystroke for a table nobody set
        relative = self.relative(path)
        if relative is None:
            return None, None
        found: tuple[Any, str | None] = (None, None)
        for pattern, value in table.items():
            try:
                if glob_match(relative, pattern):
                    found = (value, pattern)
            except Exception:  # reported when the config was loaded; a bad glob never stops a check
                continue
        return found


def find_config_file(start: Path) -> Path | None:
    """The nearest promptwise.toml, or pyproject.toml with [tool.promptwise], from `start` up to the top of
    its git repository (or up to `/` outside one)."""
    directory = start if start.is_dir() else start.parent
    directory = Path(os.path.realpath(directory))  # never raises on a symlink loop, unlike resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "promptwise.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data, why = read_bytes(pyproject, MAX_CONFIG_BYTES)
            if data is None and why and "limit" in why:
                return pyproject  # too large to look inside: loading it says so, naming the file
            if data is not None and b"[tool.promptwise" in data:
                return pyproject
        if (folder / ".git").exists():
            break  # the repository's top: a config above it (a shared /tmp, a home folder) is not the project's
    return None


_cache: dict[Path, tuple[float, LoadedConfig]] = {}


def load_config(start: Path, overrides: dict[str, Any] | None = None) -> LoadedConfig:
    """The settings that apply to a file or folder; problems never raise, they fall back to defaults."""
    path = find_config_file(start)
    if path is None:
        loaded = _validate({}, None, overrides)
        loaded.base = workspace_folder(start)
        return loaded
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime and not overrides:
        return cached[1]
    loaded = load_config_file(path, overrides)
    if not overrides:
        _cache[path] = (mtime, loaded)
    return loaded


def load_config_file(path: Path, overrides: dict[str, Any] | None = None) -> LoadedConfig:
    data_bytes, why = read_bytes(path, MAX_CONFIG_BYTES)
    if data_bytes is None:
        return _validate({}, path, overrides, [ConfigProblem(path, "", f"cannot read {path.name}: {why}; its settings were not used")])
    try:
        text = data_bytes.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        return _validate({}, path, overrides, [ConfigProblem(path, "", f"{path.name} is not UTF-8 text: {exc.reason} at byte {exc.start:,}")])
    except RecursionError:
        return _validate({}, path, overrides, [ConfigProblem(path, "", f"{path.name} is nested too deeply to read; its settings were not used")])
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or _line_from_message(str(exc))
        return _validate(
            {}, path, overrides, [ConfigProblem(path, "", f"{path.name} is not valid TOML: {exc}", max(0, line - 1))]
        )
    if too_deep(data, MAX_CONFIG_DEPTH):
        return _validate({}, path, overrides, [ConfigProblem(path, "", f"{path.name} nests more than {MAX_CONFIG_DEPTH} levels deep; its settings were not used")])
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("promptwise", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            return _validate({}, path, overrides, [ConfigProblem(path, "tool.promptwise", "[tool.promptwise] must be a table")])
    return _validate(data, path, overrides, text=text)


def too_deep(value: Any, limit: int) -> bool:
    """True when a parsed value (TOML, JSON) nests deeper than `limit`; iterative, so it cannot overflow."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _line_from_message(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 0


def _validate(
    data: dict[str, Any],
    path: Path | None,
    overrides: dict[str, Any] | None,
    problems: list[ConfigProblem] | None = None,
    text: str = "",
) -> LoadedConfig:
    problems = list(problems or [])
    merged = {**data, **(overrides or {})}
    source = path or Path("<settings>")
    for _ in range(10):
        try:
            settings = Config.model_validate(merged)
            problems.extend(_check_globs(settings, source, text))
            problems.sort(key=lambda p: (p.line, p.column))  # in the file's order, as a linter lists them
            return LoadedConfig(settings, path, problems)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error["loc"]]
                key = ".".join(loc)
                line, column = locate(text, loc, value=error["type"] != "extra_forbidden", pyproject=path is not None and path.name == "pyproject.toml")
                # A did-you-mean for the first problems only: a file of 60,000 typos must not cost a minute.
                problems.append(ConfigProblem(source, key, _describe(error, loc, suggest=len(problems) < _HINTED), line, column))
                _drop(merged, error["loc"])
    return LoadedConfig(Config(), path, problems)


def _check_globs(settings: Config, source: Path, text: str) -> list[ConfigProblem]:
    """A glob that does not compile (`[z-a]`) or whose matcher fails is a problem and is dropped: never an abort."""
    found: list[ConfigProblem] = []

    explain = getattr(formats, "glob_problem", None)
    pyproject = source.name == "pyproject.toml"

    def bad(pattern: str) -> str | None:
        try:
            glob_match("probe/file.md", pattern)
            why = explain(pattern) if explain is not None else None
        except Exception as exc:  # whatever the matcher raises for this pattern
            return f"{type(exc).__name__}: {str(exc)[:120]}"
        return why[:160] if why else None

    tables = ((settings.budgets, "budgets", "budget"), (settings.budgets_usd, "budgets_usd", "budget"),
              (settings.budgets_usd_per_month, "budgets_usd_per_month", "budget"), (settings.volumes, "volumes", "volume"))
    for table, name, word in tables:
        for pattern in list(table):
            why = bad(pattern)
            if why is not None:
                key = f"{name}.{pattern}"
                line, column = locate(text, [name, pattern], pyproject=pyproject)
                found.append(ConfigProblem(source, key, f"{word} glob {_short(pattern)} is invalid ({why}); it is ignored", line, column))
                del table[pattern]
    for key in ("plain_prompts", "exclude"):
        globs: list[str] = getattr(settings, key)
        for pattern in list(globs):
            why = bad(pattern)
            if why is not None:
                line, column = locate(text, [key], value=True, pyproject=pyproject)
                found.append(ConfigProblem(source, key, f"{key} glob {_short(pattern)} is invalid ({why}); it is ignored", line, column))
                globs.remove(pattern)
    return found


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_HINTED = 100


def _describe(error: dict[str, Any], loc: list[str], suggest: bool = True) -> str:
    key = ".".join(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        fields = _fields_at(loc[:-1]) if suggest else []
        hint = did_you_mean(loc[-1], fields) if fields else ""
        allowed = f" (allowed keys: {', '.join(fields)})" if fields and len(loc) == 1 else ""
        return f"unknown setting '{key}' is ignored{hint}{allowed}"
    ctx = error.get("ctx") or {}
    allowed = ""
    if "expected" in ctx:
        allowed = f"; allowed: {ctx['expected']}"
    elif "gt" in ctx or "ge" in ctx or "le" in ctx or "lt" in ctx:
        bounds = ", ".join(f"{k} {v}" for k, v in ctx.items() if k in ("gt", "ge", "lt", "le"))
        allowed = f"; allowed: {bounds}"
    if len(loc) == 2 and loc[0] in _GLOB_TABLES:
        # A glob's value has no default of its own: the glob is left out, as if it were not set.
        return f"{loc[0]}[{_short(loc[1])}]: {error['msg']} (got {_short(error.get('input'))}){allowed}; this glob is ignored"
    return f"'{key}': {error['msg']} (got {_short(error.get('input'))}){allowed}; using the default instead"


_GLOB_TABLES = {
    "budgets": "budget",
    "budgets_usd": "budget in USD per call",
    "budgets_usd_per_month": "budget in USD per month",
    "volumes": "calls per day",
}


def _fields_at(loc: list[str]) -> list[str]:
    """The keys the settings table at `loc` takes (`[]`: Config's own, `["evals"]`: EvalSettings'), for did-you-mean."""
    return keys_at(Config, loc)


def _drop(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    target: Any = data
    for part in loc[:-1]:
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and isinstance(part, int) and part < len(target):
            target = target[part]
        else:
            break
    else:
        if isinstance(target, dict):
            target.pop(loc[-1], None)
            return
        if isinstance(target, list) and isinstance(loc[-1], int) and loc[-1] < len(target):
            target.pop(loc[-1])
            return
    if loc and isinstance(data, dict):
        data.pop(loc[0], None)
