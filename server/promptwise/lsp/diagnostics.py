"""Diagnostics: the engine's findings, pushed after a pause in typing or pulled when the client asks."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from .. import access
from ..config import LoadedConfig
from ..formats import Finding, Related, Severity
from ..text import LineIndex
from . import eval_results
from .positions import range_of

if TYPE_CHECKING:
    from .documents import Snapshot
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

SOURCE = "promptwise"
RELATED_FILE_BYTES = 8 * 1024 * 1024
DEBOUNCE_SECONDS = 0.3
LARGE_DOCUMENT = 256 * 1024  # characters: a pulled document's duplicate scan waits for a pause in typing
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def register_pull(server: PromptwiseServer) -> None:
    """Called at initialize, only for clients that pull; the others get diagnostics pushed."""
    options = types.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False)
    server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, options)(document_diagnostic)


async def document_diagnostic(ls: PromptwiseServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    uri = params.text_document.uri
    # Before the analysis, not after: a pull waiting for the pause would keep its version of the text alive,
    # and the pulls of a burst of typing kept dozens of copies of a long document (the heap grew by
    # megabytes a keystroke, each one a page fault).
    await _typing_paused(ls, uri)
    snap = await ls.analysis(uri)
    if snap is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = f"{ls.generation}:{snap.version}"
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    await ls.analyzer.run(snap.findings)  # the duplicate scan, on a worker
    return types.RelatedFullDocumentDiagnosticReport(items=diagnostics_for(ls, snap), result_id=result_id)


async def _typing_paused(ls: PromptwiseServer, uri: str) -> None:
    """In a long document, wait for a pause in typing before the duplicate scan, which reads the whole
    text: run on each keystroke it held the interpreter while the next keystroke's hints waited. A
    version replaced meanwhile is answered as cancelled; the editor pulls again for the new one."""
    doc = ls.state.get(uri)
    if doc is None or len(doc.text) < LARGE_DOCUMENT:
        return
    version = doc.version
    while (wait := doc.changed_at + DEBOUNCE_SECONDS - time.monotonic()) > 0:
        await asyncio.sleep(wait)
        if ls.state.get(uri) is not doc or doc.version != version:
            raise asyncio.CancelledError


def diagnostics_for(ls: PromptwiseServer, snap: Snapshot) -> list[types.Diagnostic]:
    if not ls.state.settings.diagnostics:
        return []
    other_files: dict[Path, LineIndex | None] = {}
    items = [to_diagnostic(f, snap, ls, other_files) for f in snap.findings()]
    return items + eval_results.diagnostics_for(ls, snap)  # failed eval cases, in a suite or cases file


def to_diagnostic(finding: Finding, snap: Snapshot, ls: PromptwiseServer, other_files: dict[Path, LineIndex | None]) -> types.Diagnostic:
    related = [info for r in finding.related if (info := _related(r, snap, ls, other_files)) is not None]
    return types.Diagnostic(
        range=range_of(snap.lines, finding.span),
        message=finding.message,
        severity=SEVERITIES[finding.severity],
        code=finding.code,
        source=SOURCE,
        related_information=related or None,
        tags=[types.DiagnosticTag.Unnecessary] if finding.unnecessary else None,
        data=dict(finding.data) if finding.data else None,
    )


def _related(r: Related, snap: Snapshot, ls: PromptwiseServer, other_files: dict[Path, LineIndex | None]) -> types.DiagnosticRelatedInformation | None:
    try:
        if _same_file(r.path, snap.path):
            uri, lines = snap.uri, snap.lines
        else:
            uri = r.path.absolute().as_uri()
            lines = _lines_of(r.path, ls, other_files)
        if r.span is not None and lines is not None:
            where = range_of(lines, r.span)
        else:
            at = types.Position(line=r.line, character=r.character)
            where = types.Range(start=at, end=at)
        return types.DiagnosticRelatedInformation(location=types.Location(uri=uri, range=where), message=r.message)
    except (OSError, ValueError):
        return None


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _lines_of(path: Path, ls: PromptwiseServer, cache: dict[Path, LineIndex | None]) -> LineIndex | None:
    """Another file's text: the editor's copy when it is open, else the file on disk."""
    if path not in cache:
        lines = None
        for doc in ls.state.documents.values():
            if _same_file(doc.path, path):
                lines = doc.lines
                break
        else:  # only a regular file, within a bound: never a FIFO or a device that blocks the server
            text, _ = access.read_text(path, RELATED_FILE_BYTES)
            lines = LineIndex(text) if text is not None else None
        cache[path] = lines
    return cache[path]


# ---- push ----


def schedule(ls: PromptwiseServer, uri: str, delay: float = DEBOUNCE_SECONDS) -> None:
    """Publish after `delay`; a newer change before then restarts the wait (only the last version is analyzed)."""
    if ls.pull_diagnostics or ls.stopping:
        return
    pending = ls.pending_diagnostics.pop(uri, None)
    if pending is not None:
        pending.cancel()
    loop = asyncio.get_running_loop()
    ls.pending_diagnostics[uri] = loop.call_later(delay, _publish_soon, ls, uri)


def _publish_soon(ls: PromptwiseServer, uri: str) -> None:
    ls.pending_diagnostics.pop(uri, None)
    task = asyncio.ensure_future(publish(ls, uri))
    ls.background.add(task)
    task.add_done_callback(ls.background.discard)


async def publish(ls: PromptwiseServer, uri: str) -> None:
    try:
        snap = await ls.analyzer.snapshot(uri)
        if snap is None or ls.stopping:
            return
        await ls.analyzer.run(snap.findings)
    except asyncio.CancelledError:
        return  # a newer version came: its own publish is scheduled
    if ls.stopping or ls.state.get(uri) is None:
        return
    try:
        items = diagnostics_for(ls, snap)
    except Exception:
        log.exception("diagnostics for %s failed", uri)
        items = []
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=snap.version))


def clear(ls: PromptwiseServer, uri: str) -> None:
    pending = ls.pending_diagnostics.pop(uri, None)
    if pending is not None:
        pending.cancel()
    if not ls.pull_diagnostics:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def refresh_all(ls: PromptwiseServer) -> None:
    """After a settings or config change: re-publish, or ask a pulling client to pull again."""
    if ls.pull_diagnostics:
        if ls.supports_diagnostic_refresh:
            ls.workspace_diagnostic_refresh(None)
        return
    for uri in list(ls.state.documents):
        schedule(ls, uri, 0)


# ---- config files ----


def config_problems(ls: PromptwiseServer, config: LoadedConfig) -> None:
    """Problems in a config file: diagnostics on that file, and one message so they are not missed."""
    if config.path is None:
        return
    key = (config.path, tuple(p.message for p in config.problems))
    previous = ls.reported_configs.get(config.path)
    if previous == key:
        return
    ls.reported_configs[config.path] = key
    items = [
        types.Diagnostic(
            range=types.Range(start=types.Position(line=p.line, character=0), end=types.Position(line=p.line + 1, character=0)),
            message=p.message,
            severity=types.DiagnosticSeverity.Error if "not valid TOML" in p.message else types.DiagnosticSeverity.Warning,
            code="config",
            source=SOURCE,
        )
        for p in config.problems
    ]
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=config.path.absolute().as_uri(), diagnostics=items))
    if config.problems:
        first = config.problems[0].message
        more = f" (and {len(config.problems) - 1} more)" if len(config.problems) > 1 else ""
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"promptwise: {config.path.name}: {first}{more}; those settings use their defaults",
            )
        )
