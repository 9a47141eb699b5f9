"""How a Prompty body is laid out for rendering: its literal role lines and sections, whether it is simple
(each section renders alone with the same result), and how rendered messages map back to the source."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable

import jinja2

from ..text import Edit, Span
from .common import message_span
from .document import Finding, Message, PromptDocument
from .prompty_split import Piece, source_role_lines, style_of
from .tag_words import find_pair

# A literal role line is replaced by this marker while the whole body renders, so that each role line
# of the output can be traced to the source line that wrote it (or to none: a loop or a value wrote it).
MARK = "\ue000{}\ue001"
_MARKS = re.compile("\ue000(\\d+)\ue001")
THREAD = "\ue002{}\ue003"
_THREADS = re.compile("\ue002(\\d+)\ue003")
_FOR = re.compile(r"\{%-?\s*(?P<tag>for|endfor)\b[^%]*%\}")
_OUTPUT = re.compile(r"\{\{.*?\}\}", re.DOTALL)


# Without these, every section of the body renders on its own with the same result as the whole body
# (no statement, comment or whitespace control can reach across a role line), so an edit re-renders one.
_JINJA_STRUCTURE_RE = re.compile(r"\{[%#]|\{\{-|-\}\}")
_MUSTACHE_STRUCTURE_RE = re.compile(r"\{\{[#^/!>=]")


RICH_KINDS = ("thread", "image", "file", "audio")


def rich_inputs(data: dict[str, Any]) -> dict[str, str]:
    """Prompty 2 inputs of a rich kind, by name: a `thread` (a list of messages), an `image`, `file` or
    `audio` (a part of a message), each going where its variable is written."""
    inputs = data.get("inputs")
    items = inputs.items() if isinstance(inputs, dict) else ((i.get("name"), i) for i in inputs if isinstance(i, dict)) if isinstance(inputs, list) else ()
    kinds = {str(name): str(spec.get("kind", "")).lower() for name, spec in items if isinstance(spec, dict)}
    return {name: kind for name, kind in kinds.items() if kind in RICH_KINDS}


@dataclass
class Layout:
    """How a document's body is rendered: its style, engine, where it starts and its literal role lines."""

    style: str
    is_mustache: bool
    start: int
    roles: list[tuple[int, int, str, str | None]]
    simple: bool


def layout_of(doc: PromptDocument, text: str, body_start: int, with_roles: bool = True) -> Layout:
    style = style_of(doc.frontmatter)
    is_mustache = uses_mustache(doc.frontmatter.get("template"))
    # The runtimes drop the whitespace between the frontmatter and the body.
    start = body_start
    while start < len(text) and text[start].isspace():
        start += 1
    if not with_roles:  # a re-parse: the caller knows the rest
        return Layout(style, is_mustache, start, [], True)
    roles = source_role_lines(text, start, len(text), style)
    return Layout(style, is_mustache, start, roles, is_simple(text, start, is_mustache))


# Whether the last few texts parsed were simple: a re-parse then checks only the edited lines (a scan of a
# 1 MiB body costs more than the whole keystroke may). Kept by identity, for a handful of open documents.
_SIMPLE_TEXTS: list[tuple[str, int, bool, bool]] = []


_CACHED_TEXT = 64 * 1024


def is_simple(text: str, start: int, is_mustache: bool) -> bool:
    for known, at, kind, simple in _SIMPLE_TEXTS:
        if known is text and at == start and kind == is_mustache:
            return simple
    simple = (_MUSTACHE_STRUCTURE_RE if is_mustache else _JINJA_STRUCTURE_RE).search(text, start) is None
    remember_simple(text, start, is_mustache, simple)
    return simple


def remember_simple(text: str, start: int, is_mustache: bool, simple: bool) -> None:
    if len(text) < _CACHED_TEXT:
        return  # scanning it again costs less than keeping it alive
    _SIMPLE_TEXTS.insert(0, (text, start, is_mustache, simple))
    del _SIMPLE_TEXTS[4:]


def still_simple(old: str, text: str, start: int, is_mustache: bool, edit: Edit) -> bool:
    """Whether `text` (the edit of `old`) is simple, from what `old` was and the edited characters."""
    if not is_simple(old, start, is_mustache):
        return False
    window = (_MUSTACHE_STRUCTURE_RE if is_mustache else _JINJA_STRUCTURE_RE).search(text, max(start, edit.start - 4), edit.new_end + 4)
    simple = window is None
    remember_simple(text, start, is_mustache, simple)
    return simple


def sections_of(layout: Layout, text: str) -> list[tuple[str, str | None, Span, Span]]:
    """(role, name, header, body) of each source section: an implicit one before the first role line when
    there is text there, then one per role line."""
    out: list[tuple[str, str | None, Span, Span]] = []
    roles = layout.roles
    first = roles[0][0] if roles else len(text)
    if first > layout.start:
        out.append(("system", None, Span(layout.start, layout.start), Span(layout.start, first)))
    for i, (a, b, role, name) in enumerate(roles):
        end = roles[i + 1][0] if i + 1 < len(roles) else len(text)
        out.append((role, name, Span(a, b), Span(b, end)))
    return out


def message_of(piece: Piece, header: Span, body: Span, problems: list[Finding]) -> Message:
    return Message(piece.role, message_span(header.start, body.end), header, body, piece.content, name=piece.name, problems=problems, images=piece.images)


def unmark(out: str, text: str, layout: Layout) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text with each marker put back as its role line, and (offset, role line) of each."""
    pieces: list[str] = []
    marks: list[tuple[int, int]] = []
    at = 0
    size = 0
    for m in _MARKS.finditer(out):
        i = int(m.group(1))
        if i >= len(layout.roles):
            continue
        before = out[at : m.start()]
        pieces.append(before)
        size += len(before)
        a, b, _, _ = layout.roles[i]
        marks.append((size, i))
        pieces.append(text[a:b])
        size += b - a
        at = m.end()
    pieces.append(out[at:])
    return "".join(pieces), marks


def map_pieces(text: str, layout: Layout, pieces: list[Piece], marks: list[tuple[int, int]]) -> list[Message]:
    """Messages with source spans: a literal role line's message points at it and its section, one that
    the template wrote points at the loop (or expression) that wrote it."""
    roles = layout.roles
    sections = sections_of(layout, text)
    by_role = {s[2].start: s for s in sections}
    implicit = sections[0] if sections and not len(sections[0][2]) else None
    found: list[tuple[Piece, tuple[str, str | None, Span, Span] | None, Span | None]] = []
    k = 0
    last_section = implicit
    for piece in pieces:
        if piece.header is None:
            first = roles[0][0] if roles else len(text)
            found.append((piece, implicit or ("system", None, Span(layout.start, layout.start), Span(layout.start, first)), None))
            continue
        a, b = piece.header
        while k < len(marks) and marks[k][0] < a:
            last_section = by_role.get(roles[marks[k][1]][0], last_section)
            k += 1
        if k < len(marks) and a <= marks[k][0] < b:
            section = by_role.get(roles[marks[k][1]][0])
            last_section = section
            k += 1
            found.append((piece, section, None))
        else:
            body = last_section[3] if last_section else Span(layout.start, len(text))
            found.append((piece, None, producer_of(text, body) or body))
    messages = []
    for n, (piece, section, where) in enumerate(found):
        if where is not None:
            messages.append(message_of(piece, where, where, []))
            continue
        assert section is not None
        _, _, header, body = section
        nxt = found[n + 1][2] if n + 1 < len(found) else None
        if nxt is not None and body.start <= nxt.start < body.end:
            body = Span(body.start, nxt.start)  # up to the loop that writes the next messages
        messages.append(message_of(piece, header, body, []))
    return messages


def producer_of(text: str, body: Span) -> Span | None:
    """The first top-level for loop in `body` (with its endfor), else its first `{{ }}` output."""
    depth = 0
    start = None
    for m in _FOR.finditer(text, body.start, body.end):
        if m.group("tag") == "for":
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0 and start is not None:
                return Span(start, m.end())
    if start is not None:
        return Span(start, body.end)
    out = _OUTPUT.search(text, body.start, body.end)
    return Span(out.start(), out.end()) if out else None


def expand_rich(doc: PromptDocument, messages: list[Message], names: list[str], kinds: dict[str, str], values: dict[str, Any]) -> list[Message]:
    """Prompty 2's rich inputs where their variable is written: a thread's messages split the message there;
    an image, file or audio input is a part of a user message (the one before it when that is a user's)."""
    out: list[Message] = []
    found_any = False
    for m in messages:
        parts = _THREADS.split(m.content)
        if len(parts) == 1:
            out.append(m)
            continue
        found_any = True
        first = len(out)
        for n, part in enumerate(parts):
            if n % 2 == 0:
                if part.strip():
                    out.append(replace(m, content=part.strip(), problems=[]))
                continue
            j = int(part)
            name = names[j] if j < len(names) else ""
            where = _variable_span(doc.text, m.span, name) or m.span
            if kinds.get(name) == "thread":
                out.extend(_thread_messages(values.get(name), where))
            elif out and out[-1].role == "user":
                out[-1] = replace(out[-1], images=out[-1].images + (kinds.get(name) == "image"))
            else:
                out.append(Message("user", where, where, Span(where.end, where.end), "", images=int(kinds.get(name) == "image")))
        if m.problems:  # the findings stay on what this message became
            at = min(first, len(out) - 1) if out else None
            if at is None:
                out.append(replace(m, content=""))
            else:
                out[at] = replace(out[at], problems=[*out[at].problems, *m.problems])
    if not found_any:  # the runtime appends threads the template never writes
        end = Span(len(doc.text), len(doc.text))
        for name in names:
            if kinds.get(name) == "thread":
                out.extend(_thread_messages(values.get(name), end))
    return out


def _thread_messages(value: Any, where: Span) -> list[Message]:
    out = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        content = item.get("content", "")
        if isinstance(content, list):
            content = "".join(str(p.get("value", p.get("text", ""))) for p in content if isinstance(p, dict) and p.get("kind", p.get("type", "text")) == "text")
        # The body is empty: the text comes from the input's value, not from the source at `where`.
        body = Span(where.end, where.end)
        out.append(Message(str(item.get("role", "user")), where, where, body, content if isinstance(content, str) else str(content)))
    return out


def _variable_span(text: str, within: Span, name: str) -> Span | None:
    m = re.search(r"\{\{-?\s*" + re.escape(name) + r"\b[^}]*\}\}", text[within.start : within.end])
    return Span(within.start + m.start(), within.start + m.end()) if m else None


def owner_of(messages: list[Message], offset: int) -> Message:
    """The message whose source holds `offset`: the last one starting at or before it (the first of those
    that share a start, as the messages one loop writes do)."""
    at = bisect_right([m.span.start for m in messages], offset) - 1
    if at < 0:
        return messages[0]
    while at > 0 and messages[at - 1].span.start == messages[at].span.start:
        at -= 1
    return messages[at]

def uses_mustache(template: Any) -> bool:
    if isinstance(template, dict):
        template = template.get("format") or template.get("type") or template.get("kind")
        if isinstance(template, dict):  # v2: template: {format: {kind: mustache}}
            template = template.get("kind")
    return isinstance(template, str) and template.lower() in ("mustache", "handlebars")


# A section longer than this renders piece by piece (see stretches): Jinja2 lexes a 150 kB section in tens
# of milliseconds, which a keystroke that merges two sections (`user:` -> `users:`) cannot afford.
PIECEWISE = 16 * 1024


def stretches(source: str) -> tuple[list[tuple[bool, str]], int | None]:
    """The section's text cut at line starts into (has a tag, text) runs: the lines that hold `{{ ... }}`,
    and the text between, which has no tag. In a simple body (no statement, comment or whitespace
    control) rendering the runs one by one and joining them is rendering the whole: Jinja2's lexer is in
    its data state at each cut when each tagged run renders on its own (a tag that really ends further on
    leaves its run unterminated, which fails). With a tag that is not closed, the runs before its line
    and where that line starts."""
    out: list[tuple[bool, str]] = []
    at = 0
    while True:
        tag = find_pair(source, "{{", at)
        if tag < 0:
            if at < len(source):
                out.append((False, source[at:]))
            return out, None
        line = source.rfind("\n", at, tag) + 1 or at
        if line > at:
            out.append((False, source[at:line]))
        end = line
        while tag >= 0 and (tag < end or end == line):
            close = find_pair(source, "}}", tag + 2)
            if close < 0:
                return out, line
            end = source.find("\n", close + 2)
            end = len(source) if end < 0 else end + 1
            tag = find_pair(source, "{{", close + 2, end)
        out.append((True, source[line:end]))
        at = end


# How far past a tag that does not compile its error is looked for, before the whole section is.
ERROR_WINDOW = 4096
_NEWLINES = re.compile(r"\r\n|\r|\n")
_UNEXPECTED_CHAR = re.compile(r"unexpected char (?P<char>.+) at (?P<pos>\d+)", re.DOTALL)


def window_error(source: str, at: int, parse: Callable[[str], Any]) -> Exception | None:
    """The syntax error Jinja2 gives for `source` when the tag on the line starting at `at` does not
    compile and every line before it does: found in the next few kB only, with the line numbers (and
    the offset in "unexpected char" messages) of the whole. None when that window cannot tell (the error
    may lie further on, or a string may end there): the caller compiles the whole."""
    end = source.find("\n", at + ERROR_WINDOW)
    window = source[at:] if end < 0 else source[at:end]
    prefix = source[:at]
    lines = prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") if "\r" in prefix else prefix.count("\n")
    failed = _window_parse(lines, window, parse)
    if failed is None:
        return None
    message, lineno, name, filename = failed
    found = _UNEXPECTED_CHAR.fullmatch(message or "")
    if end >= 0 and ("end of template" in str(message) or (found and found["char"] in ("'\"'", '"\'"'))):
        return None  # the window cut the tag or a string short
    if end >= 0 and lineno >= lines + 1 + window.count("\n"):
        return None  # on the window's last line: what follows may change it
    if found:  # an offset in the text Jinja2 lexes (its line breaks made \n)
        moved = len(prefix) - prefix.count("\r\n") - lines
        message = f"unexpected char {found['char']} at {int(found['pos']) + moved}"
    return jinja2.TemplateSyntaxError(message, lineno, name, filename)


@lru_cache(maxsize=8)
def _window_parse(lines: int, window: str, parse: Callable[[str], Any]) -> tuple[Any, int, Any, Any] | None:
    """The syntax error of a window (message, line, name, file), or None: rendering a section and finding
    its names both ask it of the same window on a keystroke, and a Jinja2 parse of it costs a millisecond."""
    try:
        parse("\n" * lines + window)
    except jinja2.TemplateSyntaxError as exc:
        return exc.message, exc.lineno, exc.name, exc.filename
    except Exception:  # noqa: BLE001 - any other failure: let the whole section say it
        return None
    return None
