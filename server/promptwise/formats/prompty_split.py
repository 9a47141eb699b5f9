"""Where Prompty's runtimes split rendered text into messages, and which role lines a source holds.

Both runtimes render the whole body first and then split the text at role lines, so a role line written by
a loop or by a value is a boundary too. The rules differ by version:

- Prompty 1 (prompty 0.1.x): `system`, `user`, `assistant`, `function`; a line `[#] role:` followed by a
  newline; messages whose text is empty once stripped are dropped; content is stripped.
- Prompty 2 (prompty 2.x): `system`, `user`, `assistant`, `developer`, optionally with attributes
  (`user[name="Ana"]:`); lines as `str.splitlines` makes them; a role line with no line after it gives no
  message; content keeps inner whitespace and loses only leading and trailing newlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

V1 = "v1"
V2 = "v2"

_V1_ROLES = "assistant|function|system|user"
_V2_ROLES = "assistant|developer|system|user"
# Possessive and atomic forms keep these linear on any line (no backtracking between adjacent runs).
_V1_LINE = re.compile(r"[ \t\r\f\v]*+(?:#[ \t\r\f\v]*+)?(?P<role>" + _V1_ROLES + r")[ \t\r\f\v]*+:\s*+", re.IGNORECASE)
_V2_LINE = re.compile(
    r"#?+\s*+(?P<role>" + _V2_ROLES + r")"
    r"(?P<attrs>\[(?:\w++\s*+=\s*+(?:\"[^\"]*+\"|[^\",\]]*+)\s*+,?+\s*+)++\])?+\s*+:",
    re.IGNORECASE,
)
_ATTR = re.compile(r'(\w+)\s*=\s*"?([^",]*)"?')
# Prompty 1 turns markdown images into image parts of the message.
_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<url>[^\")]*)(?:\"[^)]*)?\)")


def style_of(frontmatter: dict[str, Any]) -> str:
    """Prompty 1 files name `sample` or a model with `api`/`configuration`/`parameters`; the rest are 2."""
    model = frontmatter.get("model")
    v1 = "sample" in frontmatter or (isinstance(model, dict) and any(k in model for k in ("api", "configuration", "parameters")))
    return V1 if v1 else V2


def role_of_line(line: str, style: str) -> tuple[str, str | None] | None:
    """(role, name) when `line` (without its line break) is a role line in `style`, else None."""
    if style == V1:
        m = _V1_LINE.fullmatch(line)
        return (m.group("role").lower(), None) if m else None
    stripped = line.strip()
    if not stripped.endswith(":"):
        return None
    m = _V2_LINE.fullmatch(stripped)
    if m is None:
        return None
    return m.group("role").lower(), _name(m.group("attrs"))


def _name(attrs: str | None) -> str | None:
    if not attrs:
        return None
    for key, value in _ATTR.findall(attrs[1:-1]):
        if key == "name":
            return value.strip()
    return None


# Every role line ends in a colon (and spaces): finding those first is a fast literal search.
_LINE_END_COLON = re.compile(r":[ \t\r\f\v]*$", re.MULTILINE)
# Prompty 2 splits lines as str.splitlines does, so a lone `\r` ends a line too.
_V2_LINE_END_COLON = re.compile(r":[ \t\f\v]*(?=[\r\n]|\Z)")


def source_role_lines(text: str, start: int, end: int, style: str) -> list[tuple[int, int, str, str | None]]:
    """(start, end, role, name) of each role line in text[start:end], the line break excluded. Prompty 1
    lines end at `\\n` (a `\\r` before it belongs to the line) and a role line needs a line break after
    it; Prompty 2 lines also end at a lone `\\r`."""
    found = []
    v1 = style == V1
    for colon in (_LINE_END_COLON if v1 else _V2_LINE_END_COLON).finditer(text, start, end):
        line = text.rfind("\n", 0, colon.start()) + 1
        if not v1:
            line = text.rfind("\r", line, colon.start()) + 1 or line
        if line < start:
            continue
        stop = colon.end()
        if v1 and (stop >= len(text) or text[stop] != "\n"):
            continue
        header = role_of_line(text[line:stop], style)
        if header is not None:
            found.append((line, stop, header[0], header[1]))
    return found


@dataclass
class Piece:
    """One message found in rendered text: its role line's offsets in that text (None for the implicit
    first message) and its content as the runtime sends it."""

    role: str
    name: str | None
    header: tuple[int, int] | None
    content: str
    images: int = 0


def split(rendered: str, style: str) -> list[Piece]:
    return _split_v1(rendered) if style == V1 else _split_v2(rendered)


# Line breaks of str.splitlines other than `\n` and `\r\n`: without them, lines can be found by search.
_UNUSUAL_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _unusual_breaks(text: str) -> bool:
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return any(c in text for c in _UNUSUAL_BREAKS)  # substring tests are much faster than one regex here


def _split_v2(rendered: str) -> list[Piece]:
    if _unusual_breaks(rendered):
        return _split_v2_lines(rendered)
    # Only role lines matter: find them (a fast search), and take the text between them as it is.
    pieces: list[Piece] = []
    role, name, header, start = "system", None, None, 0
    for a, b, found_role, found_name in source_role_lines(rendered, 0, len(rendered), V2):
        _add_v2(pieces, role, name, header, rendered[start:a])
        role, name, header = found_role, found_name, (a, b)
        start = b + (2 if rendered.startswith("\r\n", b) else 1 if rendered.startswith("\n", b) else 0)
    _add_v2(pieces, role, name, header, rendered[start:])
    return pieces


def _add_v2(pieces: list[Piece], role: str, name: str | None, header: tuple[int, int] | None, text: str) -> None:
    if text:  # at least one line under the role line
        pieces.append(Piece(role, name, header, text.replace("\r\n", "\n").strip("\n")))


def _split_v2_lines(rendered: str) -> list[Piece]:
    pieces: list[Piece] = []
    role, name, header = "system", None, None
    lines: list[str] = []
    at = 0
    for line in rendered.splitlines(keepends=True):
        bare = line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        if len(bare) == len(line):  # the last line, or a line split at an unusual break
            bare = line.splitlines()[0] if line.splitlines() else line
        found = role_of_line(bare, V2)
        if found is not None:
            if lines:
                pieces.append(Piece(role, name, header, "\n".join(lines).strip("\n")))
            role, name = found
            header = (at, at + len(bare))
            lines = []
        else:
            lines.append(bare)
        at += len(line)
    if lines:
        pieces.append(Piece(role, name, header, "\n".join(lines).strip("\n")))
    return pieces


def _split_v1(rendered: str) -> list[Piece]:
    pieces: list[Piece] = []
    role, header, start = "system", None, 0
    for a, b, found_role, _ in source_role_lines(rendered, 0, len(rendered), V1):
        _add_v1(pieces, role, header, rendered[start:a])
        role, header, start = found_role, (a, b), b + 1
    _add_v1(pieces, role, header, rendered[start:])
    return pieces


def _add_v1(pieces: list[Piece], role: str, header: tuple[int, int] | None, text: str) -> None:
    content = text.strip()
    if not content:
        return  # Prompty 1 drops empty chunks
    images = len(_IMAGE.findall(content))
    if images:
        content = "".join(part.strip() for part in _IMAGE.split(content)[::2])
    pieces.append(Piece(role, None, header, content, images))
