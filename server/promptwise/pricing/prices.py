"""Which price-map field prices each part of a call: service tier, long-context tier, cache read and write.

Field names are the price map's own (litellm's `model_prices_and_context_window.json`): a base name,
then `_above_<N>k_tokens` for a long-context tier, then `_batches`, `_flex` or `_priority` for a service
tier, e.g. `cache_read_input_token_cost_above_200k_tokens_priority`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalog import ModelCard

SERVICE_TIERS = {"standard": "", "batch": "_batches", "flex": "_flex", "priority": "_priority"}
# The base field of each part of a call.
BASE_FIELDS = {
    "input": "input_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "output": "output_cost_per_token",
    "reasoning": "output_cost_per_reasoning_token",
}
_THRESHOLD = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


@dataclass(frozen=True)
class UnitPrice:
    price: float  # USD per token
    field: str  # the price-map field it came from
    note: str | None = None  # why it is not the field asked for (a tier the map does not price)


def long_context_thresholds(card: ModelCard) -> list[int]:
    """Input sizes (tokens) above which the map reprices the whole request, smallest first."""
    found = {int(m.group(1)) * 1000 for k in card.prices if (m := _THRESHOLD.match(k))}
    return sorted(found)


def long_context_tier(card: ModelCard, input_tokens: int) -> int | None:
    """The threshold the request crosses (the largest one below its input), or None."""
    crossed = [t for t in long_context_thresholds(card) if input_tokens > t]
    return crossed[-1] if crossed else None


_MEMO: dict[tuple[int, str, str, int | None], tuple[ModelCard, UnitPrice | None]] = {}


def unit_price(card: ModelCard, part: str, service_tier: str = "standard", above: int | None = None) -> UnitPrice | None:
    """The price of one token of `part`, at the service tier and long-context tier; None when the map has none.

    A tier the map does not price for this part falls back to the standard price, with a note saying so:
    the figure is then the list price, not a guess at a discount. Asked several times a keystroke, so
    remembered per card (cards are immutable and live as long as their catalog)."""
    key = (id(card), part, service_tier, above)
    found = _MEMO.get(key)
    if found is not None and found[0] is card:
        return found[1]
    price = _unit_price(card, part, service_tier, above)
    if len(_MEMO) > 4096:
        _MEMO.clear()
    _MEMO[key] = (card, price)
    return price


def _unit_price(card: ModelCard, part: str, service_tier: str, above: int | None) -> UnitPrice | None:
    base = BASE_FIELDS[part]
    tier = SERVICE_TIERS.get(service_tier, "")
    long = f"_above_{above // 1000}k_tokens" if above else ""
    candidates = [(base + long + tier, None)]
    if tier:
        candidates.append((base + long, f"no {service_tier} price for this part; standard price"))
    if long:
        candidates.append((base + tier, f"no long-context price for this part; the price below {above:,} tokens"))
        if tier:
            candidates.append((base, f"no {service_tier} or long-context price for this part; standard price"))
    for name, note in candidates:
        price = card.prices.get(name)
        if price is not None:
            return UnitPrice(price, name, note)
    # Config overrides and older cards keep their list prices on the card itself.
    legacy = {"input": card.input_cost_per_token, "output": card.output_cost_per_token, "cache_read": card.cache_read_cost_per_token}
    if legacy.get(part) is not None:
        return UnitPrice(legacy[part], base, "list price" if (tier or long) else None)  # type: ignore[arg-type]
    return None
