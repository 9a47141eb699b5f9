"""What an instruction file pulls in: Claude Code's and Gemini CLI's `@path` imports, VS Code's linked files.

Each tool's own rule decides what is a reference; every read goes through `read_include` (workspace only,
regular files, size-capped) and all of them together stay within the limits derived from max_file_size."""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from pathlib import Path

from ..text import Span
from .common import read_include, report_includes, resolve
from .document import Include, Message, PromptDocument, Severity
from .limits import LIMIT_EXCEEDED, limits_for, size_words

# Claude Code: `@path` outside code spans and fenced blocks, relative to the importing file, five hops deep.
_CLAUDE_IMPORT = re.compile(r"(?<![\w`@/])@(?P<path>(?:~/|\.{1,2}/|/)?[\w.\-]+(?:/[\w.\-]+)*)")
# Gemini CLI: an `@` at the start or after white space, the path running to the next white space.
_GEMINI_IMPORT = re.compile(r"(?:(?<=[ \t\r\n])|^)@(?P<path>[./A-Za-z][^ \t\r\n]*)", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# VS Code attaches local files linked from prompt and instructions files as context.
# Neither the label nor the target may hold `[`: each match attempt then stops where the next one
# starts, so a line of thousands of `[` or `[](x` is scanned once, not once per bracket.
_MARKDOWN_LINK = re.compile(r"(?<!!)\[(?P<label>[^\[\]\n]*)\]\((?P<target>[^)\s\[]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_URL = re.compile(r"^(?:file|https?)://", re.IGNORECASE)
# A bare `@name` is an import that must exist only when it ends like a file one would import; `.com`,
# `.io` and the like are domains and handles. Without such an ending (`@README`, `@types/node`), it is an
# import only if the file is there, as Claude Code silently skips what does not resolve.
_FILE_ENDINGS = frozenset(
    "md mdx markdown txt rst adoc org json jsonc json5 yaml yml toml ini cfg conf env xml csv tsv html htm css scss "
    "py pyi js mjs cjs ts tsx jsx mts cts rs go java kt kts rb php cs fs c h cc cpp hpp swift dart lua r sql sh bash "
    "zsh ps1 bat gradle tf hcl proto graphql gql vue svelte astro ex exs erl hs ml scala clj prompt prompty mdc "
    "lock".split()
)
_MAX_IMPORT_DEPTH = 5
_MAX_PATH = 1024  # longer is no real import; resolving a path costs time quadratic in its folders


class CodeRegions:
    """Fenced blocks and code spans of a text, merged and sorted, so a lookup is a bisection (a file of
    thousands of backticks and imports stays linear-logarithmic)."""

    def __init__(self, text: str) -> None:
        found: list[tuple[int, int]] = []
        fences = list(_FENCE.finditer(text))
        for opening, closing in zip(fences[::2], fences[1::2]):
            found.append((opening.start(), closing.end()))
        if len(fences) % 2:
            found.append((fences[-1].start(), len(text)))
        found.extend((m.start(), m.end()) for m in _CODE_SPAN.finditer(text))
        found.sort()
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in found:
            if self.ends and start < self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def contains(self, offset: int) -> bool:
        i = bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.ends[i]


class _Expansion:
    """What one file's imports and links have pulled in so far, against the limits from max_file_size."""

    def __init__(self, doc: PromptDocument) -> None:
        self.doc = doc
        self.limits = limits_for(doc.max_bytes)
        self.count = 0
        self.chars = 0
        self.stopped = False
        self.read_cache: dict[Path, tuple[str | None, str | None, str]] = {}

    def read(self, path: Path) -> tuple[str | None, str | None, str]:
        if path not in self.read_cache:
            self.read_cache[path] = read_include(path, self.doc.path, self.limits)
        return self.read_cache[path]

    def admit(self, what: str, span: Span, size: int | None = None) -> bool:
        """Count one more include before reading it (so failed ones count too), or with `size` the
        characters it read; False, and one finding for the file, past a limit."""
        if self.stopped:
            return False
        if size is None:
            self.count += 1
        else:
            self.chars += size
        if self.count > self.limits.include_count:
            reason = f"{what} stopped at {self.limits.include_count:,} files (the limit derived from max_file_size)"
        elif self.chars > self.limits.include_bytes:
            reason = f"{what} stopped at {size_words(self.limits.include_bytes)} of included text (max_file_size)"
        else:
            return True
        self.stopped = True
        self.doc.problem(LIMIT_EXCEEDED, Severity.ERROR, reason + "; the rest are counted as written", span)
        return False


def _explicit(ref: str) -> bool:
    return ref.startswith(("~/", "./", "../", "/"))


def _file_like(ref: str) -> bool:
    last = ref.rsplit("/", 1)[-1]
    return "." in last.strip(".") and last.rsplit(".", 1)[-1].lower() in _FILE_ENDINGS


def _is_claude_import(ref: str, directory: Path) -> bool:
    """Claude Code's rule as a lint can apply it: `./`, `../`, `~/`, `/` and names with a file's ending are
    imports (a missing one is a mistake); any other `@word` (an npm scope `@types/node`, a handle) is one
    only when that file exists, as Claude Code tries it and says nothing when it is not there."""
    if len(ref) > _MAX_PATH or _explicit(ref) or _file_like(ref):
        return True
    if ".." in ref.split("/"):
        return False  # only names under the file's own folder are looked up
    try:
        return os.path.isfile(directory / ref)  # a stat, never an open: a FIFO or device is no file
    except (OSError, ValueError):
        return False


def expand_imports(doc: PromptDocument, message: Message, body: str, base: int, tool: str) -> str:
    """The body with its imports expanded in place, for `tool` "claude" (Claude Code) or "gemini" (Gemini
    CLI, which wraps each import in comments and tries every `@word`). A file imported twice is expanded
    twice (bounded by the include limits)."""
    state = _Expansion(doc)
    gemini = tool == "gemini"
    pattern = _GEMINI_IMPORT if gemini else _CLAUDE_IMPORT

    def expand(text: str, directory: Path, chain: tuple[Path, ...], owner: Include | None, depth: int) -> str:
        code = CodeRegions(text)
        out: list[str] = []
        pos = 0
        for match in pattern.finditer(text):
            ref = match.group("path")
            if not gemini:
                ref = ref.rstrip(".")
            if code.contains(match.start()):
                continue
            if gemini:
                if _URL.match(ref):
                    continue
            elif not _is_claude_import(ref, directory):
                continue
            target = Path(ref).expanduser() if ref.startswith("~/") and not gemini else directory / ref
            too_long = len(ref) > _MAX_PATH
            resolved = target if too_long or state.stopped else resolve(target)
            include = None
            if owner is None:
                include = Include(ref, Span(base + match.start(), base + match.start() + 1 + len(ref)), target)
                message.includes.append(include)
            report = include or owner
            out.append(text[pos : match.start()])
            pos = match.start() + 1 + len(ref)
            written = text[match.start() : pos]
            if too_long:
                if report is not None and report.error is None:
                    report.error = f"import @{ref[:60]}...: the path is longer than {_MAX_PATH:,} characters"
                out.append(written)
                continue
            if state.stopped:
                out.append(written)
                continue
            if resolved in chain:
                if report is not None and report.error is None:
                    report.error = "include cycle: " + " -> ".join(p.name for p in chain + (resolved,))
                out.append(written)
                continue
            if depth >= _MAX_IMPORT_DEPTH or report is None or not state.admit("imports", report.span):
                out.append(written)
                continue
            content, error, error_code = state.read(resolved)
            if content is None:
                if report is not None and report.error is None:
                    report.error = f"import @{ref}: {error}"
                    if gemini and error_code == "missing-include":
                        report.error += (
                            "; Gemini CLI reads every @word as an import and puts an 'Import failed' comment in its"
                            " place (write it in backticks to keep it as text)"
                        )
                    report.error_code = error_code
                out.append(written)
                continue
            if not state.admit("imports", report.span, len(content)):
                out.append(written)
                continue
            expanded = expand(content, resolved.parent, chain + (resolved,), report, depth + 1)
            if include is not None:
                include.text = expanded
            if gemini:
                expanded = f"<!-- Imported from: {ref} -->\n{expanded}\n<!-- End of import from: {ref} -->"
            out.append(expanded)
        out.append(text[pos:])
        return "".join(out)

    content = expand(body, doc.path.parent, (resolve(doc.path),), None, 0).strip()
    report_includes(doc, message)
    return content


def attach_links(doc: PromptDocument, message: Message, body: str, base: int) -> str:
    """The body followed by each local file it links to, once: VS Code attaches a linked file to the
    request a single time, and a link to the file itself (or one of its headings) adds nothing."""
    state = _Expansion(doc)
    code = CodeRegions(body)
    attached: list[str] = []
    itself = resolve(doc.path)
    seen: set[Path] = set()
    for match in _MARKDOWN_LINK.finditer(body):
        target = match.group("target")
        if _SCHEME.match(target) or target.startswith("#"):
            continue
        if code.contains(match.start()):
            continue
        path_part = target.split("#", 1)[0]
        if not path_part:
            continue
        too_long = len(path_part) > _MAX_PATH
        path = doc.path.parent / path_part if too_long else resolve(doc.path.parent / path_part)
        if not too_long and path == itself:
            continue  # the file is already the prompt
        include = Include(path_part, Span(base + match.start(), base + match.end()), path)
        message.includes.append(include)
        if too_long:
            include.error = f"linked file {path_part[:60]}...: the path is longer than {_MAX_PATH:,} characters"
            continue
        if path in seen:
            continue  # attached at its first link; this one adds no tokens
        seen.add(path)
        if not state.admit("linked files", include.span):
            continue
        text, error, error_code = state.read(path)
        if text is None:
            include.error = f"linked file {path_part}: {error}"
            include.error_code = error_code
        elif state.admit("linked files", include.span, len(text)):
            include.text = text.strip()
            attached.append(include.text)
    report_includes(doc, message)
    return "\n\n".join([body.strip(), *attached]).strip()
