"""The protocol's rules pygls leaves out: errors for bad or early requests, and exiting when the client is gone.

- A request whose params do not match the method's type is answered with InvalidParams (-32602)
  saying what is wrong (pygls logs a traceback and never answers, so the editor waits forever).
- A request before `initialize` is answered with ServerNotInitialized (-32002); notifications
  before it are dropped, except `exit` (LSP spec, "initialize").
- A request after `shutdown` is answered with InvalidRequest (-32600) instead of silence.
- The server exits when stdin ends (the message loop returns), and when the process that started it
  (`processId` in `initialize`) is gone, even if the pipe stays open or an analysis is stuck.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcException

if TYPE_CHECKING:
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
PARENT_POLL_SECONDS = 1.0
EXIT_GRACE_SECONDS = 5.0  # after the client is gone, how long a normal exit may take before a hard one


@dataclass
class BadRequest:
    """A request whose params could not be read: answered with InvalidParams."""

    id: Any
    method: str
    reason: str
    jsonrpc: str = "2.0"


class PromptwiseProtocolErrors:
    """Mixed into the server's protocol class (a pygls JsonRPCProtocol)."""

    initialize_seen = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        # pygls' own version logs a traceback for a bad message (filtered out below) and never answers it.
        if not isinstance(data, dict) or "jsonrpc" not in data:
            return data
        try:
            return super().structure_message(data)  # type: ignore[misc]
        except JsonRpcException as exc:
            if "id" in data and isinstance(data.get("method"), str):
                return BadRequest(data["id"], data["method"], _reason(exc))
            log.warning("ignored a malformed %s message: %s", data.get("method", "response"), _reason(exc))
            return None

    def handle_message(self, message: Any) -> None:
        if message is None:
            return
        method = getattr(message, "method", None)
        is_request = method is not None and getattr(message, "id", None) is not None
        if not self.initialize_seen and method is not None:
            if method == types.INITIALIZE:
                self.initialize_seen = True
            elif is_request:
                self._error(message.id, SERVER_NOT_INITIALIZED, f"{method}: the server is not initialized yet (send initialize first)")
                return
            elif method != types.EXIT:
                return  # notifications before initialize are dropped
        if isinstance(message, BadRequest):
            if message.method == types.INITIALIZE:
                self.initialize_seen = False
            self._error(message.id, INVALID_PARAMS, f"invalid params for {message.method}: {message.reason}")
            return
        if is_request and getattr(self, "_shutdown", False) and method != types.EXIT:
            self._error(message.id, INVALID_REQUEST, f"{method}: the server is shutting down")
            return
        super().handle_message(message)  # type: ignore[misc]

    def _error(self, msg_id: Any, code: int, text: str) -> None:
        log.warning("%s", text)
        self._send_response(msg_id, error=types.ResponseError(code=code, message=text))  # type: ignore[attr-defined]


class _NoDeserializeTraceback(logging.Filter):
    """pygls logs a full traceback for every message it cannot read; the answer above says it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to deserialize message")


logging.getLogger("pygls.protocol.json_rpc").addFilter(_NoDeserializeTraceback())


def _reason(exc: BaseException) -> str:
    """What cattrs found wrong, in one line (`'line' must be an integer at params.position`)."""
    cause = exc.__cause__
    if cause is None:
        return str(exc) or type(exc).__name__
    try:
        from cattrs import transform_error

        found = transform_error(cause, path="message")  # type: ignore[arg-type]
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            return found[0] + more
    except Exception:
        pass
    return str(cause).splitlines()[0][:300] if str(cause) else type(cause).__name__


# ---- one document's failure is that document's, not the server's ----


def survives(default: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """A feature handler that, failing on one document, logs why and answers `default` (the document's
    own diagnostics say what is wrong with it) instead of an error message popping up per keystroke."""

    def wrap(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(handler)
        async def guarded(ls: Any, params: Any) -> Any:
            try:
                return await handler(ls, params)
            except (asyncio.CancelledError, JsonRpcException):
                raise
            except Exception:
                document = getattr(getattr(params, "text_document", None), "uri", None)
                log.exception("%s failed for %s", handler.__name__, document)
                return default

        return guarded

    return wrap


# ---- exiting when the client is gone ----


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    try:  # a zombie has exited; only its parent has not collected it yet
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def watch_client_process(ls: PromptwiseServer, pid: int, every: float = PARENT_POLL_SECONDS) -> threading.Thread | None:
    """Exit when the client process is gone. A pid that is not alive now (another machine, another
    container) is not watched: the server would exit at once."""
    if not isinstance(pid, int) or pid <= 0 or not process_alive(pid):
        log.info("client process %s is not visible from here; not watched", pid)
        return None

    def watch() -> None:
        while process_alive(pid):
            time.sleep(every)
        log.warning("the client process %s is gone; exiting", pid)
        exit_now(ls)

    thread = threading.Thread(target=watch, name="promptwise-client-watch", daemon=True)
    thread.start()
    return thread


def exit_now(ls: PromptwiseServer | None, code: int = 0) -> None:
    """Save what is worth keeping and end the process, however busy its threads are."""
    if ls is not None:
        ls.stopping = True
    try:
        from ..tokens import CACHE

        CACHE.save()
    except Exception:
        log.debug("saving the token cache failed", exc_info=True)
    for stream in (sys.stderr, sys.stdout):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def exit_soon(code: int = 0, grace: float = EXIT_GRACE_SECONDS) -> None:
    """The message loop ended: exit normally, or hard after `grace` seconds if a stuck thread (an
    analysis that never returns, a worker the interpreter waits for) holds the exit up."""
    timer = threading.Timer(grace, exit_now, (None, code))
    timer.daemon = True
    timer.name = "promptwise-exit"
    timer.start()
