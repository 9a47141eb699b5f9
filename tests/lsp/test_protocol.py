"""Protocol errors the editor can act on: invalid params get InvalidParams (-32602) with what is wrong,
a request before `initialize` gets ServerNotInitialized (-32002), and the server keeps serving after both."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import Future
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER, TRIAGE, Session, _profile, position_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

HANG_GUARD = 30.0  # seconds: an unanswered request fails the test instead of hanging it


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def bare_client(client: LanguageClient):
    """A client that has not sent initialize yet; the tests do, when they are ready."""
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    yield
    await client.shutdown_session()


_ids = itertools.count(1)


def raw_request(client: LanguageClient, method: str, params) -> asyncio.Future:
    """A request with params as given, as JSON (the client's typed requests could not send bad ones)."""
    msg_id = f"raw-{next(_ids)}"
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future  # the client matches the answer to it
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return asyncio.wrap_future(future)


async def error_of(future: asyncio.Future) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(future, HANG_GUARD)
    return caught.value


async def test_a_request_before_initialize_is_an_error_and_initialize_still_works(bare_client, workspace: Path):
    hover = {"textDocument": {"uri": (workspace / "AGENTS.md").as_uri()}, "position": {"line": 0, "character": 0}}
    early = await error_of(raw_request(bare_client, t.TEXT_DOCUMENT_HOVER, hover))
    assert early.code == -32002 and "not initialized" in early.message
    # A notification before initialize is dropped (no document is opened by it).
    bare_client.protocol.notify(
        t.TEXT_DOCUMENT_DID_OPEN,
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=(workspace / "early.prompty").as_uri(), language_id="prompty", version=1, text=TRIAGE)),
    )
    await asyncio.wait_for(
        bare_client.initialize_session(
            t.InitializeParams(capabilities=client_capabilities("visual_studio_code"), root_uri=workspace.as_uri())
        ),
        HANG_GUARD,
    )
    session = Session(bare_client, _profile(bare_client), workspace)
    uri = session.open(workspace / "support" / "protocol.prompty", TRIAGE)
    card = await session.hover(uri, position_of(TRIAGE, "gpt-4o"))
    assert card is not None and card.startswith("**gpt-4o**")
    assert await bare_client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier((workspace / "early.prompty").as_uri()), t.Position(0, 0))
    ) is None  # never opened: the early didOpen was dropped
    session.close(uri)


@pytest.mark.parametrize(
    "method, params, says",
    [
        (t.TEXT_DOCUMENT_HOVER, {"textDocument": None, "position": {"line": 0, "character": 0}}, "textDocument"),
        (t.TEXT_DOCUMENT_HOVER, {"textDocument": {"uri": "file:///x.prompty"}, "position": {"line": "two"}}, "position"),
        (t.TEXT_DOCUMENT_INLAY_HINT, {"textDocument": {"uri": "file:///x.prompty"}}, "range"),
        (t.TEXT_DOCUMENT_CODE_ACTION, [1, 2, 3], "codeAction"),
    ],
)
async def test_invalid_params_get_invalid_params_and_the_server_keeps_serving(bare_client, workspace: Path, method, params, says):
    error = await error_of(raw_request(bare_client, method, params))
    assert error.code == -32602
    assert error.message.startswith(f"invalid params for {method}: ") and says in error.message
    session = Session(bare_client, _profile(bare_client), workspace)
    uri = session.open(workspace / "support" / "protocol-after.prompty", TRIAGE)
    assert any("tokens" in str(h.label) for h in await session.hints(uri))
    session.close(uri)
