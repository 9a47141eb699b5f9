"""Run promptwise as a hostile repository's victim would, and record what it did: `python guard.py LOG -- ARGS...`.

Caps the address space (RLIMIT_AS, from PROMPTWISE_GUARD_AS bytes) and installs an audit hook that
writes, one JSON line each, every network connection, name lookup and process start to LOG, so a
test can check that nothing ran and nothing went anywhere but the fake model server.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def main() -> int:
    log_path, separator, *args = sys.argv[1:]
    assert separator == "--"
    limit = int(os.environ.get("PROMPTWISE_GUARD_AS", "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def record(kind: str, detail: object) -> None:
        os.write(fd, (json.dumps({"event": kind, "detail": repr(detail)[:500]}) + "\n").encode())

    def hook(event: str, event_args: tuple) -> None:
        if event == "socket.connect":
            record("connect", event_args[1])
        elif event == "socket.getaddrinfo":
            record("resolve", event_args[:2])
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty"):
            record("process", (event, event_args[:2]))

    sys.addaudithook(hook)
    from promptwise.cli.main import main as promptwise

    return promptwise(args)


if __name__ == "__main__":
    sys.exit(main())
