"""Re-parsing a Dotprompt file after an edit that may change its structure: the body is scanned again (cheap),
but only the sections between top-level role tags that the edit touched are rendered again; the others keep
their messages, moved. A frontmatter edit that leaves `input` alone keeps every message; one that changes it
re-renders only the sections with a tag. Same result as parse_dotprompt, or None (the caller parses it whole)."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import replace
from typing import Any, Callable

from ..text import Edit, Span
from .common import body_offset, message_span, rendered_copy
from .document import Message, PromptDocument, Severity
from .dotprompt import _RENDER_CODES, _as_written, _input_values, _owners, _report, _start, read_settings
from .dotprompt_render import compile_source, library_message, render
from .dotprompt_scan import BLOCK_KEYWORDS, BUILTIN_HELPERS, TAG_KEY, Scan, remember_scan, scan, scan_edited, scan_of
from .limits import LIMIT_EXCEEDED, OUTSIDE_WORKSPACE, Budget, limits_for
from .reasoning_settings import Options, cache_breakpoints

_SPACE = re.compile(r"\s*")
_LITERAL_ROLE = re.compile(r'role\s+"([a-z]+)"')  # the names the output's role markers can carry
_ROLES = {"user", "model", "system", "tool"}
# Helpers whose output or cost reaches across sections: loops, history, sections (partials are checked apart).
_UNSAFE_HELPERS = {"each", "history", "section"}
_OLD_UNSAFE = ("invalid-frontmatter", LIMIT_EXCEEDED, "include-cycle", "missing-include", OUTSIDE_WORKSPACE)


def reparse_structure(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit of the frontmatter or the body, rendering again only what it can change."""
    fm = old.frontmatter_span
    if fm is None or any(p.code in _OLD_UNSAFE for p in old.problems) or any(m.includes for m in old.messages):
        return None
    if edit.start > body_offset(old):
        return _body_edit(old, text, edit)
    if edit.old_end < fm.end - 4:
        return _frontmatter_edit(old, text, edit)
    return None


def _body_edit(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    ref, lo, hi = _reference(old, edit)
    if ref is None:
        return None
    doc = rendered_copy(replace(old, text=text, _lines=None), _RENDER_CODES)
    body_start = body_offset(old)
    template, base = _stripped(text, body_start)
    if base != _SPACE.match(ref.text, body_start).end() or lo < base:
        return None  # where the template starts moved
    moved = len(text) - len(ref.text)
    before = scan_of(old)  # the last version's scan: this edit is all that changed since
    if before is not None and edit.start > base:  # after where the template starts, in both versions
        found = scan_edited(template, before, edit.start - base, edit.old_end - base, edit.new_end - base)
    else:
        found = scan(template)
    remember_scan(doc, found)
    if found.error is not None:  # what a whole parse does: the error at its place, the text as written
        doc.problem("template-error", Severity.ERROR, f"Handlebars: {found.error}", found.error.span.shift(base))
        _as_written(doc, template, base, found)
        _remember(doc, ref, lo, hi)
        return _finish(doc)

    def old_at(offset: int) -> int | None:
        at = offset + base
        return at if at < lo else (at - moved if at >= hi else None)

    return _splice(ref, doc, template, base, found, old_at, lambda s, e: s <= hi - base and e >= lo - base, lambda d: _remember(d, ref, lo, hi))


# The last documents with a template error this module made, each with the last document without one and the
# range of its text edited since: everything outside that range is as it was in the good one.
_REFERENCES: dict[int, tuple[PromptDocument, PromptDocument, int, int]] = {}


def _remember(doc: PromptDocument, ref: PromptDocument, lo: int, hi: int) -> None:
    while len(_REFERENCES) >= 4:
        _REFERENCES.pop(next(iter(_REFERENCES)))
    _REFERENCES[id(doc)] = (doc, ref, lo, hi)


def _reference(old: PromptDocument, edit: Edit) -> tuple[PromptDocument | None, int, int]:
    """The document whose messages can be kept, and the range of the new text that differs from its text."""
    entry = _REFERENCES.get(id(old))
    if entry is not None and entry[0] is old:
        _, ref, lo, hi = entry
        return ref, min(lo, edit.start), max(edit.new_end, hi + edit.delta if hi >= edit.old_end else hi)
    if any(p.code == "template-error" and p.message.startswith("Handlebars:") for p in old.problems):
        return None, 0, 0  # its messages are the text as written, not what renders
    return old, edit.start, edit.new_end


def _frontmatter_edit(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    doc = _settings(old, text)
    if doc is None:
        return None
    delta = edit.delta
    body_start = body_offset(old) + delta
    if body_offset(doc) != body_start:
        return None  # the edit ends before the body: the body is the old one, moved
    before = scan_of(old)  # the body is the old one, moved: so is its template, and the scan of it
    if doc.frontmatter.get("input") == old.frontmatter.get("input"):
        doc.messages = [m.shifted(delta) for m in old.messages]
        doc.problems += [replace(p, span=p.span.shift(delta)) for p in old.problems if p.code in _RENDER_CODES]
        if before is not None:
            remember_scan(doc, before)
        return _finish(doc)
    if any(p.code == "template-error" for p in old.problems):
        return None
    template, base = _stripped(text, body_start, before.source if before is not None else None)
    found = before if before is not None and before.source is template else scan(template)
    if found.error is not None:
        return None
    remember_scan(doc, found)

    starts = [t.span.start for t in found.tags] if found.tags is not None else None

    def has_tags(start: int, end: int) -> bool:
        """Whether the section has a tag after its role tag, or a backslash (an escaped `{{` is no tag)."""
        tag_end = template.find("}}", start) + 2
        if starts is None:
            tagged = template.find("{{", tag_end, end) != -1
        else:  # in a template that scans, a `{{` not after a backslash is in a tag: the tags say so unread
            at = bisect_left(starts, tag_end)
            tagged = at < len(starts) and starts[at] < end
        return tagged or template.find("\\", tag_end, end) != -1

    return _splice(old, doc, template, base, found, lambda offset: offset + base - delta, has_tags)


def _settings(old: PromptDocument, text: str) -> PromptDocument | None:
    """The new document with its frontmatter read and no messages (parse_dotprompt up to the body)."""
    doc, _, _ = _start(old.path, text, old.max_bytes)
    if doc.frontmatter_span is None or any(p.code == "invalid-frontmatter" for p in doc.problems):
        return None
    read_settings(doc)
    return doc


def _stripped(text: str, body_start: int, unchanged: str | None = None) -> tuple[str, int]:
    """dotprompt._template for a document with a frontmatter, copying the long text once instead of thrice.
    `unchanged` is the last version's template, when the edit left the text from `body_start` on as it
    was: the same string, not a copy (a frontmatter value typed in a 1 MiB file)."""
    base = _SPACE.match(text, body_start).end()
    end = len(text)
    while end > base and text[end - 1].isspace():
        end -= 1
    if unchanged is not None and len(unchanged) == end - base:
        return unchanged, base
    return text[base:end], base


def _finish(doc: PromptDocument) -> PromptDocument:
    config = doc.frontmatter.get("config")
    doc.cache_breakpoints = cache_breakpoints([Options(config if isinstance(config, dict) else {}, "config")], doc.messages)
    return doc


def _role_name(found: Scan, index: int) -> str | None:
    named = _LITERAL_ROLE.fullmatch(found.roles[index].body)
    return named.group(1) if named else None


def _splice(
    old: PromptDocument,
    doc: PromptDocument,
    template: str,
    base: int,
    found: Scan,
    old_at: Callable[[int], int | None],
    dirty: Callable[[int, int], bool],
    remember: Callable[[PromptDocument], None] = lambda doc: None,
) -> PromptDocument | None:
    """Messages of the sections `dirty` says changed rendered again, the others' kept from `old`."""
    if found.partials or found.inline or found.helpers & _UNSAFE_HELPERS or len(found.top_level_roles) != len(found.roles) or not found.roles:
        return None
    if found.roles[0].span.start != 0:
        return None  # text before the first role tag: an implicit message
    limits = limits_for(doc.max_bytes)
    if 2 * len(template) + 4 * len(found.variables) * len(repr(doc.frontmatter.get("input"))) > limits.output or (len(template) // 5 * 4 > limits.iterations and found.opens * 4 > limits.iterations):
        return None  # near a limit, which section stops at it depends on all of them
    if not all(len(m.header) for m in old.messages):
        return None  # a message no role tag of the file started (a marker in the text, a value)
    by_header: dict[int, list[Message]] = {}
    for m in old.messages:
        by_header.setdefault(m.header.start, []).append(m)
    ends = [r.span.start for r in found.roles[1:]] + [len(template)]
    windows: list[list[int]] = []  # runs of sections rendered again: [first role index, last role index]
    kept: list[Message] = []
    kept_from: set[int] = set()  # the old messages kept
    for index, role in enumerate(found.roles):
        start, end = role.span.start, ends[index]
        if "~" in template[role.span.start : role.span.end]:
            return None  # whitespace control reaches into the section before
        was = old_at(start)
        was_end = old_at(end) if end < len(template) else None
        olds = by_header.get(was, []) if was is not None else []
        same_end = (was_end is not None and len(olds) == 1 and olds[0].body.end == was_end) or (
            end == len(template) and len(olds) == 1 and olds[0].body.end == len(old.text)
        )
        reach = end if end < len(template) else len(doc.text) - base  # the last one: its trailing space too
        if not dirty(start, reach) and len(olds) == 1 and same_end and olds[0].header.end == was + len(role.span) and _role_name(found, index) in _ROLES:
            moved = base + start - was
            kept_from.add(id(olds[0]))
            kept.append(replace(olds[0].shifted(moved), variables=[]) if moved else replace(olds[0], variables=[]))
            continue
        if windows and windows[-1][1] == index - 1:
            windows[-1][1] = index
        else:
            windows.append([index, index])
    if not windows:
        return None
    samples, optional = _input_values(doc.frontmatter.get("input"))
    unknown = set(found.helpers) - BUILTIN_HELPERS - BLOCK_KEYWORDS
    # One program for every window: each starts at a role tag outside any block, so they render apart.
    source = "".join(_marked(template, found, first, last, found.roles[first].span.start, ends[last]) for first, last in windows)
    try:
        program = compile_source(source)
    except RecursionError:
        return None
    except Exception as exc:  # noqa: BLE001 - the error a whole parse reports, as it does
        if len(windows) > 1:
            return None  # which window's error the library reports first is its business
        doc.problem("template-error", Severity.ERROR, f"Handlebars: {library_message(exc)}", Span(base, base))
        _as_written(doc, template, base, found)
        remember(doc)
        return _finish(doc)
    if any(_role_name(found, i) is None for first, last in windows for i in range(first, last + 1)):
        return None  # a role the output's markers do not name: its text joins the message before
    try:
        result = render(program, dict(samples), {}, unknown, Budget(limits))
    except Exception:  # noqa: BLE001 - a limit or the runtime's refusal: the whole parse says which
        return None
    bad = result.bad_roles
    pieces = result.messages
    if any(piece.origin is None or piece.origin[0] != "role" for piece in pieces):
        return None
    # The same text as a message it replaces: the very string, so that the analysis keeps its count.
    replaced = {m.content: m.content for m in old.messages if id(m) not in kept_from}
    made = []
    for piece in pieces:
        header = found.roles[piece.origin[1]].span.shift(base)
        content = replaced.get(piece.text, piece.text)
        made.append(Message(piece.role, header, header, Span(header.end, header.end), content, images=piece.media))
    messages = sorted(kept + made, key=lambda m: m.header.start)
    starts = [m.header.start for m in messages]
    if len(set(starts)) != len(starts):
        return None
    for i, m in enumerate(messages):
        end = starts[i + 1] if i + 1 < len(starts) else len(doc.text)
        body = Span(m.header.end, max(m.header.end, end))
        if body != m.body:
            messages[i] = replace(m, span=message_span(m.header.start, body.end), body=body)
    doc.messages = messages
    for name in bad[:1]:
        doc.problem("template-error", Severity.ERROR, f"role '{name}' is not a Dotprompt role (user, model, system or tool); the runtime refuses it", Span(base, base))
    _report(doc, found, base, [], samples, optional, _owners(doc.messages))
    return _finish(doc)


def _marked(template: str, found: Scan, first: int, last: int, start: int, end: int) -> str:
    """The sections from role tag `first` to `last`, each role tag carrying its index in the whole template
    (what `rewrite` gives the whole template)."""
    out: list[str] = []
    pos = start
    for index in range(first, last + 1):
        at = found.roles[index].inject_at
        out.append(template[pos:at])
        out.append(f" {TAG_KEY}={index} ")
        pos = at
    out.append(template[pos:end])
    return "".join(out)
