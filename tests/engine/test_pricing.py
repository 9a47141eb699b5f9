"""The cost model against hand-computed figures from the bundled price map (litellm's, per token):

gpt-5: input 1.25e-06, cached 1.25e-07, output 1e-05; batch: input 6.25e-07, cached 6.25e-08, output 5e-06.
claude-sonnet-4-5: input 3e-06, cache write 3.75e-06, cache read 3e-07, output 1.5e-05; minimum prefix 1,024.
gemini-2.5-pro: input 1.25e-06 (2.5e-06 above 200K), output 1e-05 (1.5e-05 above 200K).
"""

from __future__ import annotations

import pytest

from promptwise.catalog import Catalog
from promptwise.evals.usage import MeasuredUsage, Stat
from promptwise.pricing.caching import rule_for
from promptwise.pricing.cost import Usage, price_usage
from promptwise.pricing.estimate import Prefix, estimate_call
from promptwise.pricing.reasoning import ASSUMED_TOKENS, expected_reasoning


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.bundled()


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-12


def test_openai_static_prefix_cold_and_warm(catalog):
    gpt5 = catalog.resolve("gpt-5")
    est = estimate_call(gpt5, 3100, Prefix(3000), 500, "expected")
    # 1,024 tokens, then 128-token steps: 1,024 + 15 x 128 = 2,944 of the 3,000 stable tokens.
    assert est.cached_tokens == 2944 and est.rule.min_prefix == 1024 and est.rule.increment == 128
    assert close(est.cold.total, 3100 * 1.25e-06 + 500 * 1e-05)
    assert close(est.warm.total, (3100 - 2944) * 1.25e-06 + 2944 * 1.25e-07 + 500 * 1e-05)
    assert est.per_call is est.warm
    fields = {p.part: p.price_field for p in est.warm.parts}
    assert fields == {"input": "input_cost_per_token", "cache_read": "cache_read_input_token_cost", "output": "output_cost_per_token"}
    # One cold call, then warm.
    assert close(est.per_1000, est.cold.total + 999 * est.warm.total)


def test_openai_prefix_under_the_minimum_is_not_cached(catalog):
    est = estimate_call(catalog.resolve("gpt-5"), 1500, Prefix(1023), 0, "expected")
    assert est.cached_tokens == 0 and est.per_call is est.cold
    assert "under the 1,024-token minimum" in est.caching


def test_anthropic_needs_a_breakpoint_and_charges_the_write(catalog):
    sonnet = catalog.resolve("claude-sonnet-4-5")
    assert rule_for(sonnet).min_prefix == 1024 and not rule_for(sonnet).automatic
    without = estimate_call(sonnet, 3100, Prefix(3000), 500, "expected")
    assert without.cached_tokens == 0 and "no cache breakpoint" in without.caching
    assert close(without.cold.total, 3100 * 3e-06 + 500 * 1.5e-05)
    marked = estimate_call(sonnet, 3100, Prefix(3000, breakpoints=(3000,)), 500, "expected")
    assert marked.write_tokens == 3000 and marked.cached_tokens == 3000
    assert close(marked.cold.total, 100 * 3e-06 + 3000 * 3.75e-06 + 500 * 1.5e-05)  # the write is 1.25x input
    assert close(marked.warm.total, 100 * 3e-06 + 3000 * 3e-07 + 500 * 1.5e-05)  # reads are 0.1x
    assert {p.price_field for p in marked.cold.parts} >= {"cache_creation_input_token_cost"}


def test_anthropic_breakpoint_after_per_call_content_rewrites_every_call(catalog):
    sonnet = catalog.resolve("claude-sonnet-4-5")
    est = estimate_call(sonnet, 3100, Prefix(2000, 1, "name", 1000, breakpoints=(1500, 3000)), 0, "expected")
    assert est.cached_tokens == 1500 and est.rewrite_tokens == 1500
    assert close(est.warm.total, 100 * 3e-06 + 1500 * 3e-07 + 1500 * 3.75e-06)


def test_gemini_long_context_tier_reprices_every_part(catalog):
    pro = catalog.resolve("gemini/gemini-2.5-pro")
    over = price_usage(pro, Usage(250_000, output_tokens=500))
    assert over.long_context == 200_000
    assert close(over.total, 250_000 * 2.5e-06 + 500 * 1.5e-05)
    assert {p.price_field for p in over.parts} == {"input_cost_per_token_above_200k_tokens", "output_cost_per_token_above_200k_tokens"}
    under = price_usage(pro, Usage(150_000, output_tokens=500))
    assert under.long_context is None and close(under.total, 150_000 * 1.25e-06 + 500 * 1e-05)


def measured(calls: int, reasoning: Stat, current: bool = True) -> MeasuredUsage:
    return MeasuredUsage(calls, Stat(400, 900), reasoning, Stat(0, 0), Stat(1000, 1000), current, "2026-11-30T12:00:00Z")


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high"])
def test_gpt5_reasoning_assumed_at_each_effort(catalog, effort):
    gpt5 = catalog.resolve("gpt-5")
    r = expected_reasoning(gpt5, effort, None, True, {}, "promptwise.toml")
    assert (r.effort, r.tokens, r.kind) == (effort, ASSUMED_TOKENS[effort], "assumed")
    cost = price_usage(gpt5, Usage(1000, output_tokens=500, reasoning_tokens=r.tokens), reasoning_source=r.source)
    assert close(cost.total, 1000 * 1.25e-06 + (500 + r.tokens) * 1e-05)
    [part] = [p for p in cost.parts if p.part == "reasoning"] or [None]
    assert part is None or (part.price_field == "output_cost_per_token" and "default" in part.source)


def test_gpt5_reasoning_configured_then_measured(catalog):
    gpt5 = catalog.resolve("gpt-5")
    configured = expected_reasoning(gpt5, "high", None, True, {"high": 12000}, "promptwise.toml")
    assert (configured.tokens, configured.kind) == (12000, "configured") and "[reasoning] high in promptwise.toml" in configured.source
    got = expected_reasoning(gpt5, "high", None, True, {"high": 12000}, "promptwise.toml", measured(12, Stat(2500, 6000)))
    assert (got.tokens, got.kind, got.p95) == (2500, "measured", 6000) and got.source == "median over 12 eval calls"
    older = expected_reasoning(gpt5, "high", None, True, {}, "x", measured(1, Stat(7, 7), current=False))
    assert older.source == "median over 1 eval call, on an earlier version of the file"


def test_reasoning_defaults_follow_the_model(catalog):
    # No effort in the file: OpenAI reasoning models default to medium; gpt-5.1 lists its own default (none).
    assert expected_reasoning(catalog.resolve("gpt-5"), None, None, False, {}, "x").effort == "medium"
    assert expected_reasoning(catalog.resolve("gpt-5.1"), None, None, False, {}, "x").tokens == 0
    # Claude thinks only when the request enables it; a thinking budget is an upper bound.
    assert expected_reasoning(catalog.resolve("claude-sonnet-4-5"), None, None, False, {}, "x").tokens == 0
    budget = expected_reasoning(catalog.resolve("claude-sonnet-4-5"), None, 8000, True, {}, "x")
    assert (budget.tokens, budget.kind) == (8000, "assumed") and "upper bound" in budget.source
    assert expected_reasoning(catalog.resolve("gpt-4o"), None, None, False, {}, "x").tokens == 0


def test_batch_prices(catalog):
    gpt5 = catalog.resolve("gpt-5")
    est = estimate_call(gpt5, 3100, Prefix(3000), 500, "expected", service_tier="batch")
    assert close(est.cold.total, 3100 * 6.25e-07 + 500 * 5e-06)
    assert close(est.warm.total, 156 * 6.25e-07 + 2944 * 6.25e-08 + 500 * 5e-06)
    assert {p.price_field for p in est.warm.parts} == {"input_cost_per_token_batches", "cache_read_input_token_cost_batches", "output_cost_per_token_batches"}


def test_a_tier_the_map_does_not_price_falls_back_with_a_note(catalog):
    sonnet = catalog.resolve("claude-sonnet-4-5")  # no flex prices
    cost = price_usage(sonnet, Usage(1000, output_tokens=10), "flex")
    assert close(cost.total, 1000 * 3e-06 + 10 * 1.5e-05)
    assert any("no flex price" in n for n in cost.notes)


def test_per_month_has_one_cold_call_per_cache_lifetime(catalog):
    gpt5 = catalog.resolve("gpt-5")
    busy = estimate_call(gpt5, 3100, Prefix(3000), 500, "expected", calls_per_day=10_000, volume_source="test")
    # A call at least every 5 minutes (288 a day) keeps the prefix cached: one cold call a day, over 30 days.
    assert close(busy.per_month, 30 * (busy.cold.total + (10_000 - 1) * busy.warm.total))
    quiet = estimate_call(gpt5, 3100, Prefix(3000), 500, "expected", calls_per_day=100)
    assert close(quiet.per_month, 30 * 100 * quiet.cold.total)  # calls further apart than the cache lives
