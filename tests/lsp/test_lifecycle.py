"""The server ends when its client does: at the end of stdin, and when the `processId` it was given
at initialize is gone (the pipe left open), also while an analysis is stuck on a slow file."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.conftest import ROOT, SERVER, TRIAGE

SLOW_SERVER = [sys.executable, str(Path(__file__).with_name("slow_server.py")), "lsp"]
HANG_GUARD = 60.0  # seconds: a server that does not exit fails the test instead of hanging it


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def start(command: list[str], root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "server")},
    )


def greet(server: subprocess.Popen, root: Path, process_id: int | None, *, slow_file: bool = False) -> None:
    """initialize, initialized, and (with slow_file) a file whose analysis never ends plus a request for it."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": process_id, "rootUri": root.as_uri(), "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    ]
    if slow_file:
        uri = (root / "slow-stuck.prompty").as_uri()
        messages += [
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "prompty", "version": 1, "text": TRIAGE}}},
            {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}},
        ]
    server.stdin.write(frame(messages[0]))
    server.stdin.flush()
    answer = read_message(server)  # initialized: from here on the server knows the client's pid
    assert answer["id"] == 1 and "capabilities" in answer["result"]
    server.stdin.write(b"".join(frame(m) for m in messages[1:]))
    server.stdin.flush()


def read_message(server: subprocess.Popen) -> dict:
    """One message from the server's stdout (waiting at most HANG_GUARD seconds)."""
    fd = server.stdout.fileno()
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                if len(rest) >= length:
                    return json.loads(rest[:length])
            if not selector.select(HANG_GUARD):
                pytest.fail("no answer from the server")
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail("the server closed its output")
            data += chunk


def exits(server: subprocess.Popen) -> int:
    try:
        return server.wait(HANG_GUARD)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        pytest.fail("the server kept running after its client was gone")


@pytest.mark.parametrize("command", [SERVER, SLOW_SERVER], ids=["idle", "analysis-stuck"])
def test_the_end_of_stdin_ends_the_server(tmp_path: Path, command: list[str]):
    server = start(command, tmp_path)
    greet(server, tmp_path, os.getpid(), slow_file=command is SLOW_SERVER)
    server.stdin.close()
    assert exits(server) == 0
    assert b"Traceback" not in server.stderr.read()


@pytest.mark.parametrize("command", [SERVER, SLOW_SERVER], ids=["idle", "analysis-stuck"])
def test_the_server_exits_when_the_client_process_is_gone(tmp_path: Path, command: list[str]):
    client = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    server = start(command, tmp_path)
    try:
        greet(server, tmp_path, client.pid, slow_file=command is SLOW_SERVER)
        client.kill()
        client.wait()
        assert exits(server) == 0  # stdin is still open: only the process watch can end it
    finally:
        client.kill()
        server.stdin.close()
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_process_id_not_visible_from_here_is_not_watched(tmp_path: Path):
    """A client on another machine or in another container sends a pid that is not ours to see."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    server = start(SERVER, tmp_path)
    greet(server, tmp_path, gone.pid)
    with pytest.raises(subprocess.TimeoutExpired):
        server.wait(3)  # still serving (three watch periods); not a timing assertion on the answer
    server.stdin.close()
    assert exits(server) == 0
