"""Rendering a Dotprompt template with dotpromptz-handlebars, and splitting the output into messages.

The Handlebars semantics (standalone lines, `~`, `else if`, inverse sections, `@index`/`@key`, block
parameters, `items.[1]`, escapes, raw blocks, partial blocks and arguments) are the library's. What this
module adds is Dotprompt's own layer, small enough to keep instead of depending on `dotpromptz` and its
async stack: the seven helpers, and the marker splitting into messages and parts, as dotpromptz does
them. A render runs only after `dotprompt_bound` has shown that it fits the document's budget.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

from dotpromptz_handlebars import HelperOptions, Mustache, Partial, SafeString
from dotpromptz_handlebars import _render as handlebars
from dotpromptz_handlebars._render import compile_template, render_program  # the functions Handlebars.compile wraps

from .dotprompt_scan import BUILTIN_HELPERS, CACHED_SOURCE, TAG_KEY, Recent
from .limits import Budget, LimitExceeded, size_words
from .tag_words import split_words

# The library splits a tag into words a character at a time; a half-typed `{{` in a long file makes that one
# tag of up to the next `}}`. The same split, done by str.find and str.split (tests/engine/test_tag_words.py
# holds it to the library's own function), keeps such a keystroke fast.
LIBRARY_SPLIT = getattr(handlebars, "_args", None)
if LIBRARY_SPLIT is not None:
    handlebars._args = lambda text: split_words(text, split_when_unbalanced=False)

_ROLE_OR_HISTORY = re.compile(r"<<<dotprompt:(?:role:([a-z]+)|history)>>>")
_MEDIA_OR_SECTION = re.compile(r"<<<dotprompt:(media:url|section).*?>>>")
_ROLES = ("user", "model", "tool", "system")
_JSON_MAX_INDENT = 64


def compile_source(source: str) -> list[Any]:
    """The library's nodes for `source`; raises ValueError (or RecursionError) where the library does."""
    return _compile_short(source) if len(source) <= CACHED_SOURCE else _LONG_PROGRAMS.get(source, compile_template)


_LONG_PROGRAMS = Recent(2)  # see dotprompt_scan.Recent
_MARKER = re.compile(rf" {TAG_KEY}(?:=\d+)?")  # what rewrite() puts in a role tag, or its name alone
_QUOTED_MAX = 160  # a message quoting more of the template is cut in the middle


def library_message(exc: BaseException) -> str:
    """The library's error as the user wrote the template: without the marker the render put in a role
    tag, and short (a tag left open quotes the text up to the next tag, often a hundred kilobytes)."""
    message = _MARKER.sub("", str(exc))
    if len(message) > _QUOTED_MAX:
        half = _QUOTED_MAX // 2
        message = f"{message[:half]} … {message[-half:]}"
    return message


@lru_cache(maxsize=128)
def _compile_short(source: str) -> list[Any]:
    return compile_template(source)


def mark_node(kind: str, index: int, indent: int = 0) -> Mustache:
    """A node that prints a private marker: where a partial reference's output begins and ends."""
    call = {"name": "promptwise_mark", "args": [], "hash": {"kind": f'"{kind}"', "at": str(index), "indent": str(indent)}, "params": [], "literal": False}
    return Mustache(call, raw=True)


def wrapper(name: str, index: int, indent: int) -> list[Any]:
    """The partial registered for one reference (`name__promptwiseK`): the partial, between markers.
    `indent`: the reference's standalone indent, which the library also puts before the end marker's line."""
    return [mark_node("b", index), Partial(name, None, {}, ""), mark_node("e", index, indent)]


def indents(program: list[Any]) -> dict[str, int]:
    """The standalone indent of each partial reference in `program`, by the name it calls."""
    found: dict[str, int] = {}
    stack = list(program)
    while stack:
        node = stack.pop()
        if isinstance(node, Partial) and node.indent:
            found[node.name] = len(node.indent)
        for attr in ("body", "inverse"):
            stack.extend(getattr(node, attr, None) or [])
    return found


@dataclass
class Piece:
    """One message of the rendered output, as dotpromptz builds it."""

    role: str
    text: str = ""
    media: int = 0
    parts: int = 0
    origin: tuple[str, int] | None = None  # ("role", tag index) or ("partial", reference index); None: implicit
    source: bool = False  # has content, or only a role so far


@dataclass
class Rendered:
    messages: list[Piece] = field(default_factory=list)
    include_text: dict[int, str] = field(default_factory=dict)  # first output of each partial reference
    bad_roles: list[str] = field(default_factory=list)


def helpers(nonce: str, budget: Budget, unknown: set[str]) -> dict[str, Any]:
    def role(args: list[Any], options: HelperOptions) -> str:
        if not args:
            return ""
        at = options.hash.get(TAG_KEY)
        mark = f"\x00{nonce}r{at}\x00" if isinstance(at, int) else ""
        return SafeString(f"{mark}<<<dotprompt:role:{args[0]}>>>")

    def history(args: list[Any], options: HelperOptions) -> str:
        at = options.hash.get(TAG_KEY)
        mark = f"\x00{nonce}r{at}\x00" if isinstance(at, int) else ""
        return SafeString(f"{mark}<<<dotprompt:history>>>")

    def section(args: list[Any], options: HelperOptions) -> str:
        return SafeString(f"<<<dotprompt:section {args[0]}>>>") if args else ""

    def media(args: list[Any], options: HelperOptions) -> str:
        url, kind = options.hash_value("url"), options.hash_value("contentType")
        if not url:
            return ""
        return SafeString(f"<<<dotprompt:media:url {url} {kind}>>>" if kind else f"<<<dotprompt:media:url {url}>>>")

    def to_json(args: list[Any], options: HelperOptions) -> str:
        if not args:
            return ""
        indent = options.hash_value("indent") or 0
        try:
            indent = int(indent)
        except (TypeError, ValueError):
            indent = 0
        if indent > _JSON_MAX_INDENT:
            raise LimitExceeded(f"rendering stopped: json indent={indent} is over {_JSON_MAX_INDENT}")
        compact = json.dumps(args[0], separators=(",", ":"), default=str)
        if indent <= 0:
            text = compact
        else:
            # each value gets a line indented at most indent x depth: refuse before making it
            nodes, depth = _shape(args[0])
            if not budget.fits(len(compact) + nodes * (indent * depth + 4), 0):
                raise too_big(budget, f"{{{{json ... indent={indent}}}}}")
            text = json.dumps(args[0], indent=indent, default=str)
        budget.charge_output(len(text), "json")
        return SafeString(text)

    def equals(negate: bool):
        def helper(args: list[Any], options: HelperOptions) -> str:
            if len(args) < 2:
                return ""
            return options.fn() if (args[0] == args[1]) != negate else options.inverse()

        return helper

    def lookup(args: list[Any], options: HelperOptions) -> Any:
        collection, key = (list(args) + [None, None])[:2]
        if isinstance(collection, dict):
            return collection.get(key)
        if isinstance(collection, list):
            try:
                index = int(key)
            except (TypeError, ValueError, OverflowError):
                return None
            return collection[index] if 0 <= index < len(collection) else None
        return None

    def mark(args: list[Any], options: HelperOptions) -> str:
        return SafeString(f"\x00{nonce}{options.hash.get('kind')}{options.hash.get('at')}:{options.hash.get('indent')}\x00")

    def stand_in(args: list[Any], options: HelperOptions) -> str:
        # a helper the application registers: its output is unknown, a block's body is counted once
        return options.fn() if options.is_block else ""

    table: dict[str, Any] = {name: stand_in for name in unknown if name not in BUILTIN_HELPERS}
    table.update(
        role=role,
        history=history,
        section=section,
        media=media,
        json=to_json,
        ifEquals=equals(False),
        unlessEquals=equals(True),
        lookup=lookup,
        log=lambda args, options: "",  # Handlebars' log prints to stdout, which is the LSP's channel
        promptwise_mark=mark,
    )
    return table


def render(program: list[Any], data: dict[str, Any], partials: dict[str, Any], unknown: set[str], budget: Budget) -> Rendered:
    """The messages `program` renders to with `data` as its input (no @state/@auth: a file has none)."""
    nonce = secrets.token_hex(6)
    output = render_program(
        program, data, data={}, helpers=helpers(nonce, budget, unknown), partials=partials, escape_html=False, strict=False
    )
    return split(output, nonce)


_MARKER_TAIL = re.compile(r"([rbe])(\d+)(?::(\d+))?\x00")


def _markers(output: str, nonce: str) -> Iterator[tuple[int, re.Match[str]]]:
    """Where each of this render's markers starts, with the match of what follows its nonce: str.find
    for the nonce, since a pattern made with each render's nonce would be compiled again every time."""
    lead = "\x00" + nonce
    at = output.find(lead)
    while at >= 0:
        m = _MARKER_TAIL.match(output, at + len(lead))
        if m is None:
            at = output.find(lead, at + 1)
            continue
        yield at, m
        at = output.find(lead, m.end())


def split(output: str, nonce: str) -> Rendered:
    """dotpromptz's to_messages, keeping which tag produced each message and each partial's text."""
    clean: list[str] = []
    events: list[tuple[int, str, int]] = []  # (offset in the clean output, kind, index)
    pos = length = 0
    for start, m in _markers(output, nonce):
        chunk = output[pos:start]
        indent = int(m.group(3) or 0)
        if m.group(1) == "e" and indent:
            # the library indents every line of the partial's output, and the end marker makes one more
            before, back = chunk, len(clean)
            while len(before) <= indent and back:  # enough of the output to see its last line
                back -= 1
                before = clean[back] + before
            tail = before[-indent - 1 :] if len(before) > indent else "\n" + before
            if len(tail) == indent + 1 and tail[0] == "\n" and not tail[1:].strip(" \t"):
                drop = indent
                while drop and chunk:
                    chunk, drop = chunk[:-1], drop - 1
                while drop and clean:
                    trimmed = min(drop, len(clean[-1]))
                    clean[-1], drop = clean[-1][: len(clean[-1]) - trimmed], drop - trimmed
                    length -= trimmed
                    if not clean[-1]:
                        clean.pop()
        clean.append(chunk)
        length += len(chunk)
        events.append((length, m.group(1), int(m.group(2))))
        pos = m.end()
    clean.append(output[pos:])
    text = "".join(clean)

    result = Rendered()
    open_refs: list[tuple[int, int]] = []  # (reference, where its text starts)
    tag_at: dict[int, int] = {}
    for offset, kind, index in events:
        if kind == "r":
            tag_at[offset] = index
        elif kind == "b":
            open_refs.append((index, offset))
        elif open_refs:
            ref, began = open_refs.pop()
            if ref not in result.include_text:
                result.include_text[ref] = _without_markers(text[began:offset])
    # the partial references open at each offset, outermost first, for messages a partial produces
    spans = _ref_spans(events)

    current = Piece("user")
    pieces = [current]
    pos = 0
    for m in _ROLE_OR_HISTORY.finditer(text):
        _add(current, text[pos : m.start()])
        pos = m.end()
        origin = ("role", tag_at[m.start()]) if m.start() in tag_at else _outermost(spans, m.start())
        if m.group(1) is not None:
            role = m.group(1)
            if role not in _ROLES:
                result.bad_roles.append(role)
            if current.source:
                current = Piece(role, origin=origin)
                pieces.append(current)
            else:
                current.role, current.origin = role, origin
        else:
            current = Piece("model", origin=origin)  # history: the file has none; a model turn follows
            pieces.append(current)
    _add(current, text[pos:])
    result.messages = [p for p in pieces if p.source]
    return result


def _add(piece: Piece, chunk: str) -> None:
    """Text between role markers; whitespace-only chunks are dropped, as dotpromptz drops them."""
    if not chunk.strip():
        return
    piece.source = True
    pos = 0
    for m in _MEDIA_OR_SECTION.finditer(chunk):
        _add_text(piece, chunk[pos : m.start()])
        piece.parts += 1
        if m.group(1) == "media:url" and 2 <= len(m.group(0)[:-3].split(" ")) <= 3:
            piece.media += 1
        pos = m.end()
    _add_text(piece, chunk[pos:])


def _add_text(piece: Piece, chunk: str) -> None:
    if chunk.strip():
        piece.text += chunk


def _without_markers(text: str) -> str:
    return _MEDIA_OR_SECTION.sub("", _ROLE_OR_HISTORY.sub("", text))


def _ref_spans(events: list[tuple[int, str, int]]) -> list[tuple[int, int, int]]:
    """(start, end, reference) of every outermost partial output."""
    out: list[tuple[int, int, int]] = []
    depth = 0
    start = ref = 0
    for offset, kind, index in events:
        if kind == "b":
            if depth == 0:
                start, ref = offset, index
            depth += 1
        elif kind == "e" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, offset, ref))
    return out


def _outermost(spans: list[tuple[int, int, int]], offset: int) -> tuple[str, int] | None:
    for start, end, ref in spans:
        if start <= offset < end:
            return ("partial", ref)
    return None


def _shape(value: Any) -> tuple[int, int]:
    """How many values `value` holds, and how deep they nest."""
    nodes, deepest = 0, 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return nodes, deepest


def too_big(budget: Budget, what: str) -> LimitExceeded:
    return LimitExceeded(
        f"rendering stopped: {what} could make more than {size_words(budget.limits.output)} of output "
        "(the limit is max_file_size); the message is counted as written"
    )
