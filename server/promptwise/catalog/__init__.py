"""Model catalog: prices, context windows and capabilities from litellm's bundled price map, plus config overrides."""

from __future__ import annotations

import json
import marshal
import os
import re
from datetime import date
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ..tokens.encodings import litellm_dir

PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"
CAPABILITIES = {
    "tools": "supports_function_calling",
    "vision": "supports_vision",
    "json": "supports_response_schema",
    "reasoning": "supports_reasoning",
    "prompt_caching": "supports_prompt_caching",
    "system_messages": "supports_system_messages",
    "pdf": "supports_pdf_input",
}
# Prefixes prompt formats use, mapped to litellm's provider prefixes ("" = no prefix in the map).
_PREFIXES = {
    "openai": "",
    "anthropic": "",
    "googleai": "gemini/",
    "google-genai": "gemini/",
    "gemini": "gemini/",
    "vertexai": "vertex_ai/",
    "vertex_ai": "vertex_ai/",
    "azure": "azure/",
    "azure_openai": "azure/",
    "ollama": "ollama/",
    "mistral": "mistral/",
    "groq": "groq/",
    "deepseek": "deepseek/",
    "bedrock": "bedrock/",
    "openrouter": "openrouter/",
}


@dataclass(frozen=True)
class ModelCard:
    name: str
    provider: str
    mode: str = "chat"
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    cache_read_cost_per_token: float | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    supports: frozenset[str] = field(default_factory=frozenset)
    source: str = ""
    deprecation_date: str | None = None
    tokenizer: str | None = None  # set by config overrides only
    # Every per-token price field of the entry (`input_cost_per_token_batches`, `cache_read_input_token_cost_above_200k_tokens`, ...),
    # by the price map's own names: the cost model picks among them and names the one it used.
    prices: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    prompt_cache_min_tokens: int | None = None  # the map's own minimum cacheable prefix, where it lists one
    default_reasoning_effort: str | None = None

    @property
    def priced(self) -> bool:
        return self.input_cost_per_token is not None and self.output_cost_per_token is not None

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        if not self.priced:
            return None
        return input_tokens * self.input_cost_per_token + output_tokens * self.output_cost_per_token  # type: ignore[operator]

    @property
    def input_per_million(self) -> float | None:
        return None if self.input_cost_per_token is None else self.input_cost_per_token * 1e6

    @property
    def output_per_million(self) -> float | None:
        return None if self.output_cost_per_token is None else self.output_cost_per_token * 1e6


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _card(name: str, entry: dict[str, Any], source: str) -> ModelCard:
    return ModelCard(
        name=name,
        provider=str(entry.get("litellm_provider") or ""),
        mode=str(entry.get("mode") or "chat"),
        input_cost_per_token=_float(entry.get("input_cost_per_token")),
        output_cost_per_token=_float(entry.get("output_cost_per_token")),
        cache_read_cost_per_token=_float(entry.get("cache_read_input_token_cost")),
        context_window=_int(entry.get("max_input_tokens")) or _int(entry.get("max_tokens")),
        max_output_tokens=_int(entry.get("max_output_tokens")),
        supports=frozenset(cap for cap, flag in CAPABILITIES.items() if entry.get(flag) is True),
        source=source,
        deprecation_date=entry.get("deprecation_date") if isinstance(entry.get("deprecation_date"), str) else None,
        prices={k: float(v) for k, v in entry.items() if _PRICE_FIELD.search(k) and _float(v) is not None and v >= 0},
        prompt_cache_min_tokens=_int(entry.get("prompt_cache_min_tokens")),
        default_reasoning_effort=entry.get("default_reasoning_effort") if isinstance(entry.get("default_reasoning_effort"), str) else None,
    )


# Per-token prices only: per-image, per-second and per-query prices are not token prices.
_PRICE_FIELD = re.compile(r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|output_cost_per_reasoning_token)")


def today() -> date:
    """The date deprecations are judged against: `PROMPTWISE_TODAY` (an ISO date, for reproducible CI runs
    and tests, like SOURCE_DATE_EPOCH), else the system's."""
    pinned = os.environ.get("PROMPTWISE_TODAY", "")
    try:
        return date.fromisoformat(pinned) if pinned else date.today()
    except ValueError:
        return date.today()


def litellm_version() -> str:
    base = litellm_dir()
    if base is None:
        return "unknown"
    for dist in base.parent.glob("litellm-*.dist-info"):
        return dist.name[len("litellm-") : -len(".dist-info")]
    return "unknown"


def _bundled_entries() -> tuple[dict[str, bytes], str]:
    """litellm's price map, parsed once and kept in a marshal file beside the tokenizer caches.

    Each model's entry stays marshalled on its own until it is looked up: a prompt needs one or two of
    the thousands of entries, and loading them all as dicts cost the server's first answer ~20 ms.
    """
    base = litellm_dir()
    path = base / PRICE_MAP_FILE if base else None
    if path is None or not path.is_file():
        return {}, "no price map (litellm is not installed)"
    source = f"litellm {litellm_version()} bundled price map"
    stat = path.stat()
    from ..tokens.encodings import _write_quietly, cache_dir

    cached = cache_dir() / f"prices-v2-{litellm_version()}-{stat.st_size}-{stat.st_mtime_ns}.marshal"
    try:
        entries = marshal.loads(cached.read_bytes())
        if isinstance(entries, dict):
            return entries, source
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = {name: marshal.dumps(entry) for name, entry in data.items() if isinstance(entry, dict) and name != "sample_spec"}
    _write_quietly(cached, marshal.dumps(entries))
    # Each install of litellm (a new virtualenv, a CI checkout) has its own mtime: keep one price cache, not one per install.
    for stale in cached.parent.glob("prices-*.marshal"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    return entries, source


class Catalog:
    """Model cards by name; bundled entries become cards only when looked up."""

    def __init__(self, cards: dict[str, ModelCard], raw: dict[str, bytes] | None = None, source: str = "") -> None:
        self._raw = raw or {}
        self._source = source
        self._cards = cards
        self._lower = {k.lower(): k for k in self._raw}
        self._lower.update({k.lower(): k for k in cards})

    @classmethod
    def bundled(cls) -> "Catalog":
        return _bundled_catalog()

    @property
    def cards(self) -> dict[str, ModelCard]:
        """Every card (builds them all; lookups by name do not need this)."""
        for name in self._raw:
            self._card(name)
        return self._cards

    def _card(self, name: str) -> ModelCard | None:
        card = self._cards.get(name)
        if card is None and name in self._raw:
            card = self._cards[name] = _card(name, marshal.loads(self._raw[name]), self._source)
        return card

    def with_overrides(self, overrides: dict[str, Any], source: str) -> "Catalog":
        """Add or change models from config (`[models."name"]` tables)."""
        if not overrides:
            return self
        cards: dict[str, ModelCard] = {}
        for name, spec in overrides.items():
            base = self.resolve(name) or ModelCard(name=name, provider=spec.provider or "custom")
            changes: dict[str, Any] = {"name": name, "source": source}
            if spec.provider:
                changes["provider"] = spec.provider
            prices = dict(base.prices)
            for setting, price_field in _OVERRIDE_PRICES:
                per_million = getattr(spec, setting)
                if per_million is not None:
                    # A negotiated price replaces the map's list price and every tier derived from it.
                    prefix = price_field.split("_cost")[0]
                    prices = {k: v for k, v in prices.items() if not k.startswith(prefix)}
                    prices[price_field] = per_million / 1e6
            changes["prices"] = prices
            if spec.input_cost_per_million is not None:
                changes["input_cost_per_token"] = spec.input_cost_per_million / 1e6
            if spec.output_cost_per_million is not None:
                changes["output_cost_per_token"] = spec.output_cost_per_million / 1e6
            if spec.cache_read_cost_per_million is not None:
                changes["cache_read_cost_per_token"] = spec.cache_read_cost_per_million / 1e6
            if spec.deprecation_date is not None:
                changes["deprecation_date"] = spec.deprecation_date
            if spec.context_window is not None:
                changes["context_window"] = spec.context_window
            if spec.max_output_tokens is not None:
                changes["max_output_tokens"] = spec.max_output_tokens
            if spec.supports is not None:
                changes["supports"] = frozenset(spec.supports)
            if spec.tokenizer is not None:
                changes["tokenizer"] = spec.tokenizer
            if spec.mode is not None:
                changes["mode"] = spec.mode
            cards[name] = replace(base, **changes)
        merged = Catalog({**self._cards, **cards}, self._raw, self._source)
        return merged

    def __len__(self) -> int:
        return len(self._lower)

    def names(self) -> list[str]:
        """Every name the catalog looks up, lower-cased as lookups compare them (for did-you-mean)."""
        return list(self._lower)

    def get(self, name: str) -> ModelCard | None:
        key = self._lower.get(name.lower())
        return self._card(key) if key is not None else None

    def resolve(self, name: str, provider: str | None = None) -> ModelCard | None:
        """Find a model however a prompt file spells it: `gpt-4o`, `openai/gpt-4o`, `GPT-4o`, `googleai/...`,
        or by another name for it (`catalog.aliases`)."""
        for candidate in _spellings(name, provider):
            card = self.get(candidate)
            if card is not None:
                return card
        # Another name for a catalog model: Azure's `gpt-35-turbo`, VS Code's "Claude Sonnet 4".
        from .aliases import alias_targets

        for target in alias_targets(name.rsplit("/", 1)[-1] if "/" in name else name):
            for candidate in _spellings(target, provider):
                card = self.get(candidate)
                if card is not None:
                    return card
        return None

    def chat_models(self) -> Iterable[ModelCard]:
        return (c for c in self.cards.values() if c.mode in ("chat", "responses"))


_OVERRIDE_PRICES = (
    ("input_cost_per_million", "input_cost_per_token"),
    ("output_cost_per_million", "output_cost_per_token"),
    ("cache_read_cost_per_million", "cache_read_input_token_cost"),
    ("cache_write_cost_per_million", "cache_creation_input_token_cost"),
)


@lru_cache(maxsize=1)
def _bundled_catalog() -> Catalog:
    entries, source = _bundled_entries()
    return Catalog({}, entries, source)


def _spellings(name: str, provider: str | None) -> list[str]:
    raw = name.strip()
    display = re.sub(r"\s*\([^)]*\)\s*$", "", raw)  # "GPT-4.1 (copilot)" -> "GPT-4.1"
    names = [raw, display, display.replace(" ", "-")]
    out: list[str] = []
    for n in names:
        out.append(n)
        if "/" in n:
            prefix, rest = n.split("/", 1)
            mapped = _PREFIXES.get(prefix.lower())
            if mapped is not None:
                out.append(mapped + rest)
                out.append(rest)
        elif provider:
            mapped = _PREFIXES.get(provider.lower())
            if mapped:
                out.append(mapped + n)
    seen: set[str] = set()
    return [n for n in out if not (n.lower() in seen or seen.add(n.lower()))]
