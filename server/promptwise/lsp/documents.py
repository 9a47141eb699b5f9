"""Open documents, the config that applies to each, and the analysis of each one's latest version, made on demand."""

from __future__ import annotations

import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.uris import to_fs_path

from .. import access
from ..analysis import SEVERITY_ORDER, Analysis, analyze, catalog_for, duplicated_paragraphs
from ..config import LoadedConfig, load_config
from ..formats import Finding, Format, PromptDocument, Severity, detect_format, parse_document, reparse_document
from ..formats import too_large as too_large_finding
from ..formats.limits import OUTSIDE_WORKSPACE
from ..text import Edit, LineIndex, Position, Span
from .settings import Settings
from .workspace import UserEvals

log = logging.getLogger(__name__)

CONFIG_FILES = ("promptwise.toml", "pyproject.toml")


def uri_to_path(uri: str) -> Path:
    fs_path = to_fs_path(uri)
    if fs_path is not None and urlparse(uri).scheme == "file":
        return Path(fs_path)
    # untitled:Untitled-1 and friends: a name for format detection, config from the working folder.
    return Path.cwd() / Path(unquote(urlparse(uri).path) or "untitled").name


@dataclass
class Snapshot:
    """One version of a document with what the engine made of it."""

    uri: str
    version: int
    path: Path
    lines: LineIndex
    config: LoadedConfig
    analysis: Analysis | None
    problems: list[Finding] = field(default_factory=list)  # why there is no analysis
    _diagnostics: list[Finding] | None = None

    @property
    def text(self) -> str:
        return self.lines.text

    def findings(self) -> list[Finding]:
        """Every finding, duplicated paragraphs included (left out of the per-keystroke analysis)."""
        if self._diagnostics is None:
            if self.analysis is None:
                self._diagnostics = list(self.problems)
            else:
                a = self.analysis
                found = list(a.findings)
                try:
                    found += duplicated_paragraphs(a.document, a.tokenizer, self.config.settings.duplicate_min_chars)
                except Exception:  # a finding we cannot compute is not worth a broken editor
                    log.exception("duplicate scan failed for %s", self.uri)
                found.sort(key=lambda f: (f.span.start, SEVERITY_ORDER[f.severity]))
                self._diagnostics = found
        return self._diagnostics


class OpenDocument:
    """The editor's text of one document, kept in step with its incremental changes."""

    def __init__(self, uri: str, text: str, version: int, language_id: str = "") -> None:
        self.uri = uri
        self.path = uri_to_path(uri)
        self.version = version
        self.language_id = language_id
        self.lines = LineIndex(text)
        self.snapshot: Snapshot | None = None
        self.previous: Snapshot | None = None  # the last analysis of an older version, to re-parse from
        # How much of the text at each end is unchanged since the last snapshot: what a re-parse may reuse.
        self.same_prefix = self.same_suffix = 0
        self.changed_at = 0.0  # time.monotonic() of the last edit: whether the user is typing

    @property
    def text(self) -> str:
        return self.lines.text

    def apply(self, changes: Sequence[types.TextDocumentContentChangeEvent], version: int) -> None:
        lines = self.lines
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = lines.offset(Position(change.range.start.line, change.range.start.character))
                end = max(start, lines.offset(Position(change.range.end.line, change.range.end.character)))
                self.same_prefix = min(self.same_prefix, start)
                self.same_suffix = min(self.same_suffix, len(lines.text) - end)
                lines = lines.replaced(Span(start, end), change.text)
            else:
                lines = LineIndex(change.text)
                self.same_prefix = self.same_suffix = 0
        self.lines = lines
        self.version = version
        self.changed_at = time.monotonic()
        if self.snapshot is not None:
            self.previous, self.snapshot = self.snapshot, None

    def stale(self) -> None:
        """What the analysis rests on changed outside the text (an eval run measured new usage): the next
        request analyses again, re-parsing from this version at no cost."""
        if self.snapshot is not None:
            self.previous, self.snapshot = self.snapshot, None

    def edit_since(self, snap: Snapshot) -> Edit:
        """One edit that turns `snap`'s text into the current text: everything between the unchanged ends."""
        old, new = len(snap.text), len(self.text)
        # The unchanged ends may not overlap in either version.
        prefix = min(self.same_prefix, old, new)
        suffix = min(self.same_suffix, old - prefix, new - prefix)
        return Edit(prefix, old - suffix, new - suffix)

    def analyzed(self, snap: Snapshot) -> Snapshot:
        self.snapshot, self.previous = snap, None
        self.same_prefix = self.same_suffix = len(self.text)
        return snap

    def outdated(self, snap: Snapshot) -> None:
        """An analysis that finished after the text changed again: the next one re-parses from it.
        The unchanged ends tracked since the older base are unchanged since `snap` too."""
        if self.snapshot is None and (self.previous is None or self.previous.version < snap.version):
            self.previous = snap


class Workspace:
    """Everything the features share: open documents, settings and configs. Analysis is lazy and per version."""

    def __init__(self) -> None:
        self.documents: dict[str, OpenDocument] = {}
        self.settings = Settings()
        self.generation = 0  # bumped by reload(): analyses and configs made before are not kept
        # From initializationOptions (user-scope settings only): where eval calls go, and whether the
        # editor trusts the workspace (false: no command calls a model). Read by the eval commands.
        self.user_evals: UserEvals = UserEvals()
        self.trusted = True
        self._configs: dict[Path, LoadedConfig] = {}
        self.on_config_loaded: Callable[[LoadedConfig], None] = lambda config: None
        # Called after an analysis that allocated a lot (a tokenizer loaded, a big file).
        self.on_heavy_work: Callable[[], None] = lambda: None

    # ---- documents ----

    def open(self, uri: str, text: str, version: int, language_id: str = "") -> OpenDocument:
        doc = OpenDocument(uri, text, version, language_id)
        self.documents[uri] = doc
        return doc

    def change(self, uri: str, version: int, changes: Sequence[types.TextDocumentContentChangeEvent]) -> OpenDocument | None:
        doc = self.documents.get(uri)
        if doc is not None:
            doc.apply(changes, version)
        return doc

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)

    def get(self, uri: str) -> OpenDocument | None:
        return self.documents.get(uri)

    # ---- configuration ----

    def set_settings(self, settings: Settings) -> bool:
        """Use new editor settings; True when they differ from the current ones."""
        if settings == self.settings:
            return False
        self.settings = settings
        self.reload()
        return True

    def reload(self) -> None:
        """Forget configs and analyses: a config file, an included file or the settings changed."""
        self.generation += 1
        self._configs.clear()
        for doc in self.documents.values():
            doc.snapshot = doc.previous = None

    def config_for(self, path: Path) -> LoadedConfig:
        """The config for a file's folder; may run on a worker thread (the callbacks know)."""
        folder = path.parent
        config = self._configs.get(folder)
        if config is None:
            generation = self.generation
            overrides = self.settings.overrides() or None
            try:
                config = load_config(path, overrides)
            except Exception:  # load_config reports problems itself; this is a last resort
                log.exception("loading the config for %s failed", path)
                config = load_config(Path("/"), overrides)
            if generation == self.generation:  # settings changed meanwhile: this one is already stale
                config = self._configs.setdefault(folder, config)
            self.on_config_loaded(config)
        return config

    def loaded_configs(self) -> list[LoadedConfig]:
        return list(self._configs.values())

    # ---- analysis ----

    def snapshot(self, uri: str) -> Snapshot | None:
        """The analysis of the document's current version, made here and now (the server makes it on a
        worker instead: see worker.py)."""
        doc = self.documents.get(uri)
        if doc is None or is_config_file(doc.path):
            return None
        if doc.snapshot is None or doc.snapshot.version != doc.version:
            return doc.analyzed(self.analyze(self.prepare(doc)))
        return doc.snapshot

    def prepare(self, doc: OpenDocument) -> "Pending":
        """Everything an analysis of the document's current version reads, taken now: the editor's
        text keeps changing while a worker analyzes, and the worker must not see that."""
        prev = doc.previous
        edit = doc.edit_since(prev) if prev is not None else None
        return Pending(doc.uri, doc.version, doc.path, doc.lines, prev, edit, self.generation)

    def analyze(self, job: "Pending") -> Snapshot:
        """One version's analysis; safe on a worker thread. Never raises: a failure is a finding."""
        began = time.perf_counter()
        try:
            return self._analyze_now(job)
        except Exception as exc:  # MemoryError and RecursionError included: one finding, not a dead server
            log.exception("analysis of %s failed", job.uri)
            snap = Snapshot(job.uri, job.version, job.path, job.lines, self._fallback_config(), None)
            snap.problems.append(analysis_failed(exc))
            return snap
        finally:
            if time.perf_counter() - began > 0.1:
                self.on_heavy_work()

    def _analyze_now(self, job: "Pending") -> Snapshot:
        config = self.config_for(job.path)
        snap = Snapshot(job.uri, job.version, job.path, job.lines, config, None)
        text = job.lines.text
        problem = unanalyzable(text, config.settings.max_file_size)
        if problem is None and job.uri.startswith("file:"):
            problem = not_a_workspace_file(job.path)
        if problem is not None:
            snap.problems.append(problem)
            return snap
        try:
            fmt = detect_format(job.path, config.settings.plain_prompts, config.root) or Format.PLAIN
            document = self._parse(job, fmt, config)
            document._lines = job.lines  # same text; spares the engine a second index
            previous = job.previous.analysis if job.previous is not None else None
            snap.analysis = analyze(document, config, catalog_for(config), duplicates=False, previous=previous)
        except Exception as exc:  # garbage in must never take the editor's server down
            log.exception("analysis of %s failed", job.uri)
            snap.problems.append(analysis_failed(exc))
        return snap

    def _parse(self, job: "Pending", fmt: Format, config: LoadedConfig) -> PromptDocument:
        """Parse the version's text, reusing the last analysis's parse for what an edit left alone."""
        prev = job.previous
        if prev is not None and prev.analysis is not None and prev.config is config and job.edit is not None:
            old = prev.analysis.document
            if old.format is fmt:
                return reparse_document(old, job.lines.text, job.edit)
        return parse_document(job.path, job.lines.text, fmt, config.settings.max_file_size)

    def _fallback_config(self) -> LoadedConfig:
        return load_config(Path("/"), self.settings.overrides() or None)


@dataclass(frozen=True)
class Pending:
    """One version of a document waiting to be analyzed, with all the analysis may read."""

    uri: str
    version: int
    path: Path
    lines: LineIndex
    previous: Snapshot | None
    edit: Edit | None
    generation: int  # Workspace.generation when taken: a result from older settings is not kept


def analysis_failed(exc: BaseException) -> Finding:
    reason = "it needs more memory than is available" if isinstance(exc, MemoryError) else (
        "it is nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {str(exc)[:300]}"
    )
    return Finding("analysis-failed", Severity.ERROR, f"promptwise could not analyze this file: {reason}", Span(0, 0))


def unanalyzable(text: str, max_bytes: int) -> Finding | None:
    """Text the engine should not be given: binary content or more than max_file_size."""
    if "\x00" in text[:8192]:
        return Finding("binary-file", Severity.ERROR, "this is binary content, not a prompt; it was not analyzed", Span(0, 0))
    # Only encode to measure when the text could be over the limit (4 bytes per character at most).
    if len(text) * 4 > max_bytes:
        return too_large_finding(text, max_bytes)
    return None


def not_a_workspace_file(path: Path) -> Finding | None:
    """What the editor opened is not a regular file of the workspace: a FIFO, a device, a broken link or
    a symlink loop, or a link to a file outside the workspace (a repository's link to the user's key).
    The editor read it itself; the server does not analyze it, and says why."""
    try:
        info = os.lstat(path)
    except OSError:
        return None  # not on disk (yet): an unsaved file is the editor's text alone
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else path
        return _not_read(f"{path} is a link to {target}, which does not exist; it was not analyzed")
    except (OSError, RuntimeError):
        return _not_read(f"{path} is a symlink loop; it was not analyzed")
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return None
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else (
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        )
        return _not_read(f"{path} is {kind}, not a regular file; it was not analyzed")
    if real != path.absolute():
        why = access.refusal(real, path.parent)  # the link's own folder decides which workspace it is in
        if why is not None:
            return Finding(OUTSIDE_WORKSPACE, Severity.ERROR, f"{path.name} is a link: {why}", Span(0, 0))
    return None


def _not_read(message: str) -> Finding:
    return Finding("unreadable-file", Severity.ERROR, message, Span(0, 0))


def is_config_file(path: Path) -> bool:
    return path.name in CONFIG_FILES
