"""A file that takes long to analyze delays only its own answers: hover and hints on every other open
file are answered meanwhile, and edits and closing it still work."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import PROFILES, TRIAGE, Session, _profile, position_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

SLOW_SERVER = [sys.executable, str(Path(__file__).with_name("slow_server.py")), "lsp"]
HANG_GUARD = 60.0  # seconds: only so a regression fails instead of hanging the run


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SLOW_SERVER), params=PROFILES, scope="module")
async def slow_client(client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp(f"slow-{request.param}")
    client.root = root  # type: ignore[attr-defined]
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=root.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="slow")],
        )
    )
    yield
    (root / "release").write_text("")  # whatever happened, let the slow analysis end
    await client.shutdown_session()


def request(session: Session, method: str, params) -> asyncio.Future:
    return asyncio.wrap_future(session.client.protocol.send_request(method, params))


async def test_hover_and_hints_on_another_file_are_answered_while_one_is_analyzed(slow_client):
    session = Session(slow_client, _profile(slow_client), slow_client.root)  # type: ignore[attr-defined]
    root: Path = slow_client.root  # type: ignore[attr-defined]
    slow_uri = session.open(root / "slow-render.prompty", TRIAGE)
    slow_hints = request(
        session, t.TEXT_DOCUMENT_INLAY_HINT, t.InlayHintParams(t.TextDocumentIdentifier(slow_uri), t.Range(t.Position(0, 0), t.Position(99, 0)))
    )
    fast_uri = session.open(root / "triage.prompty", TRIAGE)

    # The slow file spins until `release` exists; the other file is answered all the same.
    card = await asyncio.wait_for(session.hover(fast_uri, position_of(TRIAGE, "gpt-4o")), HANG_GUARD)
    assert card is not None and card.startswith("**gpt-4o**")
    hints = await asyncio.wait_for(session.hints(fast_uri), HANG_GUARD)
    assert any("tokens" in str(h.label) for h in hints)
    # Edits to the slow file are taken in meanwhile, and the fast file's next version is analyzed too.
    session.edit(slow_uri, t.Position(15, 0), t.Position(15, 0), "Be brief.\n", client_text=None)
    session.edit(fast_uri, t.Position(15, 0), t.Position(15, 0), "Be brief.\n")
    again = await asyncio.wait_for(session.hints(fast_uri), HANG_GUARD)
    assert [str(h.label) for h in again] != [str(h.label) for h in hints]  # more tokens now
    assert not slow_hints.done()

    (root / "release").write_text("")
    answered = await asyncio.wait_for(slow_hints, HANG_GUARD)  # answered for the version it was sent for
    assert any("tokens" in str(h.label) for h in answered)
    latest = await asyncio.wait_for(session.hints(slow_uri), HANG_GUARD)
    assert [str(h.label) for h in latest] == [str(h.label) for h in again]  # the same edit on both files
    session.close(slow_uri)
    session.close(fast_uri)
    assert session.client.error is None
