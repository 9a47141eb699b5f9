"""Source text with offsets, lines and LSP positions (UTF-16 code units) in one tested place."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A zero-based line and a column counted in UTF-16 code units, as LSP counts them."""

    line: int
    character: int


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position

    def contains(self, position: Position) -> bool:
        return self.start <= position <= self.end

    def overlaps(self, other: "Range") -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Span:
    """Half-open offsets into a str (code points), the engine's own coordinates."""

    start: int
    end: int

    def shift(self, delta: int) -> "Span":
        return Span(self.start + delta, self.end + delta)

    def __len__(self) -> int:
        return self.end - self.start


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    # Code points above the BMP take two UTF-16 code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """Maps code-point offsets to LSP positions and back for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.line_starts = starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset) - 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.line_starts[line]
        return Position(line, utf16_len(self.text[start:offset]))

    def range(self, span: Span) -> Range:
        return Range(self.position(span.start), self.position(span.end))

    def offset(self, position: Position) -> int:
        """The code-point offset of an LSP position; columns past the line end clamp to it."""
        if position.line >= len(self.line_starts):
            return len(self.text)
        if position.line < 0:
            return 0
        start = self.line_starts[position.line]
        line = self.line_text(position.line)
        if line.isascii():
            return start + min(position.character, len(line))
        units = 0
        for i, ch in enumerate(line):
            if units >= position.character:
                return start + i
            units += 2 if ord(ch) > 0xFFFF else 1
        return start + len(line)

    def replaced(self, span: Span, new_text: str) -> "LineIndex":
        """The index of this text with `span` replaced by `new_text`, without rescanning the rest.

        An editor sends one small change per keystroke; only the line starts after it move.
        """
        old = self.text
        first = self.line_of(span.start)
        last = self.line_of(span.end)
        starts = self.line_starts[: first + 1]
        find = new_text.find
        i = find("\n")
        while i != -1:
            starts.append(span.start + i + 1)
            i = find("\n", i + 1)
        tail = self.line_starts[last + 1 :]
        delta = len(new_text) - (span.end - span.start)
        starts.extend(map(delta.__add__, tail) if delta else tail)
        index = LineIndex.__new__(LineIndex)
        index.text = "".join((old[: span.start], new_text, old[span.end :]))  # one copy fewer than +
        index.line_starts = starts
        return index
