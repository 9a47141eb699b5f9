"""Recognise a prompt file's format, read it safely and parse it into a PromptDocument."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from ..text import Edit, LineIndex, Span
from .document import Finding, Format, Include, Message, PromptDocument, Related, Severity, Variable
from .dotprompt import parse_dotprompt, render_dotprompt, reparse_dotprompt
from .instructions import parse_instructions, parse_plain
from .prompty import parse_prompty, render_prompty, reparse_prompty

INSTRUCTION_NAMES = {"AGENTS.md", "CLAUDE.md", "CLAUDE.local.md", ".cursorrules", "copilot-instructions.md"}
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

__all__ = [
    "Finding",
    "Format",
    "Include",
    "Message",
    "PromptDocument",
    "Related",
    "Severity",
    "Variable",
    "ReadResult",
    "detect_format",
    "glob_match",
    "is_partial",
    "parse_document",
    "read_prompt_file",
    "render_document",
    "reparse_document",
]


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            close = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : close].replace("!", "^", 1) + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(relative: str, pattern: str) -> bool:
    """Match a POSIX path relative to the config's folder; a pattern without `/` matches at any depth."""
    pattern = pattern.lstrip("./") if pattern.startswith("./") else pattern
    if "/" not in pattern:
        return bool(_glob_regex(pattern).match(relative.rsplit("/", 1)[-1]))
    return bool(_glob_regex(pattern.lstrip("/")).match(relative))


def detect_format(path: Path, plain_globs: Iterable[str] = (), root: Path | None = None) -> Format | None:
    name = path.name
    if name.endswith(".prompty"):
        return Format.PROMPTY
    if name.endswith(".prompt"):
        return Format.DOTPROMPT
    if name == "copilot-instructions.md" and path.parent.name != ".github":
        return None
    if name in INSTRUCTION_NAMES or name.endswith((".instructions.md", ".prompt.md")):
        return Format.INSTRUCTIONS
    if root is not None and path.suffix in (".txt", ".md"):
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
        if any(glob_match(relative, g) for g in plain_globs):
            return Format.PLAIN
    return None


def is_partial(path: Path) -> bool:
    return path.name.startswith("_") and path.name.endswith(".prompt")


@dataclass
class ReadResult:
    text: str | None
    problems: list[Finding]


def read_prompt_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read a file as UTF-8; huge, binary or unreadable files give a finding instead of text."""
    at_start = Span(0, 0)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return ReadResult(None, [_too_large(size, max_bytes)])
        data = path.read_bytes()
    except OSError as exc:
        return ReadResult(None, [Finding("unreadable-file", Severity.ERROR, f"cannot read the file: {exc.strerror}", at_start)])
    if b"\x00" in data[:8192]:
        return ReadResult(None, [Finding("binary-file", Severity.ERROR, "this is a binary file, not a prompt; it was skipped", at_start)])
    try:
        return ReadResult(data.decode("utf-8").lstrip("\ufeff"), [])
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        good = data[: exc.start].decode("utf-8", errors="replace")
        offset = len(good)
        lines = LineIndex(text)
        pos = lines.position(offset)
        finding = Finding(
            "invalid-utf8",
            Severity.ERROR,
            f"invalid UTF-8 at byte {exc.start} (line {pos.line + 1}): byte 0x{data[exc.start]:02x} {exc.reason}; "
            "bad bytes are counted as U+FFFD",
            Span(offset, offset + 1),
        )
        return ReadResult(text, [finding])


def _too_large(size: int, max_bytes: int) -> Finding:
    return Finding(
        "file-too-large",
        Severity.WARNING,
        f"file is {size / 1048576:.1f} MiB, over the {max_bytes / 1048576:.0f} MiB limit (max_file_size); it was not analyzed",
        Span(0, 0),
    )


def too_large(text: str, max_bytes: int) -> Finding | None:
    """The same limit for text an editor sends instead of a file on disk."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", errors="replace"))
    return _too_large(size, max_bytes) if size > max_bytes else None


def parse_document(path: Path, text: str, fmt: Format) -> PromptDocument:
    if fmt is Format.PROMPTY:
        return parse_prompty(path, text)
    if fmt is Format.DOTPROMPT:
        return parse_dotprompt(path, text)
    if fmt is Format.INSTRUCTIONS:
        return parse_instructions(path, text)
    return parse_plain(path, text)


def reparse_document(old: PromptDocument, text: str, edit: Edit) -> PromptDocument:
    """The parse of `text`, a new version of `old`'s text changed by `edit`, reusing what the edit cannot
    have changed (an editor's keystroke in a long file); the same result as parse_document."""
    reparse = {Format.PROMPTY: reparse_prompty, Format.DOTPROMPT: reparse_dotprompt}.get(old.format)
    doc = reparse(old, text, edit) if reparse is not None else None
    return doc if doc is not None else parse_document(old.path, text, old.format)


def render_document(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed document with its templates rendered from `values` instead of the file's samples
    (evals render one per case). Formats without templates are returned as they are."""
    if doc.format is Format.PROMPTY:
        return render_prompty(doc, values)
    if doc.format is Format.DOTPROMPT:
        return render_dotprompt(doc, values)
    return doc
