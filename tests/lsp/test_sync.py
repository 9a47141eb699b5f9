"""Incremental sync: after any sequence of edits the server's text and counts equal a fresh analysis of the client's text."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lsprotocol import types as t

from promptwise.analysis import Analysis, analyze_text
from promptwise.config import load_config
from tests.lsp.conftest import EXAMPLES, TRIAGE, utf16

pytestmark = pytest.mark.asyncio(loop_scope="session")
_names = itertools.count()

PIECES = ["a", "Z", " ", "\n", "\n\n", "\r\n", "👩‍💻", "🇯🇵", "🎉", "日本語", "中文", "{{question}}", "system:\n", "user:\n", "{{role \"user\"}}\n", "\t", "/", "é"]


def lsp_position(text: str, offset: int) -> t.Position:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return t.Position(line=line, character=utf16(text[start:offset]))


def safe(text: str, offset: int) -> int:
    """Never between CR and LF: a client sees those as one line break."""
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset + 1
    return offset


def apply(session, uri: str, text: str, start_frac: float, length: int, insert: str) -> str:
    start = safe(text, int(start_frac * len(text)))
    end = safe(text, min(len(text), start + length))
    new = text[:start] + insert + text[end:]
    session.edit(uri, lsp_position(text, start), lsp_position(text, end), insert, client_text=new)
    return new


async def assert_matches_fresh_analysis(session, uri: str, path) -> None:
    text = session.texts[uri]
    data = await session.command("promptwise.showBreakdown", uri)
    assert data["document"]["sha256"] == hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    assert data["version"] == session.versions[uri]
    fresh = analyze_text(path, text, load_config(path))
    assert isinstance(fresh, Analysis)
    assert data["totals"]["promptTokens"] == fresh.prompt_tokens
    assert [(m["role"], m["tokens"]) for m in data["messages"]] == [(c.message.role, c.tokens) for c in fresh.messages]


edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.integers(0, 40),
        st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
        st.booleans(),  # ask for the breakdown right after this edit (the server re-parses from its last analysis)
    ),
    min_size=1,
    max_size=12,
)


GREETER = (EXAMPLES / "i18n" / "greeter.prompt").read_text(encoding="utf-8")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=edits, long=st.booleans(), dotprompt=st.booleans())
async def test_random_incremental_edits_keep_text_and_counts_in_step(session, script, long, dotprompt):
    policies = "\n" + "\n\n".join(f"Policy {i}: escalate 日本語 orders 🎉 after {i} days." for i in range(900)) if long else ""
    if dotprompt:  # a plain-text message (re-parsed alone) between two with variables
        base = GREETER.replace('{{role "user"}}', '{{role "system"}}' + policies + '\n\n{{role "user"}}', 1)
    else:
        base = TRIAGE + policies
    path = session.root / "support" / f"sync-{next(_names)}.{'prompt' if dotprompt else 'prompty'}"
    uri = session.open(path, base)
    text = base
    for start_frac, length, insert, check in script:
        text = apply(session, uri, text, start_frac, length, insert)
        if check:
            await assert_matches_fresh_analysis(session, uri, path)
    await assert_matches_fresh_analysis(session, uri, path)
    session.close(uri)


async def test_edits_between_requests_and_a_full_replacement(session):
    path = session.root / "support" / "sync-steps.prompty"
    uri = session.open(path, TRIAGE)
    text = TRIAGE
    for i, (frac, insert) in enumerate([(0.9, "👩‍💻 more"), (0.5, "\n\nuser:\n日本語 🇯🇵\n"), (0.95, "🎉" * 3)]):
        text = apply(session, uri, text, frac, i, insert)
        await assert_matches_fresh_analysis(session, uri, path)
        assert [h.position.line for h in await session.hints(uri)]  # hints answer for the new version
    session.replace_all(uri, "system:\nA whole new prompt 🎉\n")
    await assert_matches_fresh_analysis(session, uri, path)
    session.close(uri)
