"""A prompt's cost per call, cold and warm, per 1,000 calls and per month, with the source of every figure.

Cold: the first call, nothing cached (the prefix is written, where the provider charges for that).
Warm: the stable prefix is read from the cache. Per-call figures are warm whenever the provider would
cache the prefix: instruction files and system prompts are resent on every turn within the cache's lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..catalog import ModelCard
from .caching import CacheRule, rule_for
from .cost import CallCost, Usage, price_usage
from .prices import unit_price
from .reasoning import NO_REASONING, Reasoning

DAYS_PER_MONTH = 30
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Prefix:
    """The request's stable leading part: tools, then system, then messages, up to the first per-call content."""

    tokens: int  # stable leading tokens
    per_call_message: int | None = None  # index of the message where per-call content starts; None when there is none
    per_call_name: str | None = None  # the variable that starts it
    static_after: int = 0  # stable tokens after it, paid in full on every call because of it
    breakpoints: tuple[int, ...] = ()  # request tokens up to each explicit cache breakpoint, in order


@dataclass(frozen=True)
class Estimate:
    cold: CallCost | None
    warm: CallCost | None
    prefix: Prefix
    rule: CacheRule | None
    cached_tokens: int  # read from the cache on a warm call
    write_tokens: int  # written to the cache on a cold call
    rewrite_tokens: int  # written again on every call (a breakpoint after per-call content)
    caching: str  # one line: what is cached and why, or why nothing is
    reasoning: Reasoning
    output_tokens: int
    output_source: str
    calls_per_day: float | None = None
    volume_source: str | None = None

    @property
    def cached(self) -> bool:
        return self.cached_tokens > 0

    @property
    def per_call(self) -> CallCost | None:
        return self.warm if self.cached else self.cold

    def per_calls(self, calls: float, cold_calls: float | None = None) -> float | None:
        """The cost of `calls` calls: `cold_calls` of them cold (default one), the rest warm."""
        if self.cold is None or self.warm is None:
            return None
        if not self.cached:
            return calls * self.cold.total
        cold = min(calls, 1 if cold_calls is None else cold_calls)
        return cold * self.cold.total + (calls - cold) * self.warm.total

    @property
    def per_1000(self) -> float | None:
        return self.per_calls(1000)

    @property
    def cold_calls_per_day(self) -> float | None:
        """Calls a day that find the cache expired, assuming calls spread evenly over the day: with one at
        least every cache lifetime the prefix stays cached (one cold call a day), else every call is cold."""
        if self.calls_per_day is None:
            return None
        lifetime = self.rule.lifetime_minutes if self.rule else 5
        if self.calls_per_day * lifetime >= MINUTES_PER_DAY:
            return min(self.calls_per_day, 1.0)
        return self.calls_per_day

    @property
    def per_month(self) -> float | None:
        if self.calls_per_day is None:
            return None
        days = DAYS_PER_MONTH
        return self.per_calls(self.calls_per_day * days, (self.cold_calls_per_day or 0) * days)

    def warm_total_with(self, card: ModelCard, cached: int, rewrite: int = 0) -> float | None:
        """The warm call's total had `cached` tokens been read from the cache and `rewrite` written again
        (what moving per-call content or adding a breakpoint gives), at this estimate's prices."""
        cold = self.cold
        if cold is None:
            return None
        tier, above = cold.service_tier, cold.long_context
        prices = [unit_price(card, part, tier, above) for part in ("input", "cache_read", "cache_write")]
        if prices[0] is None:
            return None
        p_in = prices[0].price
        p_read = prices[1].price if prices[1] else p_in
        p_write = prices[2].price if prices[2] else p_in
        total_in = cold.tokens("input") + cold.tokens("cache_write")
        cached = min(cached, total_in)
        rewrite = min(rewrite, total_in - cached)
        return (total_in - cached - rewrite) * p_in + cached * p_read + rewrite * p_write + cold.output_cost

    def to_json(self) -> dict[str, Any]:
        return {
            "per_call": self.per_call.total if self.per_call else None,
            "basis": "warm" if self.cached else "cold",
            "cold": self.cold.to_json() if self.cold else None,
            "warm": self.warm.to_json() if self.warm else None,
            "per_1000_calls": self.per_1000,
            "per_month": self.per_month,
            "calls_per_day": self.calls_per_day,
            "calls_per_day_source": self.volume_source,
            "caching": {
                "prefix_tokens": self.prefix.tokens,
                "cached_tokens": self.cached_tokens,
                "write_tokens": self.write_tokens,
                "rule": self.rule.source if self.rule else None,
                "note": self.caching,
            },
            "reasoning": {
                "effort": self.reasoning.effort,
                "tokens": self.reasoning.tokens,
                "kind": self.reasoning.kind,
                "source": self.reasoning.source,
                **({"p95": self.reasoning.p95} if self.reasoning.p95 is not None else {}),
            },
            "output": {"tokens": self.output_tokens, "source": self.output_source},
        }


def estimate_call(
    card: ModelCard,
    input_tokens: int,
    prefix: Prefix,
    output_tokens: int,
    output_source: str,
    reasoning: Reasoning = NO_REASONING,
    service_tier: str = "standard",
    cache_overrides: Mapping[str, Any] | None = None,
    calls_per_day: float | None = None,
    volume_source: str | None = None,
) -> Estimate:
    rule = rule_for(card, cache_overrides)
    cached, write, rewrite, note = _cache_plan(rule, prefix, input_tokens)
    out = dict(output_tokens=output_tokens, reasoning_tokens=reasoning.tokens)
    sources = dict(output_source=output_source, reasoning_source=reasoning.source)
    cold = price_usage(card, Usage(input_tokens, 0, write, **out), service_tier, **sources)
    warm = price_usage(card, Usage(input_tokens, cached, rewrite, **out), service_tier, **sources) if cached else cold
    return Estimate(cold, warm, prefix, rule, cached, write, rewrite, note, reasoning, output_tokens, output_source, calls_per_day, volume_source)


def _cache_plan(rule: CacheRule | None, prefix: Prefix, input_tokens: int) -> tuple[int, int, int, str]:
    """(cached on a warm call, written on a cold call, written on every call, why) under `rule`."""
    if rule is None:
        return 0, 0, 0, "the price map lists no cache price for this model: nothing is cached"
    stable = min(prefix.tokens, input_tokens)
    if rule.automatic:
        cached = rule.cached(stable)
        if not cached:
            return 0, 0, 0, f"the stable prefix ({stable:,} tokens) is under the {rule.min_prefix:,}-token minimum {rule.provider} caches"
        return cached, 0, 0, f"{cached:,} of {stable:,} stable prefix tokens cached automatically ({rule.provider}: from {rule.min_prefix:,}, in steps of {rule.increment:,})"
    marks = [min(b, input_tokens) for b in prefix.breakpoints]
    if not marks:
        return 0, 0, 0, f"no cache breakpoint: {rule.provider} caches only up to a cache_control breakpoint"
    usable = [b for b in marks if b <= stable and b >= rule.min_prefix]
    cached = max(usable) if usable else 0
    last = max(marks)
    if last < rule.min_prefix:
        return 0, 0, 0, f"the prefix up to the last breakpoint ({last:,} tokens) is under the {rule.min_prefix:,}-token minimum"
    rewrite = last - cached if last > stable else 0
    note = f"{cached:,} tokens cached up to a breakpoint" if cached else "no breakpoint ends inside the stable prefix"
    if rewrite:
        note += f"; {rewrite:,} tokens after per-call content are written to the cache again on every call"
    return cached, last, rewrite, note
