"""Markdown headings a trim would leave with nothing under them: they go with the text they headed."""

from __future__ import annotations

import re
from typing import Callable

# An ATX heading: up to three spaces, one to six `#`, then a space or the end of the line.
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")


def heading_level(line: str) -> int | None:
    m = _HEADING.match(line)
    return len(m.group(1)) if m else None


def _line_at(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start : len(text) if end < 0 else end].rstrip("\r")


def _previous_line(text: str, offset: int, floor: int) -> tuple[int, str] | None:
    """Start and text of the last non-blank line before the line starting at `offset`, not before `floor`."""
    pos = offset
    while pos > floor:
        line_start = max(floor, text.rfind("\n", floor, pos - 1) + 1)
        content = text[line_start : pos - 1].rstrip("\r") if pos - 1 >= line_start else ""
        if content.strip():
            return line_start, content
        pos = line_start
    return None


def widen_over_empty_headings(
    text: str, start: int, following: int | None, floor: int, ceiling: int, in_fence: Callable[[int], bool]
) -> int:
    """Where a deletion of [start, following) should start so that a heading whose section it empties is
    deleted with it, and then its parent's, if that empties too.

    A section is empty when the next line kept after the deletion is a heading of the same or a higher
    level, the end of the message (`ceiling`) or of the text (`following` None). A heading the author left
    empty (a sibling before the one emptied), or one in a code block, is never touched: only what the
    deletion empties.
    """
    below: int | None = None  # the level of the heading just taken: only its parent can have emptied
    while True:
        found = _previous_line(text, start, floor)
        if found is None:
            return start
        line_start, content = found
        level = heading_level(content)
        if level is None or in_fence(line_start) or (below is not None and level >= below):
            return start
        if following is not None and following < ceiling:
            after = heading_level(_line_at(text, following))
            if after is None or after > level:
                return start  # text or a subsection stays under this heading
        start, below = line_start, level
