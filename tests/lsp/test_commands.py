"""Commands: count the tokens of a selection, and the whole file's breakdown as data."""

from __future__ import annotations

import hashlib

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException

from promptwise.catalog import Catalog
from tests.lsp.conftest import TRIAGE, expected_counts, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def triage(session):
    path = session.root / "support" / "commands-triage.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    return session.open(path)


def _range(text: str, selected: str) -> dict:
    start, end = position_of(text, selected), position_of(text, selected, after=True)
    return {"start": {"line": start.line, "character": start.character}, "end": {"line": end.line, "character": end.character}}


async def test_count_tokens_in_a_selection_with_emoji_and_cjk(session, triage, o200k):
    selected = "日本語 🇯🇵, politely and briefly 🎉"
    expected = len(o200k.encode(selected))
    price = Catalog.bundled().resolve("gpt-4o").input_cost_per_token
    for args in ([{"uri": triage, "range": _range(TRIAGE, selected)}], [triage, _range(TRIAGE, selected)]):
        result = await session.command("promptwise.countTokens", *args)
        assert result["tokens"] == expected
        assert result["characters"] == len(selected)
        assert result["model"] == "gpt-4o" and result["tokenizer"] == "o200k_base" and result["exact"] is True
        assert result["cost"] == pytest.approx(expected * price)


async def test_count_tokens_without_a_range_is_the_whole_prompt(session, triage, o200k):
    result = await session.command("promptwise.countTokens", {"uri": triage})
    assert result["tokens"] == expected_counts(o200k)[2]


async def test_bad_arguments_are_an_error_not_a_crash(session, triage):
    with pytest.raises(JsonRpcException, match="CountTokensArgs"):
        await session.command("promptwise.countTokens", {"range": 3})
    with pytest.raises(JsonRpcException, match="not open"):
        await session.command("promptwise.showBreakdown", "file:///nowhere/x.prompty")
    assert (await session.command("promptwise.countTokens", triage))["tokens"] > 0  # still serving


async def test_show_breakdown_returns_the_whole_files_numbers(session, triage, o200k):
    sys_tokens, user_tokens, total = expected_counts(o200k)
    card = Catalog.bundled().resolve("gpt-4o")
    data = await session.command("promptwise.showBreakdown", triage)
    assert data["model"] == "gpt-4o" and data["catalogModel"] == "gpt-4o" and data["exact"] is True
    assert data["totals"] == {
        "promptTokens": total,
        "messageTokens": sys_tokens + user_tokens,
        "toolsTokens": 0,
        "replyPriming": 3,
        "expectedOutputTokens": 300,
    }
    assert data["cost"]["perCall"] == pytest.approx(total * card.input_cost_per_token + 300 * card.output_cost_per_token)
    assert data["context"]["window"] == card.context_window
    assert data["budget"]["tokens"] == 3000 and data["budget"]["source"] == 'budgets["support/*.prompty"] in promptwise.toml'
    assert [(m["role"], m["tokens"], m["line"]) for m in data["messages"]] == [("system", sys_tokens, 12), ("user", user_tokens, 16)]
    assert data["messages"][1]["variables"] == [{"name": "question", "source": "sample", "line": 17}]
    assert data["document"]["sha256"] == hashlib.sha256(TRIAGE.encode()).hexdigest()
    assert data["findings"]["errors"] == 0
