"""Open documents, the config that applies to each, and the analysis of each one's latest version, made on demand."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.uris import to_fs_path

from ..analysis import SEVERITY_ORDER, Analysis, analyze, catalog_for, duplicated_paragraphs
from ..config import LoadedConfig, load_config
from ..formats import Finding, Format, PromptDocument, Severity, detect_format, parse_document, reparse_document
from ..formats import too_large as too_large_finding
from ..text import Edit, LineIndex, Position, Span
from .settings import Settings

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


class Workspace:
    """Everything the features share: open documents, settings and configs. Analysis is lazy and per version."""

    def __init__(self) -> None:
        self.documents: dict[str, OpenDocument] = {}
        self.settings = Settings()
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
        self._configs.clear()
        for doc in self.documents.values():
            doc.snapshot = doc.previous = None

    def config_for(self, path: Path) -> LoadedConfig:
        folder = path.parent
        config = self._configs.get(folder)
        if config is None:
            overrides = self.settings.overrides() or None
            try:
                config = load_config(path, overrides)
            except Exception:  # load_config reports problems itself; this is a last resort
                log.exception("loading the config for %s failed", path)
                config = load_config(Path("/"), overrides)
            self._configs[folder] = config
            self.on_config_loaded(config)
        return config

    def loaded_configs(self) -> list[LoadedConfig]:
        return list(self._configs.values())

    # ---- analysis ----

    def snapshot(self, uri: str) -> Snapshot | None:
        """The analysis of the document's current version, made on the first request after a change."""
        doc = self.documents.get(uri)
        if doc is None or is_config_file(doc.path):
            return None
        if doc.snapshot is None or doc.snapshot.version != doc.version:
            return doc.analyzed(self._analyze(doc))
        return doc.snapshot

    def _analyze(self, doc: OpenDocument) -> Snapshot:
        began = time.perf_counter()
        try:
            return self._analyze_now(doc)
        finally:
            if time.perf_counter() - began > 0.1:
                self.on_heavy_work()

    def _analyze_now(self, doc: OpenDocument) -> Snapshot:
        config = self.config_for(doc.path)
        snap = Snapshot(doc.uri, doc.version, doc.path, doc.lines, config, None)
        text = doc.text
        problem = unanalyzable(text, config.settings.max_file_size)
        if problem is not None:
            snap.problems.append(problem)
            return snap
        try:
            fmt = detect_format(doc.path, config.settings.plain_prompts, config.root) or Format.PLAIN
            document = self._parse(doc, fmt, config)
            document._lines = doc.lines  # same text; spares the engine a second index
            previous = doc.previous.analysis if doc.previous is not None else None
            snap.analysis = analyze(document, config, catalog_for(config), duplicates=False, previous=previous)
        except Exception as exc:  # garbage in must never take the editor's server down
            log.exception("analysis of %s failed", doc.uri)
            snap.problems.append(
                Finding("analysis-failed", Severity.ERROR, f"promptwise could not analyze this file: {exc!r}", Span(0, 0))
            )
        return snap

    def _parse(self, doc: OpenDocument, fmt: Format, config: LoadedConfig) -> PromptDocument:
        """Parse the document's text, reusing the last analysis's parse for what an edit left alone."""
        prev = doc.previous
        if prev is not None and prev.analysis is not None and prev.config is config:
            old = prev.analysis.document
            if old.format is fmt:
                return reparse_document(old, doc.text, doc.edit_since(prev))
        return parse_document(doc.path, doc.text, fmt)


def unanalyzable(text: str, max_bytes: int) -> Finding | None:
    """Text the engine should not be given: binary content or more than max_file_size."""
    if "\x00" in text[:8192]:
        return Finding("binary-file", Severity.ERROR, "this is binary content, not a prompt; it was not analyzed", Span(0, 0))
    # Only encode to measure when the text could be over the limit (4 bytes per character at most).
    if len(text) * 4 > max_bytes:
        return too_large_finding(text, max_bytes)
    return None


def is_config_file(path: Path) -> bool:
    return path.name in CONFIG_FILES
