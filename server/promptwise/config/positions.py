"""Where a setting is written in a TOML file, by its path (`budgets."**/*.md"`), to report a problem at its place."""

from __future__ import annotations

import re
from functools import lru_cache

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s*)((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=")
_PART = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+)")


def _dotted(text: str) -> list[tuple[str, int]]:
    """The parts of a dotted TOML key (`a."b.c".d`) with the offset of each in `text`."""
    return [(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3), m.start()) for m in _PART.finditer(text)]


def locate(text: str, loc: list[str], value: bool = False, pyproject: bool = False) -> tuple[int, int]:
    """Zero-based (line, column) of the setting at `loc` in TOML `text`: the key's name (or, with `value`, its
    value), a `[table]` header's name, else the closest enclosing key or table; (0, 0) when none is found."""
    index = _key_index(text, pyproject)
    for n in range(len(loc), 0, -1):
        found = index.get(tuple(loc[:n]))
        if found is not None:
            line, name_column, value_column = found
            return line, value_column if value and n == len(loc) else name_column
    return 0, 0


@lru_cache(maxsize=4)
def _key_index(text: str, pyproject: bool) -> dict[tuple[str, ...], tuple[int, int, int]]:
    """Every key and table of the TOML text by its path: (line, column of its name, column of its value).
    Built in one pass, so placing thousands of problems costs no more than reading the file once."""
    prefix = ["tool", "promptwise"] if pyproject else []
    index: dict[tuple[str, ...], tuple[int, int, int]] = {}
    inner: list[str] | None = [] if not prefix else None
    for number, line in enumerate(text.splitlines()):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header is not None:
            parts = _dotted(header.group(1))
            names = [p for p, _ in parts]
            inner = names[len(prefix):] if names[: len(prefix)] == prefix else None
            if inner:
                for n in range(len(prefix) + 1, len(parts) + 1):
                    column = header.start(1) + parts[n - 1][1]
                    index.setdefault(tuple(names[len(prefix) : n]), (number, column, column))
            continue
        key = _KEY.match(line)
        if key is None or inner is None:
            continue
        parts = _dotted(key.group(2))
        after = line[key.end() :]
        value_column = key.end() + len(after) - len(after.lstrip())
        for n in range(1, len(parts) + 1):
            path = (*inner, *(p for p, _ in parts[:n]))
            index.setdefault(path, (number, key.start(2) + parts[n - 1][1], value_column))
        if after.lstrip().startswith("{"):
            # An inline table: `budgets = { "a/*" = 10, "b/*" = 0 }` (one level).
            full = (*inner, *(p for p, _ in parts))
            for m in _INLINE_KEY.finditer(line, value_column + 1):
                name = m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
                index.setdefault((*full, name), (number, m.start(), m.end()))
    return index


_INLINE_KEY = re.compile(r"(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*=[ \t]*")
