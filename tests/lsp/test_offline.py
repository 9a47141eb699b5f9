"""The server never imports litellm and never opens a network socket, whatever the editor asks of it."""

from __future__ import annotations

import json
import os
import sys

import pytest
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, client_capabilities

from tests.lsp.conftest import EXAMPLES, Session

GUARD = r"""
import atexit, json, os, socket, sys
events = []
def audit(event, args):
    if event in ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        events.append(event)
    elif event == "socket.__new__" and args[1] in (socket.AF_INET, socket.AF_INET6):
        events.append("socket.__new__(inet)")
sys.addaudithook(audit)
def report():
    with open(os.environ["PROMPTWISE_AUDIT"], "w") as out:
        json.dump({"network": events, "litellm": sorted(m for m in sys.modules if m.split(".")[0] == "litellm")}, out)
atexit.register(report)
from promptwise.cli.main import main
sys.exit(main(["lsp"]))
"""


@pytest.mark.parametrize("profile", ["visual_studio_code", "neovim"])
async def test_no_litellm_and_no_network_through_a_whole_session(tmp_path, profile):
    audit = tmp_path / "audit.json"
    env = {**os.environ, "PROMPTWISE_AUDIT": str(audit), "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty")}
    client = await ClientServerConfig(server_command=[sys.executable, "-c", GUARD], server_env=env).start()
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    await client.initialize_session(t.InitializeParams(capabilities=client_capabilities(profile), root_uri=EXAMPLES.as_uri()))
    session = Session(client, profile, EXAMPLES)
    for path in sorted(EXAMPLES.rglob("*")):
        if path.suffix not in (".md", ".prompty", ".prompt", ".txt") and path.name != ".cursorrules":
            continue
        uri = session.open(path)
        await session.hints(uri)
        await session.hover(uri, t.Position(1, 8))
        await session.diagnostics(uri)
        await session.command("promptwise.showBreakdown", uri)
        await session.command("promptwise.countTokens", uri)
        session.close(uri)
    client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings={"promptwise": {"defaultModel": "claude-sonnet-4-5"}}))
    await client.shutdown_session()
    await client.stop()
    report = json.loads(audit.read_text())
    assert report == {"network": [], "litellm": []}
