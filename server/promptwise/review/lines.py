"""Which changed lines of a prompt file made its cost go up: line ranges from the two texts, and each
message's token change shared among the ranges inside it (what `diff --format github` annotates)."""

from __future__ import annotations

import difflib
import re

from .model import LineChange, MessageFigures

# A line ends at \n, \r\n or \r (as text.LineIndex counts them), never at the other breaks splitlines knows.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# Past this many lines a side, difflib's quadratic worst case is not worth an annotation.
MAX_LINES = 20_000
# Ranges times messages past which the changes are reported as one range (each pair meets each range).
MAX_WORK = 200_000


def split_lines(text: str) -> list[str]:
    return _LINE.findall(text)


def changed_ranges(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """(old_start, old_end, new_start, new_end) zero-based line ranges, end exclusive, of what differs."""
    a, b = split_lines(old), split_lines(new)
    if len(a) > MAX_LINES or len(b) > MAX_LINES:
        return [(0, len(a), 0, len(b))] if a != b else []
    matcher = difflib.SequenceMatcher(None, a, b)  # autojunk: repeated lines cannot make it quadratic
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def line_changes(
    old: str,
    new: str,
    old_messages: list[MessageFigures],
    new_messages: list[MessageFigures],
    total_delta: int,
    note: str | None = None,
) -> list[LineChange]:
    """The changed ranges of `new`, each with the tokens it added: a message's change is shared among
    the ranges inside it by how much text each changed; what no message explains (tools, settings in
    the frontmatter) goes to the ranges outside every message. `note` goes on the first range."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    ranges = changed_ranges(old, new)
    if not ranges:
        return []
    pairs = _pairs(old_messages, new_messages)
    if len(ranges) * max(len(pairs), 1) > MAX_WORK:  # scattered edits over many messages: one range
        ranges = [(ranges[0][0], ranges[-1][1], ranges[0][2], ranges[-1][3])]
    size = [sum(len(x) for x in old_lines[i1:i2]) + sum(len(x) for x in new_lines[j1:j2]) + 1 for i1, i2, j1, j2 in ranges]
    shares = [0.0] * len(ranges)
    inside = [False] * len(ranges)
    explained = 0
    for old_m, new_m in pairs:
        delta = (new_m.tokens if new_m else 0) - (old_m.tokens if old_m else 0)
        explained += delta
        hit = [k for k, r in enumerate(ranges) if _hit(r, old_m, new_m)]
        for k in hit:
            inside[k] = True
        if delta and hit:
            weight = sum(size[k] for k in hit)
            for k in hit:
                shares[k] += delta * size[k] / weight
    leftover = total_delta - explained
    if leftover:
        outside = [k for k in range(len(ranges)) if not inside[k]] or [0]
        weight = sum(size[k] for k in outside)
        for k in outside:
            shares[k] += leftover * size[k] / weight
    changes = []
    for k, (i1, i2, j1, j2) in enumerate(ranges):
        first = min(j1, max(len(new_lines) - 1, 0)) + 1
        last = max(first, j2)
        changes.append(LineChange(line=first, end_line=last, tokens=round(shares[k]), note=note if k == 0 else None))
    return sorted(changes, key=lambda c: (-c.tokens, c.line))


def _hit(r: tuple[int, int, int, int], old: MessageFigures | None, new: MessageFigures | None) -> bool:
    """Whether a changed range is part of a message: by the head side's lines, or, for text only
    removed (or a message removed), by the base side's."""
    i1, i2, j1, j2 = r
    if new is not None and j1 < j2:
        return _touches(j1, j2, new)
    if old is not None and i1 < i2:
        return _touches(i1, i2, old)
    return new is not None and _touches(j1, j2, new)


def _touches(start: int, end: int, message: MessageFigures) -> bool:
    """Whether lines [start, end) (zero-based; empty for a pure insertion or deletion point) meet the message."""
    first, last = message.line - 1, message.end_line - 1
    if start == end:
        return first <= start <= last + 1
    return start <= last and end - 1 >= first


def _pairs(old: list[MessageFigures], new: list[MessageFigures]) -> list[tuple[MessageFigures | None, MessageFigures | None]]:
    """Messages paired by their place among messages of the same role and name; the rest stand alone."""
    keys_old, keys_new = [(m.role, m.name) for m in old], [(m.role, m.name) for m in new]
    if keys_old == keys_new:
        return list(zip(old, new))
    matcher = difflib.SequenceMatcher(None, keys_old, keys_new)
    pairs: list[tuple[MessageFigures | None, MessageFigures | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i2 - i1 == j2 - j1:
            pairs += list(zip(old[i1:i2], new[j1:j2]))
        else:
            pairs += [(m, None) for m in old[i1:i2]] + [(None, m) for m in new[j1:j2]]
    return pairs
