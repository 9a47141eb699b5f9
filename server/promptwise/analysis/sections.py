"""Where a long prompt's tokens go: its Markdown sections, code blocks, tables, examples and includes.

An instruction file or a long message is one block of tokens to the provider; to the person trimming
it, it is a list of headings. Each part is counted as written (the source between its start and the
next heading of the same or a higher level), with its share of the message and what it costs per
1,000 calls, cold and warm, at the file's prices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..formats import Format, Message
from ..text import Span

DEFAULT_MIN_TOKENS = 400
_HEADING = re.compile(r"[ ]{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"[ ]{0,3}\|")
_EXAMPLE_OPEN = re.compile(r"\s*<(examples?)\b[^>]*>", re.IGNORECASE)


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


def lines(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each line of text[start:end]; `\\n`, `\\r\\n` and `\\r` all end a line."""
    pos = start
    while pos < end:
        cut = pos
        while cut < end and text[cut] not in "\r\n":
            cut += 1
        yield pos, cut, text[pos:cut]
        if cut < end and text[cut] == "\r" and cut + 1 < end and text[cut + 1] == "\n":
            cut += 1
        pos = cut + 1


def outline(text: str, start: int, end: int) -> list[Part]:
    """The sections, fenced code blocks, tables and `<examples>` blocks of text[start:end], untallied."""
    parts: list[Part] = []
    open_sections: list[tuple[int, int, str, Span]] = []  # (level, start, title, heading)
    fence: tuple[str, int, str] | None = None  # (marker, start, info)
    table: tuple[int, int] | None = None  # (start, end of its last row)
    example: tuple[str, int] | None = None

    def close_sections(level: int, at: int) -> None:
        while open_sections and open_sections[-1][0] >= level:
            lvl, begin, title, heading = open_sections.pop()
            parts.append(Part("section", title, Span(begin, at), heading, lvl))

    def close_table() -> None:
        nonlocal table
        if table is not None:
            parts.append(Part("table", "table", Span(*table)))
            table = None

    for line_start, line_end, line in lines(text, start, end):
        if fence is not None:
            if line.lstrip(" ").startswith(fence[0][0] * len(fence[0])) and not line.strip().strip(fence[0][0]):
                parts.append(Part("code block", fence[2] or "code block", Span(fence[1], line_end)))
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened:
            close_table()
            info = line[opened.end() :].strip().split(" ")[0]
            fence = (opened.group(1), line_start, f"{info} code block" if info else "code block")
            continue
        if example is not None:
            if re.search(rf"</{example[0]}\s*>", line, re.IGNORECASE):
                parts.append(Part("examples", f"<{example[0]}>", Span(example[1], line_end)))
                example = None
            continue
        tag = _EXAMPLE_OPEN.match(line)
        if tag and not re.search(rf"</{tag.group(1)}\s*>", line, re.IGNORECASE):
            close_table()
            example = (tag.group(1), line_start)
            continue
        if _TABLE_ROW.match(line):
            table = (table[0] if table else line_start, line_end)
            continue
        close_table()
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            close_sections(level, line_start)
            open_sections.append((level, line_start, (heading.group(2) or "").strip(), Span(line_start, line_end)))
    if fence is not None:  # an unclosed fence runs to the end, as Markdown renders it
        parts.append(Part("code block", fence[2] or "code block", Span(fence[1], end)))
    if example is not None:
        parts.append(Part("examples", f"<{example[0]}>", Span(example[1], end)))
    close_table()
    close_sections(0, end)
    return sorted(parts, key=lambda p: (p.span.start, -p.span.end))


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
