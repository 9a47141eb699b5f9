"""What one call costs: named parts, each with its tokens, its unit price and the field that price came from.

```
uncached input x input price        + cached input x cache read price
+ cache write x cache write price   (the first call, where the provider charges for writing)
+ visible output x output price     + reasoning x reasoning price (the output price where none is listed)
```
The long-context tier the request's input crosses reprices every part; the service tier picks the
`_batches`, `_flex` or `_priority` prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import ModelCard
from .prices import UnitPrice, long_context_tier, unit_price

PART_NAMES = {
    "input": "input",
    "cache_read": "cached input",
    "cache_write": "cache write",
    "output": "output",
    "reasoning": "reasoning",
}


@dataclass(frozen=True)
class Usage:
    """The tokens of one call, as a provider reports them."""

    input_tokens: int  # every input token, cached ones included
    cached_tokens: int = 0  # of those, read from the cache
    cache_write_tokens: int = 0  # of those, written to the cache
    output_tokens: int = 0  # visible output
    reasoning_tokens: int = 0  # hidden reasoning, billed as output


@dataclass(frozen=True)
class CostPart:
    part: str  # a key of PART_NAMES
    tokens: int
    unit_price: float  # USD per token
    price_field: str  # the price-map field, e.g. "cache_read_input_token_cost"
    source: str = "counted"  # where the token figure comes from: counted, measured over N calls, configured, assumed
    note: str | None = None  # why the price is not the one asked for

    @property
    def name(self) -> str:
        return PART_NAMES[self.part]

    @property
    def cost(self) -> float:
        return self.tokens * self.unit_price


@dataclass(frozen=True)
class CallCost:
    parts: tuple[CostPart, ...]
    service_tier: str = "standard"
    long_context: int | None = None  # the threshold crossed, when the request is repriced above it
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return sum(p.cost for p in self.parts)

    @property
    def input_cost(self) -> float:
        return sum(p.cost for p in self.parts if p.part.startswith(("input", "cache")))

    @property
    def output_cost(self) -> float:
        return sum(p.cost for p in self.parts if p.part in ("output", "reasoning"))

    def tokens(self, part: str) -> int:
        return sum(p.tokens for p in self.parts if p.part == part)

    def to_json(self) -> dict:
        return {
            "total": self.total,
            "service_tier": self.service_tier,
            "long_context_above": self.long_context,
            "parts": [
                {
                    "part": p.part,
                    "tokens": p.tokens,
                    "unit_price": p.unit_price,
                    "cost": p.cost,
                    "price_field": p.price_field,
                    "source": p.source,
                    **({"note": p.note} if p.note else {}),
                }
                for p in self.parts
            ],
            **({"notes": list(self.notes)} if self.notes else {}),
        }


def price_usage(
    card: ModelCard,
    usage: Usage,
    service_tier: str = "standard",
    *,
    output_source: str = "counted",
    reasoning_source: str = "counted",
    long_context: bool = True,
) -> CallCost | None:
    """The cost of one call with these tokens on `card`; None when the map has no input or output price.
    `long_context=False` prices below any long-context tier (to say what crossing one costs)."""
    above = long_context_tier(card, usage.input_tokens) if long_context else None
    parts: list[CostPart] = []
    notes: list[str] = []

    def add(part: str, tokens: int, source: str = "counted", fallback: str | None = None) -> bool:
        if tokens <= 0 and part not in ("input", "output"):
            return True
        price = unit_price(card, part, service_tier, above)
        if price is None and fallback is not None:
            price = unit_price(card, fallback, service_tier, above)
            if price is not None and part != "reasoning":  # reasoning is output wherever the map has no price of its own
                price = UnitPrice(price.price, price.field, f"no {PART_NAMES[part]} price; priced as {PART_NAMES[fallback]}")
        if price is None:
            return False
        parts.append(CostPart(part, max(0, tokens), price.price, price.field, source, price.note))
        return True

    cached = min(usage.cached_tokens, usage.input_tokens)
    written = min(usage.cache_write_tokens, usage.input_tokens - cached)
    if not add("input", usage.input_tokens - cached - written):
        return None
    add("cache_read", cached, fallback="input")
    add("cache_write", written, fallback="input")  # the 5-minute cache; 1-hour writes are not modelled
    if not add("output", usage.output_tokens, output_source):
        return None
    add("reasoning", usage.reasoning_tokens, reasoning_source, fallback="output")
    if above:
        notes.append(f"the input is over {above:,} tokens: every part is at the long-context price")
    notes.extend(sorted({p.note for p in parts if p.note}))
    return CallCost(tuple(parts), service_tier, above, tuple(notes))
