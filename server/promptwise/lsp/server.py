"""The pygls server: document sync, lifecycle, and the wiring of one module per feature."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import gc
import logging
import sys
import threading
from typing import Any, Generator

from lsprotocol import types
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from .. import __version__
from . import code_actions, code_lens, commands, condense, diagnostics, eval_runs, hover, inlay_hints, review, settings, workspace
from .documents import Snapshot, Workspace, is_config_file
from .lifecycle import PromptwiseProtocolErrors, exit_soon, watch_client_process
from .worker import Analyzer

log = logging.getLogger(__name__)

LARGE_TEXT = 256 * 1024  # characters: a document whose versions are worth handing back to the OS
IDLE_TRIM_DELAY = 2.0  # seconds without a keystroke in a large document


class PromptwiseProtocol(PromptwiseProtocolErrors, LanguageServerProtocol):
    """pygls' protocol, minus its own copy of open documents (documents.py keeps one, updated per edit),
    plus the protocol errors pygls leaves out (lifecycle.py)."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        # Every position is computed in UTF-16 (text.LineIndex), the encoding every client supports.
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        return (yield from super().lsp_initialize(params))

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Generator[Any, Any, None]:
        # pygls would re-split the whole text into lines on every keystroke; the server's copy does not.
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class PromptwiseServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "promptwise",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=PromptwiseProtocol,
        )
        self.state = Workspace()
        self.analyzer = Analyzer(self.state)
        self.loop: asyncio.AbstractEventLoop | None = None  # the message loop, once serving
        self.background: set[asyncio.Future] = set()  # tasks nobody awaits, kept until they finish
        self.folders: list = []  # the workspace folders (workspace.py)
        # Both are called from analysis workers too: what they send goes through the message loop.
        self.state.on_config_loaded = lambda config: self.on_loop(diagnostics.config_problems, self, config)
        self.pull_diagnostics = False
        self.supports_diagnostic_refresh = False
        self.supports_inlay_hint_refresh = False
        self.supports_configuration = False
        self.generation = 0  # bumped when settings or config change, so pulled results are not reused
        self.pending_diagnostics: dict[str, asyncio.TimerHandle] = {}
        self.reported_configs: dict[Any, Any] = {}
        self.pending_messages: list[types.ShowMessageParams] = []
        self.initialized_done = False
        self._ready = asyncio.Event()
        self._trim: asyncio.TimerHandle | None = None
        self.state.on_heavy_work = lambda: self.on_loop(self.trim_later)
        self.stopping = False  # after shutdown nothing more is sent: the client stops reading

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls reports a failed send by sending a message, which fails again, without end, once the
        # client has closed the pipe: after shutdown, or when the write itself failed, only log it.
        if self.stopping or isinstance(error, (OSError, ValueError)) or "closed file" in str(error):
            log.warning("not reported to the client: %s", error)
            return
        super().report_server_error(error, source)

    def stop_timers(self) -> None:
        self.stopping = True
        for pending in self.pending_diagnostics.values():
            pending.cancel()
        self.pending_diagnostics.clear()
        if self._trim is not None:
            self._trim.cancel()
            self._trim = None

    async def ready(self, uri: str | None = None) -> None:
        """Wait (briefly) until the editor's settings are known, so the first answers already use them.

        With `uri`, a request whose document was edited while it waited is skipped: its position or
        range is in text that is gone. It is answered as cancelled (RequestCancelled), which editors drop
        silently; the editor asks again for its new version.
        """
        if self._ready.is_set():
            return
        doc = self.state.get(uri) if uri is not None else None
        version = doc.version if doc is not None else None
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=2.0)
        except asyncio.TimeoutError:
            log.warning("no workspace/configuration answer after 2 s; using the settings known so far")
            self._ready.set()
        if doc is not None and (self.state.get(uri) is not doc or doc.version != version):
            raise asyncio.CancelledError

    def mark_ready(self) -> None:
        self._ready.set()

    async def analysis(self, uri: str) -> Snapshot | None:
        """The analysis of the document's version the request was sent for, made on a worker thread."""
        await self.ready(uri)
        return await self.analyzer.snapshot(uri)

    def on_loop(self, fn: Any, *args: Any) -> None:
        """Run `fn` on the message loop: now when called there, else as soon as the loop is free."""
        loop = self.loop
        if loop is None or not loop.is_running():
            fn(*args)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def trim_later(self) -> None:
        """Hand freed heap back to the OS a moment after heavy work (glibc keeps it otherwise): loading
        a tokenizer frees tens of MB of temporaries that would stay resident for the whole session."""
        if self._trim is None:
            try:
                self._trim = asyncio.get_running_loop().call_later(1.0, self._trim_now)
            except RuntimeError:  # no event loop (the server's parts used directly)
                trim_memory()

    def trim_when_idle(self) -> None:
        """Hand freed heap back once typing pauses. Each keystroke in a large file frees a version's worth
        of strings, which glibc keeps: 600 keystrokes in a 1 MiB .prompt grew the server by ~200 MB.
        malloc_trim takes milliseconds on such a heap, so it waits for a pause, not for a keystroke."""
        if self._trim is not None:
            self._trim.cancel()
        self._trim = asyncio.get_running_loop().call_later(IDLE_TRIM_DELAY, self._trim_now, True)

    def _trim_now(self, paused: bool = False) -> None:
        self._trim = None
        if paused:  # a full collection takes tens of ms: only when typing pauses, never between two keys
            settle_heap()
        trim_memory()

    def refresh(self) -> None:
        """Settings or a config file changed: re-analyze lazily and ask the client to ask again."""
        self.generation += 1
        self.state.reload()
        if self.supports_inlay_hint_refresh:
            self.workspace_inlay_hint_refresh(None)
        diagnostics.refresh_all(self)


def create_server() -> PromptwiseServer:
    server = PromptwiseServer()
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(did_save)
    server.feature(types.SHUTDOWN)(shutdown)
    server.feature(types.EXIT)(shutdown)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(workspace.did_change_workspace_folders)
    inlay_hints.register(server)
    hover.register(server)
    commands.register(server)
    settings.register(server)
    code_actions.register(server)
    code_lens.register(server)
    eval_runs.register(server)
    condense.register(server)
    review.register(server)
    return server


# ---- lifecycle ----


def _capability(obj: Any, *path: str) -> Any:
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def initialize(ls: PromptwiseServer, params: types.InitializeParams) -> None:
    caps = params.capabilities
    ls.pull_diagnostics = _capability(caps, "text_document", "diagnostic") is not None
    ls.supports_diagnostic_refresh = bool(_capability(caps, "workspace", "diagnostics", "refresh_support"))
    ls.supports_inlay_hint_refresh = bool(_capability(caps, "workspace", "inlay_hint", "refresh_support"))
    ls.supports_configuration = bool(_capability(caps, "workspace", "configuration"))
    if ls.pull_diagnostics:
        # Registered now, before pygls computes the capabilities it announces.
        diagnostics.register_pull(ls)
    options, user, ls.state.trusted = workspace.split_options(params.initialization_options)
    workspace.set_folders(ls, workspace.folders_of(params))
    workspace.apply_user(ls, user)
    if options is not None:
        settings.apply(ls, options, refresh=False)
    if params.process_id is not None:
        watch_client_process(ls, params.process_id)
    if not ls.supports_configuration:
        ls.mark_ready()


async def initialized(ls: PromptwiseServer, params: types.InitializedParams) -> None:
    ls.initialized_done = True
    _warm_up()  # counted from here, not from the start: imports take most of the first second
    for message in ls.pending_messages:
        ls.window_show_message(message)
    ls.pending_messages.clear()
    settings.watch_config_files(ls)
    if not ls.state.trusted:
        log.info("restricted workspace: evals are disabled")
    if ls.supports_configuration:
        # Requests wait in ready() for this answer, so they are never computed with stale settings.
        await settings.fetch(ls, refresh=False)
        ls.mark_ready()


def shutdown(ls: PromptwiseServer, *args: Any) -> None:
    ls.stop_timers()


def did_open(ls: PromptwiseServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    doc = ls.state.open(item.uri, item.text, item.version, item.language_id)
    if is_config_file(doc.path):
        settings.check_config_file(ls, doc.path)
        return
    diagnostics.schedule(ls, item.uri, 0.05)
    review.opened(ls, item.uri)  # HEAD's side, made in the background for the hover's change line


def did_change(ls: PromptwiseServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc = ls.state.change(uri, params.text_document.version, params.content_changes)
    ls.analyzer.changed(uri)
    if doc is not None and not is_config_file(doc.path):
        diagnostics.schedule(ls, uri)
        if len(doc.text) > LARGE_TEXT:
            ls.trim_when_idle()


def did_close(ls: PromptwiseServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc = ls.state.get(uri)
    ls.state.close(uri)
    ls.analyzer.closed(uri)
    if doc is not None and not is_config_file(doc.path):
        diagnostics.clear(ls, uri)


def did_save(ls: PromptwiseServer, params: types.DidSaveTextDocumentParams) -> None:
    doc = ls.state.get(params.text_document.uri)
    if doc is None:
        return
    if is_config_file(doc.path):
        settings.check_config_file(ls, doc.path)
    # A saved file can be a partial, an @import or a config another open prompt depends on.
    ls.refresh()
    review.saved(ls, params.text_document.uri)


# ---- start ----


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def settle_heap() -> None:
    """Collect, then leave what is alive (the price map, the tokenizer, the modules) out of every later
    collection: each full collection walked all of it, a pause of 40 ms and more in the middle of a
    keystroke. Called after warm-up and when typing pauses, so the next collections see only new objects."""
    gc.collect()
    gc.freeze()


def trim_memory() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def tune_malloc() -> None:
    """Keep multi-MB strings on the heap instead of fresh mmap pages per keystroke.

    Every edit of a 1 MiB document builds a new copy of its text; glibc serves such blocks with
    mmap and returns them on free, so each keystroke paid page faults on megabytes (measured: 2.7 ms
    for LineIndex.replaced on 1 MiB, 1.2 ms with these settings). trim_memory() still hands memory
    back after heavy work.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8
    # One heap for every thread: analyses run on worker threads, and glibc would give each its own
    # arena, where a freed version of a big document stays (measured: +60 MB after typing in 1 MiB).
    # Python runs one thread at a time anyway, so they do not contend for it.
    libc.mallopt(m_arena_max, 1)
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 64 << 20)
    libc.mallopt(m_top_pad, 4 << 20)


def _warm_up(delay: float = 1.0) -> threading.Timer:
    """Load the default tokenizer and the price map a second after the client is initialized.

    Counts of text seen before come from the on-disk store, so the first answers need no
    tokenizer; loading it holds the GIL, so it waits until those answers are out.
    """

    def run() -> None:
        try:
            from ..catalog import Catalog
            from ..tokens import get_encoder

            get_encoder("o200k_base")
            Catalog.bundled()
        except Exception:  # reported when actually needed
            log.debug("warm-up failed", exc_info=True)
        settle_heap()
        trim_memory()

    timer = threading.Timer(delay, run)
    timer.name = "promptwise-warm-up"
    timer.daemon = True
    timer.start()
    return timer


def start(tcp: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="promptwise lsp: %(levelname)s %(message)s")
    host, _, port = (tcp or "").rpartition(":")
    if tcp and not port.isdigit():
        print(f"promptwise lsp: --tcp wants HOST:PORT, got {tcp!r}", file=sys.stderr)
        return 2
    tune_malloc()
    from ..tokens import CACHE

    atexit.register(CACHE.save)  # counts seen this session make the next start instant
    server = create_server()
    code = 0
    try:
        asyncio.run(_serve_tcp(server, host or "127.0.0.1", int(port)) if tcp else _serve_stdio(server))
    except SystemExit as exc:  # `exit`: 0 after shutdown, 1 without (LSP spec)
        code = exc.code if isinstance(exc.code, int) else 0
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        exit_soon(code)  # whatever ended the loop (exit, end of input), threads left running do not keep it alive
        server.shutdown()
    return code


async def _serve_stdio(server: PromptwiseServer) -> None:
    """pygls' message loop over stdin as a non-blocking pipe.

    pygls' own stdio reader hands every line to a worker thread; on a busy machine those hand-offs
    cost milliseconds per message, more than answering an inlay hint request does.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    except (ValueError, OSError):  # stdin is not a pipe (a file, a terminal): pygls' threaded reader
        await loop.run_in_executor(None, server.start_io)
        return
    await _serve(server, reader, StdoutWriter(sys.stdout.buffer))


async def _serve_tcp(server: PromptwiseServer, host: str, port: int) -> None:
    """One client over TCP, for debugging: the same message loop as stdio. Port 0 picks a free port;
    the address is printed on stderr either way."""
    finished = asyncio.Event()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _serve(server, reader, writer)
        finally:
            finished.set()

    listener = await asyncio.start_server(connected, host, port, limit=1 << 30)
    bound = listener.sockets[0].getsockname()
    print(f"promptwise lsp: listening on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
    async with listener:
        await finished.wait()


async def _serve(server: PromptwiseServer, reader: asyncio.StreamReader, writer: Any) -> None:
    """pygls' message loop for one connection, reading messages in order (_InOrder). It returns when
    the client closes the connection (end of stdin): then the server exits, even with work unfinished."""
    server._stop_event = threading.Event()
    server.loop = asyncio.get_running_loop()
    server.protocol.set_writer(writer)
    try:
        await run_async(
            stop_event=server._stop_event,
            reader=_InOrder(reader),
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    finally:
        server.stop_timers()
        exit_soon()


class _InOrder:
    """The reader, yielding to the event loop before each message.

    pygls starts an async request handler as a task, which first runs when the loop is next free;
    reading messages that are already buffered never frees it, so a hover sent before a keystroke
    was computed after that keystroke's didChange, at a position in text the client had not seen.
    One yield per line lets each request read the version it was sent for.
    """

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        await asyncio.sleep(0)
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError:  # the client went away mid-message
            return b""
