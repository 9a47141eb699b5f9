"""Safe trims of Markdown the model reads but a person does not see: HTML comments and repeated list items.

An HTML comment is invisible in every Markdown preview and still sent, token for token, on every call.
A list item written twice in the same list says nothing new the second time. Both go without changing
what a reader of the rendered file sees. Comments that tools act on (linters, formatters, generated-
section markers) are kept: removing them would change what those tools do to the file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from ..text import Span
from .edits import TextEdit

if TYPE_CHECKING:
    from .trims import Fix, _Session

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Comments other tools read: markdownlint, prettier, vale, doctoc and "BEGIN/END generated" markers.
_TOOL_COMMENT = re.compile(
    r"<!--\s*(?:markdownlint|prettier|vale|doctoc|toc|eslint|cspell|spell-?check|begin|end|start|stop|auto-?generated|generated|do not edit|include|snippet|region|endregion)\b",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(\S.*?)[ \t]*$")


def lines(text: str, start: int = 0) -> Iterator[tuple[int, int, int]]:
    """(start, end of content, end with its line break) of each line from `start`; `\\n`, `\\r\\n`, `\\r` end lines."""
    pos, n = start, len(text)
    while pos < n:
        cut = pos
        while cut < n and text[cut] not in "\r\n":
            cut += 1
        after = cut + (2 if text.startswith("\r\n", cut) else 1 if cut < n else 0)
        yield pos, cut, after
        pos = after


def _line_bounds(text: str, offset: int, floor: int) -> tuple[int, int, int]:
    start = max(text.rfind("\n", floor, offset), text.rfind("\r", floor, offset)) + 1
    start = max(start, floor)
    for line in lines(text, start):
        return line
    return start, start, start


def comment_edits(s: "_Session") -> tuple[list[TextEdit], int]:
    """Deletions of the HTML comments in the body outside code blocks; a comment alone on its lines takes
    the lines with it. Also the number of tool comments kept."""
    text, floor = s.text, s.body_start
    edits: list[TextEdit] = []
    kept = 0
    for m in _COMMENT.finditer(text, floor):
        if s.in_fence(m.start()):
            continue
        if _TOOL_COMMENT.match(m.group()):
            kept += 1
            continue
        first_start, _, _ = _line_bounds(text, m.start(), floor)
        _, last_end, last_after = _line_bounds(text, m.end(), floor) if m.end() < len(text) else (0, len(text), len(text))
        alone = not text[first_start : m.start()].strip() and not text[m.end() : last_end].strip()
        if alone and _blank_before(text, first_start, floor):
            last_after = _after_blank_line(text, last_after)  # a comment between blank lines leaves one, not two
        edit = TextEdit.delete(first_start, last_after) if alone else TextEdit.delete(m.start(), m.end())
        if edits and edit.span.start < edits[-1].span.end:
            continue
        edits.append(edit)
    return edits, kept


def _blank_before(text: str, line_start: int, floor: int) -> bool:
    if line_start <= floor:
        return True
    previous = _line_bounds(text, line_start - 1 - (text.startswith("\r\n", line_start - 2) and line_start - 2 >= floor), floor)
    return not text[previous[0] : previous[1]].strip()


def _after_blank_line(text: str, offset: int) -> int:
    """`offset`, moved past the line starting there when that line is blank."""
    for start, end, after in lines(text, offset):
        return after if start == offset and not text[start:end].strip() else offset
    return offset


def html_comments_fix(s: "_Session") -> "Fix | None":
    findings = s.budget_findings()
    edits, kept = comment_edits(s)
    count = len(edits)
    note = f"; {kept} comment{'s' if kept != 1 else ''} that tools read kept" if kept else ""
    return s.measure(
        "remove-html-comments",
        edits,
        lambda saved: f"Remove {count} HTML comment{'s' if count != 1 else ''} ({saved})",
        Span(s.body_start, len(s.text)),
        findings,
        tuple(sorted({f.code for f in findings})),
        safe=True,
        description="HTML comments are invisible in a Markdown preview but are sent to the model on every call" + note + ".",
    )


def duplicate_item_edits(s: "_Session") -> list[TextEdit]:
    """Deletions of list items that repeat an earlier item of the same list, at the same indent, word for
    word. An item with lines of its own under it (sub-items, a continuation) is kept: they belong to it."""
    text = s.text
    edits: list[TextEdit] = []
    seen: dict[str, set[str]] = {}  # indent -> items of the list being read
    all_lines = list(lines(text, s.body_start))
    for i, (start, end, after) in enumerate(all_lines):
        content = text[start:end]
        if s.in_fence(start):
            seen.clear()
            continue
        m = _LIST_ITEM.match(content)
        if m is None:
            if content.strip() and not content[:1].isspace():
                seen.clear()  # a paragraph or a heading ends the list
            continue
        indent, item = m.group(1), m.group(3)
        for deeper in [k for k in seen if len(k) > len(indent)]:
            del seen[deeper]  # a new item at this level closes the sub-lists below it
        items = seen.setdefault(indent, set())
        if item not in items:
            items.add(item)
            continue
        following = text[all_lines[i + 1][0] : all_lines[i + 1][1]] if i + 1 < len(all_lines) else ""
        if following.strip() and len(following) - len(following.lstrip(" \t")) > len(indent):
            continue
        edits.append(TextEdit.delete(start, after))
    return edits


def duplicate_items_fix(s: "_Session") -> "Fix | None":
    findings = s.budget_findings()
    edits = duplicate_item_edits(s)
    count = len(edits)
    return s.measure(
        "remove-duplicate-items",
        edits,
        lambda saved: f"Remove {count} repeated list item{'s' if count != 1 else ''} ({saved})",
        Span(s.body_start, len(s.text)),
        findings,
        tuple(sorted({f.code for f in findings})),
        safe=True,
        description="Delete list items that repeat an earlier item of the same list word for word.",
    )
