"""Where things are in a Dotprompt template: role tags, partial references and variables, with source spans.

The rendering itself is dotpromptz-handlebars' (Google's Handlebars port); this scanner reads the template
the way its tokenizer does (`\\{{` escapes, `{{{{raw}}}}` blocks, `{{!-- --}}` comments, triple braces,
`~`), so that every span points at the tag the library renders, and so that the template handed to the
library can carry a marker on each role tag and a per-reference name on each partial tag.
"""

from __future__ import annotations

import re
import threading
import weakref
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable, Iterator

from ..text import Span
from .tag_words import MARKS as _MARKS
from .tag_words import find_pair, split_words

# Helpers Dotprompt registers, plus the two Handlebars itself brings.
BUILTIN_HELPERS = frozenset({"role", "history", "media", "section", "json", "ifEquals", "unlessEquals", "lookup", "log"})
BLOCK_KEYWORDS = frozenset({"if", "unless", "each", "with"})
MAX_NESTING = 100  # the library refuses deeper templates (its max_depth)
TAG_KEY = "promptwise_tag"  # the hash argument that tells a role tag's marker where the tag is
PARTIAL_SUFFIX = "__promptwise"  # a partial reference renamed per reference: name__promptwise3


class ScanError(ValueError):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


@dataclass
class Tag:
    span: Span  # the whole tag in the template
    body: str  # between the braces, without `~`, stripped
    inject_at: int  # where a hash argument can be added (before `~}}` / `}}`)
    raw_block: bool = False


@dataclass
class PartialRef:
    name: str
    span: Span  # the tag
    name_span: Span
    block: bool = False  # {{#> name}}fallback{{/name}}
    close_name_span: Span | None = None


@dataclass
class VariableRef:
    path: str
    span: Span
    scoped: bool  # inside #each / #with / a section / a partial block: not read from the inputs directly
    guards: tuple[tuple[str, bool], ...] = ()  # (input path, whether it must be truthy) of each branch it is in


@dataclass
class Scan:
    roles: list[Tag] = field(default_factory=list)  # role and history tags, in source order
    top_level_roles: set[int] = field(default_factory=set)  # indexes of roles outside any block
    partials: list[PartialRef] = field(default_factory=list)
    variables: list[VariableRef] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # every helper name called (with arguments or as a block)
    inline: set[str] = field(default_factory=set)  # partials the template defines with {{#*inline "name"}}
    error: ScanError | None = None
    source: str = field(default="", repr=False)
    tags: list[Tag] | None = field(default=None, repr=False)  # every tag, when the template tokenizes

    @cached_property
    def opens(self) -> int:
        """How many times `{{` occurs in the source: a bound on what rendering it can cost."""
        return self.source.count("{{")


def bits(text: str) -> list[str]:
    """A tag's words: split on spaces outside quotes, parentheses and brackets."""
    if not any(ch in text for ch in "\"'(["):
        return text.split()
    return split_words(text, split_when_unbalanced=True)


def _tags(source: str) -> list[Tag]:
    """Every tag, in order, as the library's tokenizer finds them; raises ScanError where it would fail."""
    return list(_tags_from(source, 0))


def _tags_from(source: str, i: int) -> Iterator[Tag]:
    """The tags from offset `i` on, `i` being where one ends (or 0): what comes after depends on nothing before."""
    n = len(source)
    while i < n:
        start = find_pair(source, "{{", i)
        if start < 0:
            break
        slashes = 0
        while start - slashes - 1 >= i and source[start - slashes - 1] == "\\":
            slashes += 1
        if slashes == 1:  # \{{ is literal text
            i = start + 2
            continue
        if source.startswith("{{{{", start):
            opened = source.find("}}}}", start + 4)
            header = source[start + 4 : opened].strip() if opened >= 0 else ""
            if opened < 0:
                raise ScanError("this {{ is never closed with }}", Span(start, start + 2))
            if source.startswith("{{{{/", start) or not header:
                raise ScanError("a raw block {{{{name}}}} needs a name and cannot start with /", Span(start, opened + 4))
            close = "{{{{/" + header.split()[0] + "}}}}"
            closed = source.find(close, opened + 4)
            if closed < 0:
                raise ScanError(f"raw block {header.split()[0]} is never closed with {close}", Span(start, opened + 4))
            yield Tag(Span(start, closed + len(close)), "#" + header, opened, raw_block=True)
            i = closed + len(close)
            continue
        q = start + 2 + (source.startswith("~", start + 2))
        if source.startswith("!--", q):
            search = q + 3
            while True:
                mark = source.find("--", search)
                if mark < 0:
                    raise ScanError("this {{!-- comment is never closed with --}}", Span(start, q + 3))
                j = mark + 2 + (source.startswith("~", mark + 2))
                if source.startswith("}}", j):
                    yield Tag(Span(start, j + 2), "!", j)
                    i = j + 2
                    break
                search = mark + 1
            continue
        if source.startswith("{", q):  # {{{x}}} or {{~{x}~}}
            ends = [e for e in (source.find("}}}", q + 1), source.find("}~}}", q + 1)) if e >= 0]
            if not ends:
                raise ScanError("this {{{ is never closed with }}}", Span(start, q + 1))
            end = min(ends)
            stop = end + (4 if source.startswith("}~}}", end) else 3)
            yield Tag(Span(start, stop), "&" + source[q + 1 : end].strip(), end)
            i = stop
            continue
        end = find_pair(source, "}}", start + 2)
        if end < 0:
            raise ScanError("this {{ is never closed with }}", Span(start, start + 2))
        inner_end = end - 1 if end - 1 >= q and source[end - 1] == "~" else end
        yield Tag(Span(start, end + 2), source[q:inner_end].strip(), inner_end)
        i = end + 2


def _simple_path(word: str) -> bool:
    if not word or word[0] in "\"'(@.-0123456789" or word in ("true", "false", "this", "null", "undefined"):
        return False
    return not word.startswith(("this.", "this/", "../"))


@dataclass
class _Open:
    name: str
    tag: Tag
    scoped: bool
    guards: tuple[tuple[str, bool], ...]  # the branch being read
    tested: tuple[tuple[str, bool], ...] = ()  # an if-chain's earlier conditions, all false in later branches


def _condition(words: list[str], negate: bool) -> tuple[tuple[str, bool], ...] | None:
    """The guard of `{{#if path}}` / `{{#unless path}}`; None for a condition the scanner cannot read."""
    if len(words) == 2 and words[0] in ("if", "unless") and _simple_path(words[1]):
        return ((words[1], (words[0] == "if") != negate),)
    return None


def scan(source: str) -> Scan:
    """The template's role tags, partial references and variables, in source order."""
    return _scan_short(source) if len(source) <= CACHED_SOURCE else LONG_SCANS.get(source, _scan)


CACHED_SOURCE = 64 * 1024


class Recent:
    """The results for the last few long sources. Each version of a long file is megabytes, so only a few
    are kept (a frontmatter edit scans the same body again; a key typed and erased flips between two),
    and they are found by comparing, which stops at the first difference (a keystroke changes the
    length), not by hashing, which reads every character of a new version."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def get(self, source: str, make: Callable[[str], Any]) -> Any:
        with self._lock:
            for i, (known, result) in enumerate(self._items):
                if len(known) == len(source) and known == source:
                    self._items.append(self._items.pop(i))
                    return result
        result = make(source)
        with self._lock:
            self._items.append((source, result))
            del self._items[: -self.size]
        return result


LONG_SCANS = Recent(2)


@lru_cache(maxsize=64)
def _scan_short(source: str) -> Scan:
    return _scan(source)


def scan_edited(source: str, old: Scan, start: int, old_end: int, new_end: int) -> Scan:
    """scan(source), where `source` is `old.source` with [start, old_end) replaced by source[start:new_end]:
    the tags away from the edit are the old ones, moved, and only the text between them is read again
    (a keystroke in a long template, where reading every `{{` of it was the most of a re-scan)."""
    if len(source) <= CACHED_SOURCE or old.tags is None:
        return scan(source)
    found = LONG_SCANS.get(source, lambda text: _scan(text, _retokenized(text, old.tags, start, old_end, new_end)))
    if "opens" in old.__dict__ and "opens" not in found.__dict__:
        opens = _opens_edited(source, old, start, old_end, new_end)
        if opens is not None:
            found.__dict__["opens"] = opens  # the cached_property's value: counting `{{` read all of it
    return found


_BRACES_RUN = 64  # a longer run of `{` at the edit: count all of the new version instead


def _opens_edited(source: str, old: Scan, start: int, old_end: int, new_end: int) -> int | None:
    """old.opens with the edit's `{{` taken out and put in. str.count takes `{{` from left to right, so a
    run of `{` is counted as a whole: the counted stretch grows to the ends of the runs around the edit."""
    before = old.source
    lo = start
    while lo > 0 and before[lo - 1] == "{":
        lo -= 1
        if start - lo > _BRACES_RUN:
            return None
    old_hi = old_end
    while old_hi < len(before) and before[old_hi] == "{":
        old_hi += 1
        if old_hi - old_end > _BRACES_RUN:
            return None
    new_hi = new_end + (old_hi - old_end)
    return old.opens - before.count("{{", lo, old_hi) + source.count("{{", lo, new_hi)


# The template scan of the last few documents parsed, by document, for scan_edited on the next keystroke.
_BY_DOCUMENT: dict[int, tuple[weakref.ref, Scan]] = {}


def remember_scan(doc: Any, found: Scan) -> None:
    if len(found.source) <= CACHED_SOURCE:
        return
    with _LOCK:
        while len(_BY_DOCUMENT) >= 4:
            _BY_DOCUMENT.pop(next(iter(_BY_DOCUMENT)))
        _BY_DOCUMENT[id(doc)] = (weakref.ref(doc), found)


def scan_of(doc: Any) -> Scan | None:
    """The scan of `doc`'s template, if it is one of the last documents parsed (and a long one)."""
    entry = _BY_DOCUMENT.get(id(doc))
    return entry[1] if entry is not None and entry[0]() is doc else None


_LOCK = threading.Lock()
_NEAR = 4  # a tag this close to an edit is read again: its `}}` may have become `}}}` or `~}}`
ROLE_RUNS_ON = "this role name's quote is not closed before the next {{"


def _retokenized(source: str, old: list[Tag], start: int, old_end: int, new_end: int) -> Callable[[], list[Tag]]:
    def tokenize() -> list[Tag]:
        delta = new_end - old_end
        ends = [t.span.end for t in old]
        keep = bisect_right(ends, start - _NEAR)  # old[:keep] end well before the edit
        after = {t.span.end + delta: k for k, t in enumerate(old) if t.span.start >= old_end + _NEAR}
        out = old[:keep]
        for tag in _tags_from(source, old[keep - 1].span.end if keep else 0):
            out.append(tag)
            k = after.get(tag.span.end)
            if k is not None and tag.span.start >= new_end + _NEAR:
                # the same place after the edit: from here on the tokenizer reads what it read before
                out += [Tag(t.span.shift(delta), t.body, t.inject_at + delta, t.raw_block) for t in old[k + 1 :]]
                break
        return out

    return tokenize


def _scan(source: str, tokenize: Callable[[], list[Tag]] | None = None) -> Scan:
    result = Scan(source=source)
    try:
        tags = tokenize() if tokenize is not None else _tags(source)
    except ScanError as exc:
        result.error = exc
        return result
    result.tags = tags
    stack: list[_Open] = []
    for tag in tags:
        body = tag.body
        if body.startswith("!") or tag.raw_block:
            continue
        if find_pair(body, "{{") >= 0 and _runs_on(body):
            result.error = ScanError("this {{ is not closed before the next {{", Span(tag.span.start, tag.span.start + 2))
            return result
        if body.startswith("/"):
            words = body[1:].split(None, 1)  # the name only: a closing tag left open runs on for kilobytes
            name = words[0] if words else ""
            if not stack or stack[-1].name != name:
                opened = f"{{{{#{stack[-1].name}}}}}" if stack else "no open block"
                result.error = ScanError(f"{{{{/{name}}}}} does not close {opened}", tag.span)
                return result
            opened_tag = stack.pop().tag
            for ref in reversed(result.partials):
                if ref.block and ref.close_name_span is None and ref.name == name and ref.span.start == opened_tag.span.start:
                    name_at = tag.span.start + source[tag.span.start : tag.span.end].index(name)
                    ref.close_name_span = Span(name_at, name_at + len(name))
                    break
            continue
        if body == "else" or body.startswith("else "):
            if not stack:
                result.error = ScanError("{{else}} outside a block", tag.span)
                return result
            top = stack[-1]
            outer = stack[-2].guards if len(stack) > 1 else ()
            first = _condition(bits(top.tag.body[1:]), False) if top.tag.body.startswith("#") else None
            tested = top.tested or first or ()
            negated = tuple((path, not want) for path, want in tested)
            words = bits(body[5:])
            more = _condition(words, False) if words else ()
            top.guards = outer + negated + (more or ())
            top.tested = tested + (more or ())
            continue
        scoped = bool(stack) and stack[-1].scoped
        guards = stack[-1].guards if stack else ()
        if body.startswith(("#", "^")):
            partial_block = body.startswith("#>")
            words = bits(body[2:] if partial_block else body[1:].strip())
            if body.startswith("#*inline"):
                name, inner_scoped = "inline", True
                if len(words) > 1:
                    result.inline.add(words[1].strip("\"'"))
            elif partial_block:
                name, inner_scoped = (words[0] if words else ""), True
                _partial(result, source, tag, name, block=True)
            else:
                name = words[0] if words else ""
                called = len(words) > 1 or (name and name[0] in "\"'")
                if name in ("each", "with") or (not called and name not in BLOCK_KEYWORDS and name not in BUILTIN_HELPERS):
                    inner_scoped = True  # the body reads the item, not the inputs
                else:
                    inner_scoped = scoped
                if called and name not in BLOCK_KEYWORDS:
                    result.helpers.add(name)
                _subexpressions(result, words[1:])
            if len(stack) >= MAX_NESTING:
                result.error = ScanError(f"blocks are nested more than {MAX_NESTING} deep", tag.span)
                return result
            guard = None if partial_block else _condition(words, False)
            if body.startswith("^") and len(words) == 1 and _simple_path(words[0]):
                guard = ((words[0], False),)
            stack.append(_Open(name, tag, scoped or inner_scoped, guards + (guard or ()), guard or ()))
            continue
        if body.startswith(">"):
            words = bits(body[1:].strip())
            if words:
                _partial(result, source, tag, words[0], block=False)
            continue
        words = bits(body[1:].strip() if body.startswith("&") else body)
        if not words:
            continue
        name = words[0]
        _subexpressions(result, words[1:])
        if name == "role" and len(words) > 1 and words[1].startswith(("'", '"')) and "{{" in words[1]:
            # `{{role "us` typed before another tag: the quote closes in that tag, and a role name with a
            # `{{` in it is none the runtime takes. Said here, at the tag, for the library's message would
            # quote the text up to the next tag and point at the start of the body.
            result.error = ScanError(ROLE_RUNS_ON, Span(tag.span.start, tag.span.start + 2))
            return result
        if name in ("role", "history"):
            if not stack:
                result.top_level_roles.add(len(result.roles))
            result.roles.append(tag)
        if len(words) > 1:
            result.helpers.add(name)
        elif _simple_path(name) and name not in BUILTIN_HELPERS:
            result.variables.append(VariableRef(name, tag.span, scoped, guards))
    result.partials = [ref for ref in result.partials if ref.name not in result.inline]
    if stack:
        name, tag = stack[-1].name, stack[-1].tag
        result.error = ScanError(f"{{{{#{name}}}}} is never closed with {{{{/{name}}}}}", tag.span)
    return result


_WORD = re.compile(r"\S+")  # up to the next whitespace, as str.split() sees it


def _runs_on(body: str) -> bool:
    """Whether the library is sure to refuse this tag because one of its words holds the `{{` of another
    tag: a `{{` left open, as while one is typed, runs on to the next tag's `}}`. That word is then a
    path (no string, subexpression, hash argument or `[segment]` in it), and `{` is never part of a path.
    Saying so here puts the error where the tag opens, and spares the library a tag of thousands of words.

    Only the first `{{` is looked at, and only the quotes and brackets before it are read; anything
    less plain than a word of its own (in a string, in brackets, next to a quote) is left to the library."""
    if body.startswith(("/", "#*inline")) or body == "else" or body.startswith("else "):
        return False  # the library reads only the first word of these
    if body.startswith("&"):  # `{{& x}}`, or a triple `{{{x}}}`, whose inside the library reads as a tag's
        header = body[1:].strip()
        if header.startswith(("!", "/", "#", "^", ">", "*", "&", "else")):
            return False
    else:
        header = body[2:] if body.startswith("#>") else body[1:] if body.startswith(("#", "^", ">")) else body
    header = header.split(" as |", 1)[0].strip()
    at = find_pair(header, "{{")
    if at < 0:
        return False
    depth, pos, last_mark = 0, 0, -1
    while (mark := _MARKS.search(header, pos, at)) is not None:
        char = mark.group()
        if char in "\"'":
            close = header.find(char, mark.start() + 1)
            if close < 0 or close >= at:
                return False  # the {{ is inside a string
            pos = last_mark = close
        else:
            depth += 1 if char in "([" else -1
            pos = last_mark = mark.start()
        pos += 1
    if depth != 0:
        return False
    before = header[last_mark + 1 : at]
    if before and not before[-1].isspace():
        words = before.rsplit(None, 1)
        if len(words) == 1 and not before[0].isspace() and last_mark >= 0:
            return False  # the word starts at a quote or bracket
        before = words[-1]
    else:
        before = "" if before or last_mark < 0 else None
        if before is None:
            return False  # right after a quote or bracket
    word = before + _WORD.match(header, at).group()
    return "=" not in word and _MARKS.search(word) is None


def _subexpressions(result: Scan, words: list[str]) -> None:
    for word in [w for w in words if "(" in w]:  # a half-typed tag can have thousands of words
        value = word.split("=", 1)[1] if "=" in word and not word.startswith("(") else word
        if value.startswith("(") and value.endswith(")"):
            inner = bits(value[1:-1])
            if inner:
                result.helpers.add(inner[0])
                _subexpressions(result, inner[1:])


def _partial(result: Scan, source: str, tag: Tag, name: str, block: bool) -> None:
    if not name or name[0] in "(@\"'":
        return  # a computed name or @partial-block: nothing to read from a file
    at = tag.span.start + source[tag.span.start : tag.span.end].index(name, 2)
    result.partials.append(PartialRef(name, tag.span, Span(at, at + len(name)), block))


def rewrite(source: str, found: Scan) -> str:
    """The template the library renders: each role/history tag carries `promptwise_tag=N` (its index in
    `found.roles`) and each partial reference is renamed `name__promptwiseK` (K: its index in
    `found.partials`), so the output says which tag produced each message and each include's text."""
    edits: list[tuple[int, int, str]] = []
    for index, tag in enumerate(found.roles):
        edits.append((tag.inject_at, tag.inject_at, f" {TAG_KEY}={index} "))
    for index, ref in enumerate(found.partials):
        new = f"{ref.name}{PARTIAL_SUFFIX}{index}"
        edits.append((ref.name_span.start, ref.name_span.end, new))
        if ref.close_name_span is not None:
            edits.append((ref.close_name_span.start, ref.close_name_span.end, new))
    edits.sort()
    out: list[str] = []
    pos = 0
    for start, end, text in edits:
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)
