"""Engine offsets to LSP positions and back, always through the engine's LineIndex (UTF-16 columns)."""

from __future__ import annotations

from lsprotocol import types

from ..text import LineIndex, Position, Span


def offset_of(lines: LineIndex, position: types.Position) -> int:
    return lines.offset(Position(position.line, position.character))


def position(lines: LineIndex, offset: int) -> types.Position:
    p = lines.position(offset)
    return types.Position(line=p.line, character=p.character)


def range_of(lines: LineIndex, span: Span) -> types.Range:
    return types.Range(start=position(lines, span.start), end=position(lines, span.end))


def end_of_text(lines: LineIndex, span: Span) -> int:
    """The span's end, moved back over trailing blanks and a CR so a hint sits right after the text."""
    text = lines.text
    end = span.end
    while end > span.start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def line_end(lines: LineIndex, offset: int) -> int:
    """The offset of the end of the line holding `offset`, before its line break."""
    line = lines.line_of(offset)
    return lines.line_start(line) + len(lines.line_text(line))
