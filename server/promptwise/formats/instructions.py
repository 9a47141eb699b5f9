"""Instruction files sent with every request (AGENTS.md, CLAUDE.md, Copilot files, .cursorrules) and plain prompts."""

from __future__ import annotations

import re
from pathlib import Path

from bisect import bisect_right

from ..text import Span
from .common import read_include, report_includes, resolve, set_model, start_document
from .document import Format, Include, Message, PromptDocument, Severity
from .limits import LIMIT_EXCEEDED, limits_for, size_words
from .schema import InstructionsFrontmatter

# Claude Code expands `@path` imports in CLAUDE.md (and in the files it imports), up to five hops.
_CLAUDE_IMPORT = re.compile(r"(?<![\w`@/])@(?P<path>(?:~/|\.{1,2}/|/)?[\w.\-]+(?:/[\w.\-]+)*)")
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# VS Code attaches local files linked from prompt and instructions files as context.
# Neither the label nor the target may hold `[`: each match attempt then stops where the next one
# starts, so a line of thousands of `[` or `[](x` is scanned once, not once per bracket.
_MARKDOWN_LINK = re.compile(r"(?<!!)\[(?P<label>[^\[\]\n]*)\]\((?P<target>[^)\s\[]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_MAX_IMPORT_DEPTH = 5
_MAX_PATH = 1024  # longer is no real import; resolving a path costs time quadratic in its folders


def instruction_kind(path: Path) -> str:
    name = path.name
    if name in ("CLAUDE.md", "CLAUDE.local.md"):
        return "claude"
    if name.endswith((".prompt.md", ".instructions.md")):
        return "vscode"
    return "plain"


def parse_instructions(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc, body_start, fm = start_document(path, text, Format.INSTRUCTIONS, InstructionsFrontmatter, max_bytes)
    set_model(doc, doc.frontmatter.get("model"), "model")
    body = text[body_start:]
    kind = instruction_kind(path)
    message = Message(
        role="system",
        span=Span(body_start, len(text)),
        header=Span(body_start, body_start),
        body=Span(body_start, len(text)),
    )
    if kind == "claude":
        message.content = _expand_claude_imports(doc, message, body, body_start)
    elif kind == "vscode":
        message.content = _attach_links(doc, message, body, body_start)
    else:
        message.content = body.strip()
    doc.messages.append(message)
    return doc


def parse_plain(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc = PromptDocument(path=path, format=Format.PLAIN, text=text, max_bytes=max_bytes)
    doc.messages.append(Message("user", Span(0, len(text)), Span(0, 0), Span(0, len(text)), text.strip()))
    return doc


class _CodeRegions:
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


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", ref))


def _expand_claude_imports(doc: PromptDocument, message: Message, body: str, base: int) -> str:
    state = _Expansion(doc)

    def expand(text: str, directory: Path, chain: tuple[Path, ...], owner: Include | None, depth: int) -> str:
        code = _CodeRegions(text)
        out: list[str] = []
        pos = 0
        for match in _CLAUDE_IMPORT.finditer(text):
            ref = match.group("path").rstrip(".")
            if not _looks_like_path(ref) or code.contains(match.start()):
                continue
            target = Path(ref).expanduser() if ref.startswith("~/") else directory / ref
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
                    report.error_code = error_code
                out.append(written)
                continue
            if not state.admit("imports", report.span, len(content)):
                out.append(written)
                continue
            expanded = expand(content, resolved.parent, chain + (resolved,), report, depth + 1)
            if include is not None:
                include.text = expanded
            out.append(expanded)
        out.append(text[pos:])
        return "".join(out)

    content = expand(body, doc.path.parent, (resolve(doc.path),), None, 0).strip()
    report_includes(doc, message)
    return content


def _attach_links(doc: PromptDocument, message: Message, body: str, base: int) -> str:
    state = _Expansion(doc)
    code = _CodeRegions(body)
    attached: list[str] = []
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
        include = Include(path_part, Span(base + match.start(), base + match.end()), path)
        message.includes.append(include)
        if too_long:
            include.error = f"linked file {path_part[:60]}...: the path is longer than {_MAX_PATH:,} characters"
            continue
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
