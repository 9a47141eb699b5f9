"""Frontmatter of instruction files, read the way the tool that owns each file reads it.

Cursor does not parse a rule's frontmatter as YAML: `globs: **/*.ts, src/*.tsx` (not valid YAML, `*` starts
an alias) is what its own editor writes. When the YAML does not parse and every line is a plain
`key: value`, the lines are read as Cursor reads them instead of reporting the YAML error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..text import Span
from .common import start_document
from .document import Format, FrontmatterKey, PromptDocument
from .frontmatter import _CLOSE, _OPEN, Frontmatter, parse_frontmatter
from .limits import Limits
from .reasoning_settings import mark_reasoning

_KEY_LINE = re.compile(r"(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*\Z")


def start_instruction_document(
    path: Path, text: str, schema: type[BaseModel], max_bytes: int | None, lenient: bool = False, required: bool = False
) -> tuple[PromptDocument, int, Any]:
    """common.start_document for an instruction file; `lenient` reads a Cursor rule's key lines when
    they are not YAML, `required` validates an empty or missing frontmatter too. Instruction files have no
    request options of their own: reasoning and service tier come from the `promptwise:` block alone."""
    started = start_document(path, text, Format.INSTRUCTIONS, schema, max_bytes, _read_lenient if lenient else parse_frontmatter, required)
    mark_reasoning(started[0])
    return started


def _read_lenient(text: str, limits: Limits) -> Frontmatter:
    fm = parse_frontmatter(text, limits)
    return (_key_lines(text) or fm) if fm.error is not None else fm


def _key_lines(text: str) -> Frontmatter | None:
    """The frontmatter as one `key: value` per line (comments and blank lines allowed), else None."""
    opening = _OPEN.match(text)
    closing = _CLOSE.search(text, opening.end()) if opening else None
    if opening is None or closing is None:
        return None
    result = Frontmatter(span=Span(0, closing.end()), body_start=closing.end())
    offset = opening.end()
    for line in text[opening.end() : closing.start()].splitlines(keepends=True):
        start = offset
        offset += len(line)
        stripped = line.rstrip("\r\n")
        if not stripped.strip() or stripped.lstrip().startswith("#"):
            continue
        match = _KEY_LINE.match(stripped)
        if match is None:
            return None
        key, raw = match.group("key"), match.group("value")
        value = _scalar(raw)
        value_start = start + (match.start("value") if raw is not None else match.end())
        value_end = start + (match.end("value") if raw is not None else match.end())
        result.data[key] = value
        result.keys[key] = FrontmatterKey(key, Span(start, start + len(key)), Span(value_start, value_end), raw)
    return result


def _scalar(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    return raw
