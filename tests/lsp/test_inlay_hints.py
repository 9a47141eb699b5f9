"""Inlay hints: what the user reads after each role line, include and the model line, placed in UTF-16 columns."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from promptwise.catalog import Catalog
from tests.lsp.conftest import TRIAGE, end_of_line, expected_counts, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def test_hints_after_model_line_and_role_lines(session, o200k):
    path = session.root / "support" / "hints-triage.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    sys_tokens, user_tokens, total = expected_counts(o200k)
    card = Catalog.bundled().resolve("gpt-4o")
    cost = total * card.input_cost_per_token + 300 * card.output_cost_per_token

    hints = await session.hints(uri)
    by_line = {h.position.line: h for h in hints}
    model = by_line[6]
    assert model.position == position_of(TRIAGE, "name: gpt-4o", after=True)
    share = (total + 300) / card.context_window
    # The hint is tokens and dollars per call (too short to cache: no "warm"); the context share moved to the tooltip.
    assert model.label == f"{total:,} tokens · ${cost:.{_decimals(cost)}f}/call"
    assert model.padding_left is True
    assert "per call" in model.tooltip.value and "exact (o200k_base)" in model.tooltip.value
    context = f"Context: {total + 300:,} of 128,000 tokens ({share:.0%})".replace("(0%)", "(<1%)")
    assert context in model.tooltip.value

    system = by_line[12]
    assert system.position == t.Position(line=12, character=len("system:"))
    assert system.label == f"{sys_tokens:,} tokens · {sys_tokens / total:.0%}"
    user = by_line[16]
    assert user.position == end_of_line(TRIAGE, 16)
    assert user.label == f"{user_tokens:,} tokens · {user_tokens / total:.0%}"
    assert "message framing: 4" in user.tooltip.value
    session.close(uri)


def _decimals(value: float) -> int:
    import math

    return max(2, 1 - math.floor(math.log10(value)))


async def test_only_hints_in_the_requested_range_are_sent(session):
    path = session.root / "support" / "hints-range.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    hints = await session.hints(uri, t.Position(15, 0), t.Position(18, 0))
    assert [h.position.line for h in hints] == [16]
    assert await session.hints(uri, t.Position(13, 0), t.Position(14, 0)) == []
    session.close(uri)


async def test_include_hints_sit_after_partials_on_lines_full_of_emoji(session):
    folder = session.root / "dotprompt"
    text = (
        "---\nmodel: openai/gpt-4.1-mini\n---\n"
        '{{role "system"}}\n'
        "👩‍💻 日本語 🇯🇵 {{> persona}} 🎉 then {{> style_rules}}\n"
        '{{role "user"}}\nReview this: 中文 🎉\n'
    )
    path = folder / "hints-emoji.prompt"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    hints = await session.hints(uri)
    include_hints = [h for h in hints if str(h.label).startswith("+")]
    assert [h.position for h in include_hints] == [
        position_of(text, "{{> persona}}", after=True),
        position_of(text, "{{> style_rules}}", after=True),
    ]
    # 👩‍💻 (5 units) + space + 日本語 (3) + space + 🇯🇵 (4) + space: the partial starts at column 15.
    assert include_hints[0].position.character == 15 + len("{{> persona}}")
    persona = (folder / "_persona.prompt").read_text(encoding="utf-8")
    assert include_hints[0].label.endswith(" tokens") and int(include_hints[0].label[1:].split()[0].replace(",", "")) > len(persona) // 8
    assert "persona" in include_hints[0].tooltip.value
    role_hint = next(h for h in hints if h.position.line == 3)
    assert role_hint.position == t.Position(line=3, character=len('{{role "system"}}'))
    session.close(uri)


async def test_estimates_are_marked_and_explained(session):
    uri = session.open(session.root / "i18n" / "greeter.prompt")
    hints = await session.hints(uri)
    assert hints and all(str(h.label).lstrip("+").startswith("~") for h in hints)
    model = hints[0]
    assert model.position == position_of(session.texts[uri], "anthropic/claude-haiku-4-5", after=True)
    assert "estimate (the tokenizer for claude-haiku-4-5 is not published offline" in model.tooltip.value
    session.close(uri)


async def test_a_file_without_a_model_line_gets_its_total_on_the_first_line(session):
    uri = session.open(session.root / "AGENTS.md")
    hints = await session.hints(uri)
    # The total on the first line; the other hints are its headings' (tests/lsp/test_section_hints.py).
    total = hints[0]
    assert [h.position.line for h in hints].count(0) == 1
    assert all(session.texts[uri].split("\n")[h.position.line].startswith("#") for h in hints[1:])
    assert total.position == end_of_line(session.texts[uri], 0)
    # The default model is named in the hint only where it fits VS Code's 43 characters; the tooltip always names it.
    assert " tokens" in total.label and total.label.endswith("/call warm") and len(total.label) <= 43
    import tomllib

    default = tomllib.loads((session.root / "promptwise.toml").read_text(encoding="utf-8"))["default_model"]
    assert f"on `{default}`" in total.tooltip.value and "cold (the first call)" in total.tooltip.value
    assert "of 128,000 tokens" in total.tooltip.value
    assert "budget" in total.tooltip.value.lower()
    session.close(uri)


async def test_positions_are_utf16_even_when_the_client_offers_utf8_first(session):
    # Neovim 0.11 lists utf-8 first; every position the server computes is in UTF-16 and it says so.
    assert session.client.init_result.capabilities.position_encoding == t.PositionEncodingKind.Utf16
