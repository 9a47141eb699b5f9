"""Where a long prompt's tokens go: its Markdown sections, code blocks, tables, examples and includes.

An instruction file or a long message is one block of tokens to the provider; to the person trimming
it, it is a list of headings. Each part is counted as written (the source between its start and the
next heading of the same or a higher level), with its share of the message and what it costs per
1,000 calls, cold and warm, at the file's prices.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from dataclasses import dataclass
from typing import Iterator

from ..formats import Format, Message
from ..text import Span

DEFAULT_MIN_TOKENS = 400
_MARK = re.compile(r"(?:(#{1,6})(?=[ \t\r\n]|\Z)|(`{3,}|~{3,})|\|)|<(/?)(examples?)\b", re.IGNORECASE)
# What a line that opens or closes a part starts with. Lines are found with str.find, not read one by
# one: a keystroke's hints in a 1 MiB file must stay within a millisecond or two. Parts are recognised
# at the start of a line (Markdown allows up to three spaces of indent; those are left out).
_OPENERS = ("#", "```", "~~~", "|", "<")
_EOL = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class Part:
    """A part of a message as written: `kind` is "section", "code block", "table", "examples" or "include"."""

    kind: str
    title: str
    span: Span  # the whole part in the source
    heading: Span | None = None  # a section's heading line
    level: int = 0  # a section's heading level
    tokens: int = 0

    def counted(self, tokens: int) -> "Part":
        return Part(self.kind, self.title, self.span, self.heading, self.level, tokens)


@dataclass(frozen=True)
class Breakdown:
    """The parts of one message, with the message's tokens for the share."""

    message: int  # index in the document's messages
    tokens: int
    parts: tuple[Part, ...]

    @property
    def sections(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "section"]

    def share(self, part: Part) -> float:
        return part.tokens / self.tokens if self.tokens else 0.0

    def largest(self, limit: int = 8) -> list[Part]:
        """The biggest parts, nested sections included; a section is listed beside its code blocks."""
        return sorted(self.parts, key=lambda p: -p.tokens)[:limit]


def outline(text: str, start: int, end: int) -> list[Part]:
    """The sections, fenced code blocks, tables and `<examples>` blocks of text[start:end], untallied.
    `\n`, `\r\n` and `\r` all end a line."""
    segment = text[start:end]
    parts: list[Part] = []
    open_sections: list[tuple[int, int, str, Span]] = []  # (level, start, title, heading)
    fence: tuple[str, int, str] | None = None  # (marker, start, title)
    table: list[int] | None = None  # [start, end of its last row]
    example: tuple[str, int] | None = None

    def close_sections(level: int, at: int) -> None:
        while open_sections and open_sections[-1][0] >= level:
            lvl, begin, title, heading = open_sections.pop()
            parts.append(Part("section", title, Span(begin, at), heading, lvl))

    def close_table() -> None:
        nonlocal table
        if table is not None:
            parts.append(Part("table", "table", Span(start + table[0], start + table[1])))
            table = None

    for line_start in _candidate_lines(segment):
        eol = _EOL.search(segment, line_start)
        line_end = eol.start() if eol else len(segment)
        line = segment[line_start:line_end]
        m = _MARK.match(line)
        if m is None:
            continue
        if table is not None and not _next_line(segment, table[1], line_start):
            close_table()
        if fence is not None:
            marker = m.group(2)
            if marker and marker[0] == fence[0][0] and len(marker) >= len(fence[0]) and not line.strip().strip(marker[0]):
                parts.append(Part("code block", fence[2], Span(start + fence[1], start + line_end)))
                fence = None
            continue
        if example is not None and m.group(3) and m.group(4).lower() == example[0].lower():
            parts.append(Part("examples", f"<{example[0]}>", Span(start + example[1], start + line_end)))
            example = None
            continue
        if m.group(2):
            close_table()
            info = line.strip()[len(m.group(2)) :].strip().split(" ")[0]
            fence = (m.group(2), line_start, f"{info} code block" if info else "code block")
        elif m.group(4):
            if example is None and not m.group(3) and not re.search(rf"</{m.group(4)}\s*>", line, re.IGNORECASE):
                close_table()
                example = (m.group(4), line_start)
        elif m.group(1):
            close_table()
            level = len(m.group(1))
            close_sections(level, start + line_start)
            title = line.strip()[level:].strip().rstrip("#").strip()
            open_sections.append((level, start + line_start, title, Span(start + line_start, start + line_end)))
        else:  # a table row
            table = [table[0] if table else line_start, line_end]
    if fence is not None:  # an unclosed fence runs to the end, as Markdown renders it
        parts.append(Part("code block", fence[2], Span(start + fence[1], end)))
    if example is not None:
        parts.append(Part("examples", f"<{example[0]}>", Span(start + example[1], end)))
    close_table()
    close_sections(0, end)
    return sorted(parts, key=lambda p: (p.span.start, -p.span.end))


def _candidate_lines(segment: str) -> list[int]:
    """Starts of the lines that begin with one of _OPENERS, in order."""
    found = [0] if segment.startswith(_OPENERS) else []
    for eol in ("\n", "\r") if "\r" in segment else ("\n",):
        for opener in _OPENERS:
            needle = eol + opener
            at = segment.find(needle)
            while at >= 0:
                found.append(at + 1)
                at = segment.find(needle, at + 1)
    found.sort()
    return found


def _next_line(text: str, line_end: int, line_start: int) -> bool:
    """Whether `line_start` begins the line right after the one ending at `line_end`."""
    if text.startswith("\r\n", line_end):
        return line_start == line_end + 2
    return line_start == line_end + 1


def sections_starting_between(text: str, start: int, end: int, first: int, last: int, fences: list[int] | None = None) -> list[Part]:
    """The sections of text[start:end] whose heading line starts in [first, last], as `outline` finds them,
    reading only the fences before `first`, the lines of the window, and, for a section still open after
    it, the next heading of its level or higher (found by the regex engine, the fences between skipped):
    what the inlay hints of a visible range need, without an outline of a whole 1 MiB file.

    `fences`, the text's LineIndex.fence_lines(), spares the searches for fences before `first` and
    between a section's heading and the next."""
    fence: str | None = None
    for at in _fences_before(text, start, end, first, fences):
        fence = _fence_after(text, at, end, fence)
    pending: list[tuple[int, int, str, Span]] = []
    found: list[Part] = []
    resume = min(end, last + 1)
    for at in _lines_starting(text, start, end, first, ("#", "```", "~~~"), stop=last + 1):
        if at > last:
            resume = at
            break
        if text.startswith(("```", "~~~"), at):
            fence = _fence_after(text, at, end, fence)
            continue
        if fence is not None:
            continue
        line_end = _line_end(text, at, end)
        m = _MARK.match(text, at, line_end)
        if m is None or not m.group(1):
            continue
        level = len(m.group(1))
        _close(pending, found, level, at)
        title = text[at:line_end].strip()[level:].strip().rstrip("#").strip()
        pending.append((level, at, title, Span(at, line_end)))
    while pending:
        at, fence = _next_heading(text, start, end, resume, pending[-1][0], fence, fences)
        if at is None:
            break
        _close(pending, found, len(_MARK.match(text, at).group(1)), at)
        resume = at + 1
    found += [Part("section", title, Span(begin, end), heading, lvl) for lvl, begin, title, heading in pending]
    return sorted(found, key=lambda p: p.span.start)


def _fences_before(text: str, start: int, end: int, first: int, fences: list[int] | None) -> Iterator[int]:
    """The fence lines of text[start:end] that start before `first`."""
    return (at for at in _fence_lines(text, start, end, start, _FENCES, first, fences) if at < first)


_FENCES = ("```", "~~~")


def _fence_lines(text: str, start: int, end: int, pos: int, openers: tuple[str, ...], stop: int | None, fences: list[int] | None) -> Iterator[int]:
    """_lines_starting(text, start, end, pos, openers, stop) for code fence `openers`, read from `fences`
    (the text's LineIndex.fence_lines()) when given: no search of the text."""
    if fences is None:
        yield from _lines_starting(text, start, end, pos, openers, stop)
        return
    bound = end if stop is None else min(end, stop + 4)  # as _lines_starting bounds its needles
    if pos == start and text.startswith(openers, start, end):
        yield start  # a body that starts with a fence, whether or not a line starts there
    for at in fences[bisect_left(fences, max(pos, start + 1)) :]:
        if at + 3 > bound:
            return
        if text.startswith(openers, at):
            yield at


def _close(pending: list, found: list[Part], level: int, at: int) -> None:
    """Sections of `level` or deeper end where a heading of `level` starts."""
    while pending and pending[-1][0] >= level:
        lvl, begin, title, heading = pending.pop()
        found.append(Part("section", title, Span(begin, at), heading, lvl))


@lru_cache(maxsize=16)
def _headings_up_to(level: int, eol: str) -> re.Pattern[str]:
    # Starts with a literal line break and `#`: the regex engine skips to each candidate in C.
    return re.compile(rf"{re.escape(eol)}#{{1,{level}}}(?=[ \t\r\n]|\Z)")


def _next_heading(text: str, start: int, end: int, pos: int, level: int, fence: str | None, fences: list[int] | None = None) -> tuple[int | None, str | None]:
    """The start of the first line from `pos` on that is a heading of `level` or higher outside a code
    block, and the fence state there (None when there is none before `end`)."""
    eol = "\n" if text.find("\n", start, end) >= 0 else "\r"
    pattern = _headings_up_to(level, eol)
    while pos < end:
        if fence is not None:  # inside a code block: skip to its closing line
            for at in _fence_lines(text, start, end, pos, (fence[0] * 3,), None, fences):
                fence = _fence_after(text, at, end, fence)
                if fence is None:
                    pos = _line_end(text, at, end)
                    break
            else:
                return None, fence
        m = pattern.search(text, max(start, pos - 1), end)
        candidate = m.start() + 1 if m else end
        opener = next(_fence_lines(text, start, end, pos, _FENCES, candidate, fences), None)
        if opener is None or opener >= candidate:
            return (candidate if m else None), None
        fence = _fence_after(text, opener, end, None)
        pos = _line_end(text, opener, end)
    return None, fence


def _fence_after(text: str, at: int, end: int, fence: str | None) -> str | None:
    """The open fence's marker after the fence line at `at`: opened, closed, or unchanged."""
    line = text[at:_line_end(text, at, end)]
    marker = line[: len(line) - len(line.lstrip(line[0]))]
    if fence is None:
        return marker if len(marker) >= 3 else None
    if marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip().strip(marker[0]):
        return None
    return fence


def _line_end(text: str, at: int, end: int) -> int:
    eol = _EOL.search(text, at, end)
    return eol.start() if eol else end


def _lines_starting(text: str, start: int, end: int, pos: int, openers: tuple[str, ...], stop: int | None = None) -> Iterator[int]:
    """Starts of the lines of text[start:end] from `pos` on (up to `stop`) that begin with one of `openers`, in order."""
    if pos == start and text.startswith(openers, start, end):
        yield start
    bound = end if stop is None else min(end, stop + 4)  # a needle is a line break and at most three characters
    needles = [eol + o for eol in (("\n", "\r") if text.find("\r", max(pos - 1, start), bound) >= 0 else ("\n",)) for o in openers]
    hits = {n: text.find(n, max(pos - 1, start), bound) for n in needles}
    while True:
        live = [(at, n) for n, at in hits.items() if at >= 0]
        if not live:
            return
        at, needle = min(live)
        hits[needle] = text.find(needle, at + 1, bound)
        if at + 1 >= pos:
            yield at + 1


def wants_breakdown(fmt: Format, message_tokens: int, min_tokens: int = DEFAULT_MIN_TOKENS) -> bool:
    """Instruction files always; other messages from `min_tokens` up."""
    return fmt is Format.INSTRUCTIONS or message_tokens >= min_tokens


def breakdown(text: str, message: Message, index: int, message_tokens: int, count) -> Breakdown:  # noqa: ANN001
    """The parts of one message, each counted with `count` (a tokenizer's count), includes among them."""
    parts = [p.counted(count(text[p.span.start : p.span.end])) for p in outline(text, message.body.start, message.body.end)]
    parts += [
        Part("include", inc.target, inc.span, tokens=inc.tokens) for inc in message.includes if inc.error is None and inc.tokens
    ]
    return Breakdown(index, message_tokens, tuple(sorted(parts, key=lambda p: (p.span.start, -p.span.end))))


def breakdowns(analysis, min_tokens: int = DEFAULT_MIN_TOKENS) -> list[Breakdown]:  # noqa: ANN001 - an Analysis
    """Every message of an analysis that is worth a breakdown, with its parts counted."""
    doc = analysis.document
    found = []
    for index, counted in enumerate(analysis.messages):
        if counted.message.on_use or not wants_breakdown(doc.format, counted.content_tokens, min_tokens):
            continue
        found.append(breakdown(doc.text, counted.message, index, counted.content_tokens, analysis.tokenizer.count))
    return found


def per_1000(analysis, index: int, part: Part) -> tuple[float | None, float | None]:  # noqa: ANN001
    """What `part` of message `index` costs per 1,000 calls: (cold, warm). Warm reads it from the cache
    when it lies in the stable prefix; after the first per-call content it is paid in full either way."""
    estimate = analysis.estimate
    if estimate is None or estimate.cold is None:
        return None, None
    cold_price = next((p.unit_price for p in estimate.cold.parts if p.part == "input"), None)
    if cold_price is None:
        return None, None
    warm_price = cold_price
    if estimate.cached and estimate.warm is not None and _in_prefix(analysis, index, part):
        warm_price = next((p.unit_price for p in estimate.warm.parts if p.part == "cache_read"), cold_price)
    return part.tokens * cold_price * 1000, part.tokens * warm_price * 1000


def _in_prefix(analysis, index: int, part: Part) -> bool:  # noqa: ANN001
    stop = analysis.estimate.prefix.per_call_message
    if stop is None or index < stop:
        return True
    if index > stop:
        return False
    variables = analysis.messages[index].message.variables
    first = min((v.span.start for v in variables), default=None)
    return first is not None and part.span.end <= first
