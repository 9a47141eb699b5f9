"""Cancelled and stale requests: a request is answered for the version of the text it was sent for, or
answered as cancelled; never computed against edits that came after it. Edits faster than requests
are not each analyzed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from promptwise.analysis import analyze_text
from promptwise.config import load_config
from promptwise.lsp.documents import Pending, Snapshot, Workspace
from tests.lsp.conftest import PROFILES, SERVER, TRIAGE, Session, _profile, position_of, session_fixture, utf16

pytestmark = pytest.mark.asyncio(loop_scope="module")

typist_client, typist = session_fixture("typist")
MODEL = position_of(TRIAGE, "gpt-4o")  # on the model name: a hover there shows the model card


def at(text: str, offset: int) -> t.Position:
    line = text.count("\n", 0, offset)
    return t.Position(line=line, character=utf16(text[text.rfind("\n", 0, offset) + 1 : offset]))


def send(session: Session, method: str, params: Any, msg_id: str | None = None) -> asyncio.Future:
    """Send a request now, in order with the notifications around it, as an editor does, without waiting."""
    return asyncio.wrap_future(session.client.protocol.send_request(method, params, msg_id=msg_id))


def hints_request(session: Session, uri: str) -> asyncio.Future:
    return send(session, t.TEXT_DOCUMENT_INLAY_HINT, t.InlayHintParams(t.TextDocumentIdentifier(uri), t.Range(t.Position(0, 0), t.Position(100_000, 0))))


def hover_request(session: Session, uri: str, where: t.Position, msg_id: str | None = None) -> asyncio.Future:
    return send(session, t.TEXT_DOCUMENT_HOVER, t.HoverParams(t.TextDocumentIdentifier(uri), where), msg_id)


def shown(hints: list[t.InlayHint] | None) -> list[tuple[int, int, str]]:
    return [(h.position.line, h.position.character, str(h.label)) for h in hints or []]


async def fresh(session: Session, text: str, hover_at: t.Position | None = None) -> tuple[list, str | None]:
    """What a fresh open of `text` shows: its hints, and the hover at `hover_at`."""
    uri = session.open(session.root / "support" / "cancel-fresh.prompty", text)
    hints = shown(await session.hints(uri))
    hover = await session.hover(uri, hover_at) if hover_at is not None else None
    session.close(uri)
    return hints, hover


def assert_no_errors(session: Session) -> None:
    assert session.client.error is None
    assert not [m.message for m in session.client.messages if m.type == t.MessageType.Error]
    assert not [m.message for m in session.client.log_messages if m.type == t.MessageType.Error]


# ---- a server still waiting for the editor's settings keeps requests pending ----


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=PROFILES, scope="module")
async def held_client(client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    """A client that holds back its workspace/configuration answer until the test opens `client.gate`."""
    gate = client.gate = asyncio.Event()  # type: ignore[attr-defined]

    async def configuration(params: t.ConfigurationParams) -> list[Any]:
        await gate.wait()
        return [None for _ in params.items]

    client.protocol.fm.features[t.WORKSPACE_CONFIGURATION] = configuration
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    await client.initialize_session(
        t.InitializeParams(capabilities=client_capabilities(request.param), root_uri=workspace.as_uri())
    )
    yield
    gate.set()
    await client.shutdown_session()


async def test_cancelled_and_outdated_requests_are_answered_as_cancelled(held_client, workspace):
    session = Session(held_client, _profile(held_client), workspace)
    uri = session.open(workspace / "support" / "cancel-held.prompty", TRIAGE)
    # Requests wait in the server until it has the settings; the client is holding them back.
    cancelled = hover_request(session, uri, MODEL, msg_id="hover-to-cancel")
    held_client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id="hover-to-cancel"))
    outdated = hints_request(session, uri)
    edited = TRIAGE.replace("model:\n", "model:\n  # a comment line moves the model name down\n")
    session.edit(uri, t.Position(2, 0), t.Position(2, 0), "  # a comment line moves the model name down\n", client_text=edited)
    current = hover_request(session, uri, position_of(edited, "gpt-4o"))
    held_client.gate.set()

    # Cancelled by the client: RequestCancelled, unless it finished first (the wait gives up after 2 s).
    try:
        result = await cancelled
        assert result.contents.value.startswith("**gpt-4o**")
    except JsonRpcRequestCancelled:
        pass
    # Sent for version 1, which changed while it waited: skipped, never hints of version 2 at the
    # range of version 1 (unless the wait had given up before the edit came: then version 1's hints).
    v1_hints, _ = await fresh(session, TRIAGE)
    try:
        assert shown(await outdated) == v1_hints
    except JsonRpcRequestCancelled:
        pass
    # The server keeps answering, for the current text.
    assert (await current).contents.value.startswith("**gpt-4o** · openai")
    v2_hints, model_card = await fresh(session, edited, position_of(edited, "gpt-4o"))
    assert shown(await session.hints(uri)) == v2_hints != v1_hints
    assert await session.hover(uri, position_of(edited, "gpt-4o")) == model_card
    session.close(uri)
    assert_no_errors(session)


# ---- a fast typist: edits and requests pipelined without waiting ----


async def test_requests_between_keystrokes_answer_for_the_text_they_were_sent_for(typist):
    session = typist
    uri = session.open(session.root / "support" / "cancel-typist.prompty", TRIAGE)
    await session.hints(uri)
    text = TRIAGE
    typed = "\nKeep it short 🎉 and kind.\n日本語 too."
    offset = text.index("human agent.") + len("human agent.")  # the end of the system message
    sent: list[tuple[str, t.Position, asyncio.Future, asyncio.Future, asyncio.Future]] = []
    for ch in typed:
        where = at(text, offset)
        text = text[:offset] + ch + text[offset:]
        offset += len(ch)
        session.edit(uri, where, where, ch, client_text=text)
        caret = at(text, offset - 1)  # on the character just typed, in the system message
        sent.append((text, caret, hints_request(session, uri), hover_request(session, uri, caret), hover_request(session, uri, MODEL)))

    answers = await asyncio.gather(*(f for _, _, *futures in sent for f in futures))  # none fails
    for i, (version_text, caret, *_) in enumerate(sent):
        hints, hover, model = answers[3 * i : 3 * i + 3]
        expected_hints, expected_hover = await fresh(session, version_text, caret)
        assert shown(hints) == expected_hints, f"hints sent after keystroke {i + 1}"
        assert hover.contents.value == expected_hover, f"hover sent after keystroke {i + 1}"
        assert model.contents.value.startswith("**gpt-4o**")
    assert shown(await session.hints(uri)) == (await fresh(session, text))[0]
    session.close(uri)
    assert_no_errors(session)


async def test_a_burst_of_edits_is_analyzed_and_published_once(typist):
    session = typist
    uri = session.open(session.root / "support" / "cancel-burst.prompty", TRIAGE)
    if not session.pulls:
        await session.pushed(uri)
    text = TRIAGE
    offset = text.index("politely")
    for ch in "very ":
        where = at(text, offset)
        text = text[:offset] + ch + text[offset:]
        offset += 1
        session.edit(uri, where, where, ch, client_text=text)
    final = session.versions[uri]
    assert shown(await session.hints(uri)) == (await fresh(session, text))[0]
    data = await session.command("promptwise.showBreakdown", uri)
    assert data["version"] == final
    if not session.pulls:  # pushed once, for the last version, after the pause
        await session.pushed(uri, final)
        assert [p.version for p in session.published[uri]] == [1, final]
    session.close(uri)
    assert_no_errors(session)


# ---- the workspace: analysis is lazy, per version ----


async def test_only_versions_that_are_asked_about_are_analyzed(workspace):
    path = workspace / "support" / "cancel-lazy.prompty"
    uri = path.as_uri()
    state = Workspace()
    analyzed: list[str] = []
    analyze = state.analyze  # the one step that analyzes a version of an open document

    def counting(job: Pending) -> Snapshot:
        analyzed.append(job.lines.text)
        return analyze(job)

    state.analyze = counting  # type: ignore[method-assign]
    state.open(uri, TRIAGE, 1)
    text = TRIAGE
    versions = 1
    for ch in "Reply in one sentence. ":
        versions += 1
        end = at(text, len(text))
        text += ch
        state.change(uri, versions, [t.TextDocumentContentChangePartial(range=t.Range(end, end), text=ch)])
    assert analyzed == []  # edits alone analyze nothing
    snap = state.snapshot(uri)
    assert snap is not None and snap.version == versions and snap.text == text
    assert state.snapshot(uri) is snap  # asked again: the same analysis
    assert analyzed == [text]  # only the version asked about, none of the 23 before it
    assert snap.analysis.prompt_tokens == analyze_text(path, text, load_config(path)).prompt_tokens
