"""Source text with offsets, lines and LSP positions (UTF-16 code units) in one tested place."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

# LSP ends a line at "\n", "\r\n" or a lone "\r"; an editor counts lines this way, so every position must.
_BREAK = re.compile(r"\r\n?|\n")


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


@dataclass(frozen=True)
class Edit:
    """What changed between two versions of a text: [start, old_end) of the old one became [start, new_end)."""

    start: int
    old_end: int
    new_end: int

    @property
    def delta(self) -> int:
        return self.new_end - self.old_end


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    # Code points above the BMP take two UTF-16 code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """Maps code-point offsets to LSP positions and back for one text.

    Line starts from line `_shift_from` on are stored `_shift` too small: a keystroke moves every
    later line start by the same amount, and adding it to tens of thousands of ints per keystroke
    cost more than the rest of an edit. The next edit near the same place just adjusts the shift.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = _line_starts(text, 0)
        self._shift_from = len(self._starts)
        self._shift = 0
        self._fences: list[int] | None = None

    def fence_lines(self) -> list[int]:
        """The starts of the lines that begin with a code fence marker (three backticks or tildes), in
        order: what the heading hints read to know whether a heading is inside a code block. Found once,
        then carried through `replaced`, so a keystroke does not search the text before the edit again."""
        if self._fences is None:
            self._fences = _fences_in(self.text, 0, len(self.text))
        return self._fences

    @property
    def line_count(self) -> int:
        return len(self._starts)

    @property
    def line_starts(self) -> list[int]:
        """Every line's start offset (a new list; line_start() reads one without building it)."""
        k, d = self._shift_from, self._shift
        return self._starts[:k] + [s + d for s in self._starts[k:]]

    def line_start(self, line: int) -> int:
        return self._starts[line] + (self._shift if line >= self._shift_from else 0)

    def line_of(self, offset: int) -> int:
        k = self._shift_from
        if k < len(self._starts) and offset >= self._starts[k] + self._shift:
            return bisect_right(self._starts, offset - self._shift, k) - 1
        return bisect_right(self._starts, offset, 0, k) - 1

    def line_text(self, line: int) -> str:
        """The line's text without its line break."""
        start = self.line_start(line)
        if line + 1 >= len(self._starts):
            return self.text[start:]
        end = self.line_start(line + 1) - 1  # the last character of the break
        if self.text[end] == "\n" and end > start and self.text[end - 1] == "\r":
            end -= 1
        return self.text[start:end]

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.line_start(line)
        return Position(line, utf16_len(self.text[start:offset]))

    def range(self, span: Span) -> Range:
        return Range(self.position(span.start), self.position(span.end))

    def offset(self, position: Position) -> int:
        """The code-point offset of an LSP position; columns past the line end clamp to it."""
        if position.line >= len(self._starts):
            return len(self.text)
        if position.line < 0:
            return 0
        start = self.line_start(position.line)
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

        Every line start after the edit moves by the same amount, which goes into the shift: the work
        is proportional to the distance from the previous edit, not to the length of the text.
        """
        # A line start depends on the character before it and the one at it ("\r" then "\n" is one break),
        # so the starts from span.start to the end of the new text are found again, one character each
        # side of the edit included; the others only move.
        first = self.line_of(max(span.start - 1, 0))
        last = self.line_of(span.end)
        text = self.text
        lo = max(span.start - 1, 0)
        window = "".join((text[lo : span.start], new_text, text[span.end : span.end + 1]))
        added = [s for s in _line_starts(window, lo)[1:] if span.start <= s <= span.start + len(new_text)]
        delta = len(new_text) - (span.end - span.start)
        starts = self._starts.copy()  # pointers only; the old index stays valid for older snapshots
        k, shift = self._shift_from, self._shift
        if shift:
            # After this edit the shift applies from the line after it; re-store the lines between
            # the old and the new boundary so each still reads back its real start.
            for j in range(last + 1, k):  # were unshifted, will be shifted
                starts[j] -= shift
            for j in range(k, first + 1):  # were shifted, will be unshifted
                starts[j] += shift
        starts[first + 1 : last + 1] = added
        index = LineIndex.__new__(LineIndex)
        index.text = "".join((text[: span.start], new_text, text[span.end :]))  # one copy fewer than +
        index._starts = starts
        index._shift_from = first + 1 + len(added)
        index._shift = shift + delta
        index._fences = self._moved_fences(index.text, span, len(new_text))
        return index

    def _moved_fences(self, new: str, span: Span, added: int) -> list[int] | None:
        """fence_lines() of the edited text, from this text's: a fence line's start depends on the
        break before it and its three marker characters, so only starts near the edit are looked for."""
        fences = self._fences
        if fences is None or added > _FENCE_WINDOW:
            return None  # not asked for yet, or a paste: found again when asked
        a = span.start
        delta = added - len(span)
        keep = bisect_left(fences, a - 3)  # [s - 1, s + 3) ends before the edit
        after = bisect_right(fences, span.end)  # [s - 1, s + 3) starts after it
        near = [s for s in _fences_in(new, max(0, a - 4), a + added + 4) if a - 3 <= s <= a + added]
        return fences[:keep] + near + [s + delta for s in fences[after:]]


_FENCE_WINDOW = 4096  # a longer insertion drops the fence lines, found again from scratch when asked
_FENCE_NEEDLES = ("\n```", "\n~~~", "\r```", "\r~~~")


def _fences_in(text: str, start: int, end: int) -> list[int]:
    """The starts of the lines in text[start:end] beginning with ``` or ~~~ (the break before each in range)."""
    found = [0] if start == 0 and text.startswith(("```", "~~~"), 0, end) else []
    for needle in _FENCE_NEEDLES if text.find("\r", start, end) >= 0 else _FENCE_NEEDLES[:2]:
        at = text.find(needle, start, end)
        while at >= 0:
            found.append(at + 1)
            at = text.find(needle, at + 1, end)
    found.sort()
    return found


def _line_starts(text: str, base: int) -> list[int]:
    """`base` and the offset (plus `base`) after every line break in `text`."""
    starts = [base]
    if "\r" in text:
        starts.extend(base + m.end() for m in _BREAK.finditer(text))
        return starts
    find = text.find
    i = find("\n")
    while i != -1:
        starts.append(base + i + 1)
        i = find("\n", i + 1)
    return starts


def split_lines(text: str) -> list[str]:
    """The lines of `text` as LSP counts them, each with its line break (str.splitlines also splits
    at form feeds, U+2028 and others, which editors do not)."""
    out: list[str] = []
    pos = 0
    for m in _BREAK.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out
