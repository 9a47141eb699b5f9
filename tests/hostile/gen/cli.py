"""Files `check` and `count` meet while walking a repository that cannot be checked in: a symlink loop,
a FIFO, a socket, a link to /dev/zero, a broken link, a link to a secret outside the workspace, a
folder that links back to itself, and a file name carrying terminal escapes."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def generate(workspace: Path, ctx) -> None:
    folder = workspace / "cli-files"
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink("cli-loop.prompty", folder / "cli-loop.prompty")  # resolves to itself
    os.symlink("cli-loop-b.prompt", folder / "cli-loop-a.prompt")
    os.symlink("cli-loop-a.prompt", folder / "cli-loop-b.prompt")
    os.mkfifo(folder / "cli-fifo.prompt")  # a plain open() waits for a writer forever
    os.symlink("/dev/zero", folder / "cli-zero.prompty")  # a plain read() never ends
    os.symlink("does-not-exist.prompt", folder / "cli-broken.prompt")
    os.symlink(ctx.secret_file, folder / "cli-outside.prompty")  # a repository's link to the user's key
    os.symlink(".", folder / "cli-self")  # a folder that contains itself
    # A name that would clear the terminal and retitle it if printed raw; its body has a finding.
    (folder / "cli-\x1b[2J\x1b]0;owned\x07.prompt").write_text("Hello {{who}}.\n", encoding="utf-8")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # A socket file: bound here and closed, it stays as a socket nobody listens on.
        sock.bind(str(folder / "AGENTS.md"))
    except OSError:  # path too long for a Unix socket on this machine
        pass
    finally:
        sock.close()
