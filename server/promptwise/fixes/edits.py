"""Text edits in the engine's coordinates (code-point Spans): apply them, derive them, preview them."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Iterable

from ..text import Span, split_lines


@dataclass(frozen=True)
class TextEdit:
    """Replace `span` of the original text with `new_text`; an LSP TextEdit once the range is converted."""

    span: Span
    new_text: str

    @classmethod
    def delete(cls, start: int, end: int) -> "TextEdit":
        return cls(Span(start, end), "")

    @classmethod
    def insert(cls, offset: int, text: str) -> "TextEdit":
        return cls(Span(offset, offset), text)


class OverlappingEdits(ValueError):
    pass


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """The text after all edits, each placed against the original text (as LSP applies a TextEdit[])."""
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end))
    out: list[str] = []
    pos = 0
    for edit in ordered:
        start, end = edit.span.start, edit.span.end
        if start < pos or end < start or end > len(text):
            raise OverlappingEdits(f"edit {edit.span} overlaps another edit or falls outside the text")
        out.append(text[pos:start])
        out.append(edit.new_text)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def diff_edits(old: str, new: str) -> list[TextEdit]:
    """Line-granular edits that turn `old` into `new`, so a preview shows only the lines that change."""
    if old == new:
        return []
    # Lines as the editor counts them ("\n", "\r\n", a lone "\r"), so each edit covers whole editor lines.
    old_lines = split_lines(old)
    new_lines = split_lines(new)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(TextEdit(Span(starts[i1], starts[i2]), "".join(new_lines[j1:j2])))
    return edits


def unified_diff(old: str, new: str, name: str) -> str:
    """A reviewable preview of a fix, for the CLI and hovers."""
    return "".join(
        difflib.unified_diff(
            split_lines(old), split_lines(new), f"a/{name}", f"b/{name}", n=1
        )
    )


def money(value: float) -> str:
    """Dollars to at least four decimals and two significant digits: $0.0108, $0.0010, $0.00037."""
    value = abs(value)
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    decimals = min(10, max(4, 1 - math.floor(math.log10(value))))
    return f"${value:.{decimals}f}"


def _signed(value: float, text: str) -> str:
    return ("-" if value > 0 else "+" if value < 0 else "") + text


def saving_text(tokens: int, cost: float | None) -> str:
    """"-412 tokens, -$0.0010 per call": what a fix saves, as its title shows it."""
    parts = [_signed(tokens, f"{abs(tokens):,} token{'' if abs(tokens) == 1 else 's'}")]
    if cost is not None:
        parts.append(_signed(cost, money(cost)) + " per call")
    return ", ".join(parts)
