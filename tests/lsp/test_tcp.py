"""`promptwise lsp --tcp HOST:PORT`: the same server over a socket, for debugging."""

from __future__ import annotations

import asyncio
import re
import sys

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

from tests.lsp.conftest import EXAMPLES


async def test_tcp_serves_one_client_and_exits_with_it():
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "promptwise", "lsp", "--tcp", "127.0.0.1:0", stderr=asyncio.subprocess.PIPE
    )
    line = (await asyncio.wait_for(server.stderr.readline(), 30)).decode()
    m = re.fullmatch(r"promptwise lsp: listening on 127\.0\.0\.1:(\d+)\n", line)
    assert m, line
    client = LanguageClient("tcp-test", "1")
    client.feature(t.WORKSPACE_CONFIGURATION)(lambda params: [None for _ in params.items])
    await client.start_tcp("127.0.0.1", int(m.group(1)))
    await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities(), root_uri=EXAMPLES.as_uri()))
    client.initialized(t.InitializedParams())
    path = EXAMPLES / "support" / "triage.prompty"
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "prompty", 1, path.read_text(encoding="utf-8"))))
    whole = t.Range(t.Position(0, 0), t.Position(10_000, 0))
    hints = await client.text_document_inlay_hint_async(t.InlayHintParams(t.TextDocumentIdentifier(uri), whole))
    assert any("/call" in str(h.label) for h in hints)
    await client.shutdown_async(None)
    client.exit(None)
    assert await asyncio.wait_for(server.wait(), 30) == 0
    await client.stop()


async def test_a_bad_address_is_a_clear_error():
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "promptwise", "lsp", "--tcp", "localhost", stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(server.communicate(), 30)
    assert server.returncode == 2
    assert err.decode() == "promptwise lsp: --tcp wants HOST:PORT, got 'localhost'\n"
