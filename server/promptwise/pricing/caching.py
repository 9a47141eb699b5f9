"""Prompt caching, per provider: which prefix of a request is cached, from each provider's published rules.

One table, so a rule that changes is one line here (or `[caching."provider"]` in config, without a release).
Prices never live here: cache read and write prices come from the price map's fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..catalog import ModelCard


@dataclass(frozen=True)
class CacheRule:
    provider: str
    automatic: bool  # caches the longest matching prefix without a breakpoint in the request
    min_prefix: int  # below this many tokens nothing is cached (and nothing fails)
    increment: int  # hits past the minimum come in multiples of this many tokens
    writes: bool  # whether the provider charges for writing a prefix to the cache (priced by the map's cache_creation field)
    source: str  # where the rule is published
    lifetime_minutes: int = 5  # how long an unused prefix stays cached, by default
    max_breakpoints: int | None = None

    def cached(self, prefix_tokens: int) -> int:
        """Tokens of a `prefix_tokens`-long stable prefix a repeated call reads from the cache."""
        if prefix_tokens < max(self.min_prefix, 1):
            return 0
        steps = (prefix_tokens - self.min_prefix) // self.increment
        return self.min_prefix + steps * self.increment


_OPENAI = CacheRule(
    "openai",
    automatic=True,
    min_prefix=1024,
    increment=128,
    writes=False,
    # "works automatically for prompts containing 1024 tokens or more, with cache hits occurring in increments of 128 tokens"
    source="OpenAI prompt caching guide (platform.openai.com/docs/guides/prompt-caching)",
)
_ANTHROPIC = CacheRule(
    "anthropic",
    automatic=False,
    min_prefix=1024,
    increment=1,
    writes=True,
    # cache_control breakpoints (at most 4), or one top-level cache_control; 5-minute writes 1.25x, reads 0.1x.
    source="Anthropic prompt caching docs (docs.claude.com/en/docs/build-with-claude/prompt-caching)",
    max_breakpoints=4,
)
_GEMINI = CacheRule(
    "gemini",
    automatic=True,
    min_prefix=2048,
    increment=1,
    writes=False,
    # Implicit caching on Gemini 2.5 and later; the minimum differs by model (the price map's
    # prompt_cache_min_tokens where it lists one).
    source="Gemini API context caching docs (ai.google.dev/gemini-api/docs/caching)",
)
_DEEPSEEK = CacheRule(
    "deepseek",
    automatic=True,
    min_prefix=64,
    increment=64,
    writes=False,
    # Context caching on disk, in 64-token units; a prefix under 64 tokens is not cached.
    source="DeepSeek context caching docs (api-docs.deepseek.com/guides/kv_cache)",
)
# litellm's provider names -> the rule that applies.
RULES: dict[str, CacheRule] = {
    "openai": _OPENAI,
    "azure": replace(_OPENAI, provider="azure", source="Azure OpenAI prompt caching docs (same rule as OpenAI)"),
    "text-completion-openai": _OPENAI,
    "anthropic": _ANTHROPIC,
    "bedrock": replace(_ANTHROPIC, provider="bedrock"),
    "bedrock_converse": replace(_ANTHROPIC, provider="bedrock"),
    "vertex_ai-anthropic_models": replace(_ANTHROPIC, provider="vertex_ai"),
    "gemini": _GEMINI,
    "vertex_ai-language-models": replace(_GEMINI, provider="vertex_ai"),
    "deepseek": _DEEPSEEK,
}
# Claude generations whose minimum cacheable prefix is not 1,024 (Anthropic's table), when the map lists none.
_CLAUDE_MINIMUMS = ((re.compile(r"opus-4-[5-9]|haiku-4-5"), 4096), (re.compile(r"haiku-3|3-5-haiku|3-haiku"), 2048))
_GEMINI_MINIMUMS = ((re.compile(r"2\.5-flash(?!-lite)"), 1024),)
ASSUMED_SOURCE = "no published rule in promptwise's table for this provider: assumed automatic above 1,024 tokens"


_MEMO: dict[tuple[int, int], tuple[ModelCard, Any, CacheRule | None]] = {}


def rule_for(card: ModelCard, overrides: Mapping[str, Any] | None = None) -> CacheRule | None:
    """The caching rule for a model, or None when its price map entry has no cache read price.
    Asked on every keystroke: remembered per card and overrides object (both live as long as the config)."""
    key = (id(card), id(overrides))
    found = _MEMO.get(key)
    if found is not None and found[0] is card and found[1] is overrides:
        return found[2]
    rule = _rule_for(card, overrides)
    if len(_MEMO) > 512:
        _MEMO.clear()
    _MEMO[key] = (card, overrides, rule)
    return rule


def _rule_for(card: ModelCard, overrides: Mapping[str, Any] | None) -> CacheRule | None:
    if card.prices.get("cache_read_input_token_cost") is None and card.cache_read_cost_per_token is None:
        return None
    rule = RULES.get(card.provider)
    if rule is None:
        rule = CacheRule(card.provider or "unknown", True, 1024, 1, False, ASSUMED_SOURCE)
    name = card.name.lower()
    if card.prompt_cache_min_tokens:
        rule = replace(rule, min_prefix=card.prompt_cache_min_tokens, source=rule.source + "; minimum from the price map's prompt_cache_min_tokens")
    else:
        table = _CLAUDE_MINIMUMS if "claude" in name else _GEMINI_MINIMUMS if "gemini" in name else ()
        for pattern, minimum in table:
            if pattern.search(name):
                rule = replace(rule, min_prefix=minimum)
                break
    override = (overrides or {}).get(rule.provider) or (overrides or {}).get(card.provider)
    if override is not None:
        changes = {k: v for k, v in override.model_dump(exclude_none=True).items()}
        if changes:
            rule = replace(rule, **changes, source=f"{rule.source}; changed by [caching.\"{rule.provider}\"] in config")
    return rule
