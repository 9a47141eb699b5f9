"""Recognise a prompt file's format, read it safely and parse it into a PromptDocument."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .. import access
from ..text import Edit, LineIndex, Span
from .document import Finding, Format, Include, Message, PromptDocument, Related, Severity, Variable
from .dotprompt import parse_dotprompt, render_dotprompt, reparse_dotprompt
from .instruction_kinds import INSTRUCTION_NAMES, is_instruction_file
from .instructions import parse_instructions, parse_plain
from .prompty import parse_prompty, render_prompty, reparse_prompty

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
    "glob_problem",
    "is_partial",
    "parse_document",
    "read_prompt_file",
    "render_document",
    "reparse_document",
]


def glob_match(relative: str, pattern: str) -> bool:
    """Match a POSIX path relative to the config's folder; a pattern without `/` matches at any depth.

    `**/` is any number of folders, `**` anything, `*` and `?` stay within one path segment, `[a-z]` and
    `[!a-z]` are character classes. Matching runs every possible position at once (no backtracking), so
    a pattern of a dozen `**/` takes time proportional to the path, and it never raises: a reversed range
    like `[z-a]` matches no character (`glob_problem` says why, for the config to report)."""
    pattern = pattern.lstrip("./") if pattern.startswith("./") else pattern
    if "/" not in pattern:
        return _glob_tokens(pattern).match(relative.rsplit("/", 1)[-1])
    return _glob_tokens(pattern.lstrip("/")).match(relative)


def glob_problem(pattern: str) -> str | None:
    """Why a glob cannot match what it seems to say (a reversed range), else None."""
    for token in _glob_tokens(pattern).tokens:
        if token[0] == "class":
            for low, high in token[2]:
                if low > high:
                    return f"the range {low}-{high} in {pattern!r} is reversed, so it matches no character"
            if not token[2]:
                return f"{pattern!r} has an empty character class [], which matches no character"
    return None


class _Glob:
    """A glob as tokens, matched by simulating every position at once over the path's characters."""

    def __init__(self, tokens: list[tuple]) -> None:
        self.tokens = tokens
        self.literal = "".join(t[1] for t in tokens) if all(t[0] == "lit" for t in tokens) else None
        # With at most two wildcards a regular expression backtracks at most quadratically, which is
        # harmless on a path of ordinary length and several times faster than the simulation below.
        wildcards = sum(t[0] in ("star", "dstar", "dslash") for t in tokens)
        reversed_range = any(t[0] == "class" and any(lo > hi for lo, hi in t[2]) for t in tokens)
        self.regex = re.compile("".join(map(_token_regex, tokens)) + r"\Z") if wildcards <= 2 and not reversed_range else None

    def _close(self, states: set[int]) -> set[int]:
        # State 2*i: before token i; 2*i + 1: inside the `.*` of a `**/` at token i.
        todo = list(states)
        seen = set(states)
        while todo:
            state = todo.pop()
            i, inside = divmod(state, 2)
            if inside or i >= len(self.tokens):
                continue
            kind = self.tokens[i][0]
            if kind in ("star", "dstar", "dslash"):
                for nxt in (2 * (i + 1), *((2 * i + 1,) if kind == "dslash" else ())):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
        return seen

    def match(self, text: str) -> bool:
        if self.literal is not None:
            return text == self.literal
        if self.regex is not None and len(text) <= 512:
            return self.regex.match(text) is not None
        tokens = self.tokens
        states = self._close({0})
        for ch in text:
            nxt: set[int] = set()
            for state in states:
                i, inside = divmod(state, 2)
                if inside:  # consuming the `.*` of `**/`; a `/` may end it
                    nxt.add(state)
                    if ch == "/":
                        nxt.add(2 * (i + 1))
                    continue
                if i >= len(tokens):
                    continue
                token = tokens[i]
                kind = token[0]
                if kind == "lit":
                    if ch == token[1]:
                        nxt.add(2 * (i + 1))
                elif kind == "any":
                    if ch != "/":
                        nxt.add(2 * (i + 1))
                elif kind == "star":
                    if ch != "/":
                        nxt.add(state)
                elif kind == "dstar":
                    nxt.add(state)
                elif kind == "class":
                    hit = any(low <= ch <= high for low, high in token[2])
                    if hit != token[1] and not (token[1] and ch == "/"):
                        nxt.add(2 * (i + 1))
            if not nxt:
                return False
            states = self._close(nxt)
        return 2 * len(tokens) in states


@lru_cache(maxsize=512)
def _glob_tokens(pattern: str) -> _Glob:
    tokens: list[tuple] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            tokens.append(("dslash",))
            i += 3
        elif pattern.startswith("**", i):
            tokens.append(("dstar",))
            i += 2
        elif pattern[i] == "*":
            tokens.append(("star",))
            i += 1
        elif pattern[i] == "?":
            tokens.append(("any",))
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            close = pattern.index("]", i + 1)
            tokens.append(_glob_class(pattern[i + 1 : close]))
            i = close + 1
        else:
            tokens.append(("lit", pattern[i]))
            i += 1
    return _Glob(tokens)


def _token_regex(token: tuple) -> str:
    kind = token[0]
    if kind == "lit":
        return re.escape(token[1])
    if kind == "class":
        chars = "".join(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in token[2])
        return f"[^/{chars}]" if token[1] else (f"[{chars}]" if chars else "(?!)")
    return {"any": "[^/]", "star": "[^/]*", "dstar": ".*", "dslash": "(?:.*/)?"}[kind]


def _glob_class(content: str) -> tuple:
    negate = content[:1] in ("!", "^")
    if negate:
        content = content[1:]
    ranges: list[tuple[str, str]] = []
    j = 0
    while j < len(content):
        if j + 2 < len(content) and content[j + 1] == "-":
            ranges.append((content[j], content[j + 2]))
            j += 3
        else:
            ranges.append((content[j], content[j]))
            j += 1
    return ("class", negate, tuple(ranges))


def detect_format(path: Path, plain_globs: Iterable[str] = (), root: Path | None = None) -> Format | None:
    name = path.name
    if name.endswith(".prompty"):
        return Format.PROMPTY
    if name.endswith(".prompt"):
        return Format.DOTPROMPT
    if name == "copilot-instructions.md" and path.parent.name != ".github":
        return None
    # AGENTS.md, CLAUDE.md, GEMINI.md, SKILL.md, .cursorrules, VS Code's *.prompt.md / *.instructions.md /
    # *.agent.md / *.chatmode.md and Cursor's *.mdc rules (see instruction_kinds).
    if is_instruction_file(name):
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
    # Only a regular file, its size checked first and the read capped: a FIFO or a link to /dev/zero
    # named like a prompt must not block or fill memory.
    data, error = access.read_bytes(path, max_bytes)
    if data is None:
        try:
            info = os.stat(path)
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                return ReadResult(None, [_too_large(info.st_size, max_bytes)])
        except (OSError, ValueError):
            pass
        return ReadResult(None, [Finding("unreadable-file", Severity.ERROR, error or "cannot read the file", at_start)])
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


def parse_document(path: Path, text: str, fmt: Format, max_bytes: int | None = None) -> PromptDocument:
    """Parse a prompt file. `max_bytes` is the max_file_size setting: every limit on rendering, includes
    and YAML is derived from it (8 MiB when None), and re-parses and re-renders of the document keep it."""
    if fmt is Format.PROMPTY:
        return parse_prompty(path, text, max_bytes)
    if fmt is Format.DOTPROMPT:
        return parse_dotprompt(path, text, max_bytes)
    if fmt is Format.INSTRUCTIONS:
        return parse_instructions(path, text, max_bytes)
    return parse_plain(path, text, max_bytes)


def reparse_document(old: PromptDocument, text: str, edit: Edit) -> PromptDocument:
    """The parse of `text`, a new version of `old`'s text changed by `edit`, reusing what the edit cannot
    have changed (an editor's keystroke in a long file); the same result as parse_document."""
    reparse = {Format.PROMPTY: reparse_prompty, Format.DOTPROMPT: reparse_dotprompt}.get(old.format)
    doc = reparse(old, text, edit) if reparse is not None else None
    return doc if doc is not None else parse_document(old.path, text, old.format, old.max_bytes)


def render_document(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed document with its templates rendered from `values` instead of the file's samples
    (evals render one per case). Formats without templates are returned as they are."""
    if doc.format is Format.PROMPTY:
        return render_prompty(doc, values)
    if doc.format is Format.DOTPROMPT:
        return render_dotprompt(doc, values)
    return doc
