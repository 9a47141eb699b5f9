"""The cost model in the editor: short hints, and tooltips and hovers that say where every figure comes from."""

from __future__ import annotations

import math

import pytest
from lsprotocol import types as t

from promptwise.catalog import Catalog
from tests.lsp.conftest import EXAMPLES, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAX_HINT = 43  # VS Code's default editor.inlayHints.maximumLength

RULES = "# House rules\n\n" + "".join(
    f"- Rule {i}: keep every answer short, cite the file you changed, and run the tests before you stop.\n" for i in range(80)
)

PLANNER = """---
name: Planner
model:
  api: chat
  configuration:
    type: openai
    name: gpt-5.2
  parameters:
    reasoning_effort: high
---
system:
Plan the migration step by step.

user:
{{question}}
"""

DAILY = """---
name: Daily digest
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o-mini
  parameters:
    max_tokens: 200
promptwise:
  calls_per_day: 1000
---
system:
Summarize the day's tickets in three bullet points.

user:
{{tickets}}
"""


def money(value: float) -> str:
    """Two significant digits below a dollar, as the README words figures."""
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.{max(2, 1 - math.floor(math.log10(value)))}f}"


def _label(hint: t.InlayHint) -> str:
    return hint.label if isinstance(hint.label, str) else "".join(part.value for part in hint.label)


def _costs_folder(session):
    """A folder whose own promptwise.toml makes gpt-5.2 (cached input priced, not retiring) the default model."""
    folder = session.root / "costs"
    folder.mkdir(exist_ok=True)
    (folder / "promptwise.toml").write_text('default_model = "gpt-5.2"\nexpected_output_tokens = 400\n', encoding="utf-8")
    return folder


async def test_no_hint_on_the_examples_is_longer_than_vs_code_shows(session):
    files = sorted(p for p in EXAMPLES.rglob("*") if p.is_file())
    seen = 0
    for original in files:
        uri = session.open(session.root / original.relative_to(EXAMPLES))
        for hint in await session.hints(uri):
            seen += 1
            assert len(_label(hint)) <= MAX_HINT, f"{original.name}: {_label(hint)!r}"
        session.close(uri)
    assert seen >= len([p for p in files if p.suffix in (".prompty", ".prompt")])  # every prompt has at least its total


async def test_an_instruction_file_over_the_cache_minimum_shows_its_warm_cost_first(session):
    path = _costs_folder(session) / "AGENTS.md"
    path.write_text(RULES, encoding="utf-8")
    uri = session.open(path)
    breakdown = await session.command("promptwise.showBreakdown", uri)
    n = breakdown["totals"]["promptTokens"]
    assert n > 1024 and breakdown["catalogModel"] == "gpt-5.2"
    card = Catalog.bundled().resolve("gpt-5.2")
    read, full, out = card.prices["cache_read_input_token_cost"], card.input_cost_per_token, card.output_cost_per_token
    # OpenAI: nothing under 1,024 tokens, then hits in 128-token steps; the output is the folder's 400 tokens.
    cached = 1024 + (n - 1024) // 128 * 128
    warm = (n - cached) * full + cached * read + 400 * out
    cold = n * full + 400 * out
    assert breakdown["cost"]["basis"] == "warm"
    assert breakdown["cost"]["warm"] == pytest.approx(warm) and breakdown["cost"]["cold"] == pytest.approx(cold)
    assert breakdown["cost"]["perCall"] == pytest.approx(warm)

    (hint,) = await session.hints(uri)
    assert _label(hint) == f"{n:,} tokens on gpt-5.2 · {money(warm)}/call warm"  # the default model, named as it fits
    tip = hint.tooltip.value
    assert f"**{money(warm)} per call warm**" in tip and f"{money(cold)} cold (the first call)" in tip
    assert "Warm call:" in tip and "Cold call:" in tip
    assert f"| cached input | {cached:,} | $0.175 | {money(cached * read)} | counted | `cache_read_input_token_cost` |" in tip
    assert f"| input | {n:,} | $1.75 | {money(n * full)} | counted | `input_cost_per_token` |" in tip  # the cold row
    assert "OpenAI prompt caching guide" in tip
    assert f"**Per 1,000 calls**: {money(cold + 999 * warm)} (one cold call, then warm)" in tip
    session.close(uri)


async def test_a_default_model_that_retires_says_so_in_the_tooltip(session):
    folder = session.root / "costs-retiring"
    folder.mkdir(exist_ok=True)
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\n', encoding="utf-8")
    path = folder / "CLAUDE.md"
    path.write_text("# Notes\n\nAnswer in English.\n", encoding="utf-8")
    uri = session.open(path)  # the file names no model; tests run on 2026-12-01
    (hint,) = await session.hints(uri)
    assert "**Retires** on 2027-01-14, in 44 days (deprecation_date in the litellm" in hint.tooltip.value
    session.close(uri)


async def test_a_reasoning_prompt_says_its_reasoning_is_assumed(session):
    path = _costs_folder(session) / "planner.prompty"
    path.write_text(PLANNER, encoding="utf-8")
    uri = session.open(path)
    hover = await session.hover(uri, position_of(PLANNER, "gpt-5.2"))
    assert "**Reasoning**: 10,000 tokens per call at high effort, **assumed** (promptwise's default for high effort)" in hover
    assert "Effort: set in the file" in hover
    card = Catalog.bundled().resolve("gpt-5.2")
    # The reasoning row is priced as output, its tokens labelled with where they come from.
    assert f"| reasoning | 10,000 | $14.00 | {money(10_000 * card.output_cost_per_token)} | assumed: promptwise's default for high effort |" in hover
    (total,) = [h for h in await session.hints(uri) if h.position.line == 6]
    assert _label(total).split(" · ")[1].startswith("~$")  # the dollars rest on an assumption
    assert "`~`: the 10,000 reasoning tokens are assumed" in total.tooltip.value
    assert "10,000 reasoning (assumed)" in total.tooltip.value  # reserved in the context line
    session.close(uri)


async def test_calls_per_day_turn_the_cost_per_call_into_a_month(session, o200k):
    path = session.root / "support" / "costs-daily.prompty"
    path.write_text(DAILY, encoding="utf-8")
    uri = session.open(path)
    breakdown = await session.command("promptwise.showBreakdown", uri)
    per_call = breakdown["cost"]["perCall"]
    assert breakdown["cost"]["basis"] == "cold"  # far under OpenAI's 1,024-token minimum: nothing cached
    hover = await session.hover(uri, position_of(DAILY, "gpt-4o-mini"))
    month = 30 * 1000 * per_call
    assert breakdown["cost"]["perMonth"] == pytest.approx(month)
    assert f"**Per month**: {money(month)} at 1,000 calls a day (frontmatter promptwise.calls_per_day; 30 days)" in hover
    assert "(nothing cached: every call alike)" in hover
    session.close(uri)


async def test_hints_without_a_price_say_so(session):
    text = PLANNER.replace("gpt-5.2", "house-model-9000")
    path = _costs_folder(session) / "unpriced.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    (total,) = [h for h in await session.hints(uri) if h.position.line == 6]
    assert _label(total).endswith(" · no price") and len(_label(total)) <= MAX_HINT
    assert "No price for `house-model-9000`" in total.tooltip.value
    session.close(uri)


async def test_a_batch_service_tier_is_priced_and_named(session):
    text = PLANNER.replace("---\nsystem:", "promptwise:\n  service_tier: batch\n---\nsystem:", 1)
    path = _costs_folder(session) / "batch.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    hover = await session.hover(uri, position_of(text, "gpt-5.2"))
    assert "**Service tier**: batch prices" in hover
    assert "| reasoning | 10,000 | $7.00 |" in hover and "`output_cost_per_token_batches`" in hover  # half the $14.00 list price
    assert "`input_cost_per_token_batches`" in hover
    session.close(uri)


# ---- the wording itself, on figures built by the cost model directly ----


def _analysis(model: str, **changes):
    """A small prompt's analysis with the cost model's estimate replaced, to word figures no small file reaches."""
    import dataclasses
    import tempfile
    from pathlib import Path

    from promptwise.analysis import analyze_text

    folder = Path(tempfile.mkdtemp())
    (folder / "promptwise.toml").write_text(f'default_model = "{model}"\n', encoding="utf-8")
    a = analyze_text(folder / "p.md", "Answer briefly.\n")
    return dataclasses.replace(a, **changes)


async def test_a_long_context_request_says_every_part_is_at_the_tier_price():
    from promptwise.lsp import labels
    from promptwise.pricing.estimate import Prefix, estimate_call

    card = Catalog.bundled().resolve("gemini/gemini-2.5-pro")
    est = estimate_call(card, 250_000, Prefix(0), 500, "expected_output_tokens in the file")
    from promptwise.pricing.reasoning import NO_REASONING

    # Reasoning off and counts taken as exact: this test is about the tier.
    a = _analysis("gemini/gemini-2.5-pro", estimate=est, prompt_tokens=250_000, reasoning=NO_REASONING, exact=True)
    text = "\n".join(labels.cost_section(a))
    assert "**Long-context tier**: the input is over 200,000 tokens, so every part is at the `_above_200k_tokens` price" in text
    # 250,000 x $2.50/M and 500 x $15/M, the prices above 200K, by hand.
    assert f"| input | 250,000 | $2.50 | {money(250_000 * 2.5e-06)} | counted | `input_cost_per_token_above_200k_tokens` |" in text
    assert f"| output | 500 | $15.00 | {money(500 * 1.5e-05)} | configured: expected_output_tokens in the file | `output_cost_per_token_above_200k_tokens` |" in text
    assert f"**{money(250_000 * 2.5e-06 + 500 * 1.5e-05)} per call** (nothing cached" in text


async def test_measured_reasoning_says_over_how_many_calls_and_its_p95():
    from promptwise.lsp import labels
    from promptwise.pricing.estimate import Prefix, estimate_call
    from promptwise.pricing.reasoning import Reasoning

    card = Catalog.bundled().resolve("gpt-5.2")
    measured = Reasoning("high", 4200, "measured", "median over 12 eval calls", "set in the file", p95=9100)
    est = estimate_call(card, 14, Prefix(14), 350, "median over 12 eval calls", measured)
    a = _analysis("gpt-5.2", estimate=est, reasoning=measured)
    text = "\n".join(labels.cost_section(a))
    assert "**Reasoning**: 4,200 tokens per call at high effort, **measured** (median over 12 eval calls); p95 9,100" in text
    assert f"| reasoning | 4,200 | $14.00 | {money(4200 * 1.4e-05)} | measured: median over 12 eval calls |" in text
    assert "| output | 350 | $14.00 |" in text and "measured: median over 12 eval calls | `output_cost_per_token` |" in text
    assert labels.cost_hint(a) == f"{money(14 * 1.75e-06 + 350 * 1.4e-05 + 4200 * 1.4e-05)}/call"  # measured: no `~`
