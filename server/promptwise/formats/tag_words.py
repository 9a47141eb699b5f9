"""Reading template tags in long texts: a Handlebars tag's words (split on whitespace outside quotes,
parentheses and brackets), and `find_pair`, the search for `{{` or `}}` of every template format.

Both the scanner and dotpromptz-handlebars split a tag this way, and both did it a character at a time in
Python. A half-typed `{{` makes one tag of the text up to the next `}}`, often a hundred kilobytes, so
that walk cost tens of milliseconds a keystroke. This does the same with `str.find` and `str.split`,
stopping only at quotes and brackets.
"""

from __future__ import annotations

import re

MARKS = re.compile(r"[\"'()\[\]]")  # where a word can stop being plain


def split_words(text: str, split_when_unbalanced: bool) -> list[str]:
    """The words of `text`. Whitespace splits when no quote is open and the bracket depth is 0 (or, with
    `split_when_unbalanced`, below 0 too: the scanner's rule; the library splits only at depth 0)."""
    out: list[str] = []
    buf: list[str] = []
    depth = 0
    at, n = 0, len(text)
    while at < n:
        mark = MARKS.search(text, at)
        stop = mark.start() if mark else n
        if stop > at:
            piece = text[at:stop]
            if depth == 0 or (split_when_unbalanced and depth < 0):
                words = piece.split()
                if buf and (not words or piece[0].isspace()):
                    out.append("".join(buf))
                    buf = []
                if words:
                    buf.append(words[0])
                    if len(words) > 1:  # the words between the first and the last stand alone
                        out.append("".join(buf))
                        out.extend(words[1:-1])
                        buf = [words[-1]]
                    if piece[-1].isspace():
                        out.append("".join(buf))
                        buf = []
            else:
                buf.append(piece)
        if mark is None:
            break
        char = mark.group()
        if char in "\"'":
            close = text.find(char, stop + 1)
            at = n if close < 0 else close + 1
            buf.append(text[stop:at])
            continue
        depth += 1 if char in "([" else -1
        buf.append(char)
        at = stop + 1
    if buf:
        out.append("".join(buf))
    return out


_PAIR_MISSES = 16  # first characters not followed by the second before the search is left to str.find


def find_pair(text: str, pair: str, start: int = 0, end: int | None = None) -> int:
    """text.find(pair, start, end) for a two-character `pair` such as "{{": str.find of one character is
    several times faster than of two in a long text of emoji (four bytes a character), and prose seldom
    holds a brace. Text dense with the first character goes back to str.find after a few misses."""
    start, end, _ = slice(start, end).indices(len(text))
    if end - start < 2:
        return -1
    first, second = pair
    at = text.find(first, start, end - 1)
    for _ in range(_PAIR_MISSES):
        if at < 0 or text[at + 1] == second:
            return at
        at = text.find(first, at + 1, end - 1)
    return text.find(pair, at, end) if at >= 0 else -1
