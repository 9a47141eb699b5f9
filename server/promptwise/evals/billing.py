"""What one eval call used, as the provider reported it through litellm, and what it cost under the cost model.

litellm hands every provider's usage back in OpenAI's shape: `prompt_tokens` (cached and written tokens
included), `prompt_tokens_details.cached_tokens`, `completion_tokens` (reasoning included) and
`completion_tokens_details.reasoning_tokens`. For Anthropic it also keeps `cache_read_input_tokens` and
`cache_creation_input_tokens` on the usage object and mirrors the write into
`prompt_tokens_details.cache_write_tokens` (`litellm/types/utils.py`, `Usage.__init__`;
`llms/anthropic/chat/transformation.py` adds both to `prompt_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import ModelCard
from ..pricing import SERVICE_TIERS, CallCost, Usage, price_usage


@dataclass(frozen=True)
class CallTokens:
    prompt_tokens: int | None = None  # every input token, cached and written ones included
    completion_tokens: int | None = None  # reasoning included, as providers bill it
    cached_tokens: int | None = None  # of the prompt tokens, read from the provider's prompt cache
    cache_write_tokens: int | None = None  # of the prompt tokens, written to it (Anthropic-style caches)
    reasoning_tokens: int | None = None  # of the completion tokens, hidden reasoning

    @property
    def output_tokens(self) -> int | None:
        """Visible output: completion minus reasoning."""
        if self.completion_tokens is None:
            return None
        return max(0, self.completion_tokens - (self.reasoning_tokens or 0))


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    try:
        return getattr(obj, name, None)
    except Exception:  # litellm's models raise on some missing attributes
        return None


def _count(value: Any) -> int | None:
    # bool is an int: a provider's flag is not a count
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return None
    return int(value)


def tokens_of(usage: Any) -> CallTokens:
    """The token details of a litellm usage object (or its dict form); missing details are None."""
    if usage is None:
        return CallTokens()
    prompt_details = _get(usage, "prompt_tokens_details")
    completion_details = _get(usage, "completion_tokens_details")
    cached = _count(_get(prompt_details, "cached_tokens"))
    if cached is None:
        cached = _count(_get(usage, "cache_read_input_tokens"))
    written = _count(_get(prompt_details, "cache_write_tokens"))
    if written is None:
        written = _count(_get(prompt_details, "cache_creation_tokens"))
    if written is None:
        written = _count(_get(usage, "cache_creation_input_tokens"))
    return CallTokens(
        prompt_tokens=_count(_get(usage, "prompt_tokens")),
        completion_tokens=_count(_get(usage, "completion_tokens")),
        cached_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=_count(_get(completion_details, "reasoning_tokens")),
    )


def price_call(card: ModelCard | None, tokens: CallTokens, service_tier: str = "standard") -> CallCost | None:
    """The call's cost as named parts at `service_tier`'s prices; None when the model or its usage is unpriced."""
    if card is None or not card.priced or tokens.prompt_tokens is None:
        return None
    tier = service_tier if service_tier in SERVICE_TIERS else "standard"
    usage = Usage(
        input_tokens=tokens.prompt_tokens,
        cached_tokens=tokens.cached_tokens or 0,
        cache_write_tokens=tokens.cache_write_tokens or 0,
        output_tokens=tokens.output_tokens or 0,
        reasoning_tokens=tokens.reasoning_tokens or 0,
    )
    try:
        return price_usage(card, usage, tier)
    except Exception:  # a price map entry of the wrong type costs the figure, not the run
        return None
