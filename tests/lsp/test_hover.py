"""Hover: the model card on the model name, and what a message, a partial or a template variable costs."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from promptwise.catalog import Catalog
from tests.lsp.conftest import TRIAGE, expected_counts, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_model_name_shows_a_model_card_with_prices_and_this_files_cost(session, o200k):
    path = session.root / "support" / "hover-triage.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    card = Catalog.bundled().resolve("gpt-4o")
    text = await session.hover(uri, position_of(TRIAGE, "gpt-4o", occurrence=0))
    _, _, total = expected_counts(o200k)
    assert text.startswith("**gpt-4o** · openai · chat")
    assert f"| input | ${card.input_cost_per_token * 1e6:,.2f} |" in text
    assert f"| output | ${card.output_cost_per_token * 1e6:,.2f} |" in text
    assert f"Context window {card.context_window:,} tokens; max output {card.max_output_tokens:,}" in text
    assert "tools" in text and "vision" in text  # capabilities
    assert f"This file: {total:,} input + 300 output tokens" in text
    assert "*Price from litellm " in text and "bundled price map*" in text
    session.close(uri)


async def test_message_hover_breaks_down_its_tokens_and_compares_models(session, o200k):
    path = session.root / "support" / "hover-message.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    sys_tokens, _, total = expected_counts(o200k)
    text = await session.hover(uri, position_of(TRIAGE, "politely"))
    assert text.startswith(f"**system message** · {sys_tokens:,} tokens ({sys_tokens / total:.0%} of this file's {total:,})")
    assert f"| text | {sys_tokens - 4:,} |" in text and "| message framing | 4 |" in text
    line = next(x for x in text.splitlines() if x.startswith("Input cost of this message per call:"))
    assert "on `gpt-4o`" in line and line.count(" on `") >= 3  # the file's model and alternatives
    session.close(uri)


async def test_variable_hover_shows_sample_value_and_tokens_on_an_emoji_line(session, o200k):
    text = TRIAGE.replace("{{question}}\n", "👩‍💻 日本語 🇯🇵 {{question}} and {{missing}}\n")
    path = session.root / "support" / "hover-vars.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    value = "Where is my order NW-1234? 👩‍💻"
    hover = await session.hover(uri, position_of(text, "question}}", occurrence=0))
    assert f"`question` = `{value}` (sample, {len(o200k.encode(value))} tokens)" in hover
    hover = await session.hover(uri, position_of(text, "missing"))
    assert "`missing` has no sample value: it renders empty, as at run time" in hover
    session.close(uri)


async def test_partial_hover_says_what_it_brings_in(session):
    text = '---\nmodel: openai/gpt-4.1-mini\n---\n{{role "system"}}\n🎉 {{> persona}}\n{{role "user"}}\nhi\n'
    path = session.root / "dotprompt" / "hover-partial.prompt"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    hover = await session.hover(uri, position_of(text, "persona"))
    breakdown = await session.command("promptwise.showBreakdown", uri)
    (include,) = breakdown["includes"]
    assert hover.startswith(f"**persona** brings in {include['tokens']:,} tokens")
    assert "_persona.prompt" in hover
    session.close(uri)


async def test_hover_outside_anything_is_empty(session):
    path = session.root / "support" / "hover-none.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    assert await session.hover(uri, t.Position(line=0, character=1)) is None  # the opening ---
    session.close(uri)
