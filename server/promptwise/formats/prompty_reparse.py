"""Re-parsing a Prompty file after an edit: only the message or the sections the edit touched are rendered
again, or, after an edit of the frontmatter, only the sections with a template; the same result as a parse."""

from __future__ import annotations

from dataclasses import replace

from ..text import Edit, Span
from .common import body_offset, edited_message, line_end
from .document import Message, PromptDocument
from .limits import LIMIT_EXCEEDED, Budget, limits_for
from .prompty import (
    _free_names,
    _literal,
    _options,
    _render_section,
    _report_undefined,
    _section_variables,
    parse_prompty,
)
from .prompty_layout import Layout, is_simple, layout_of, remember_simple, rich_inputs, sections_of, still_simple
from .prompty_split import source_role_lines
from .reasoning_settings import cache_breakpoints
from .tag_words import find_pair


def reparse_prompty(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit of the body, re-rendering only the message it is in, or (when it
    adds, removes or changes role lines) only the sections it touched.

    None when the edit may change more than that (the frontmatter, a body whose statements reach
    across role lines, a limit, a value that writes role lines): the caller parses the whole file
    instead. Same result as parse_prompty.
    """
    if old.frontmatter_span is not None and edit.old_end < body_offset(old) and not any(p.code == "invalid-frontmatter" for p in old.problems):
        return parse_prompty(old.path, text, old.max_bytes, previous=old)  # the frontmatter: the body moved, as it was
    doc = _reparse_message(old, text, edit)
    return doc if doc is not None else reparse_sections(old, text, edit)


def _reparse_message(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    where = edited_message(old, text, edit)
    if where is None:
        return None
    at, first, last_new = where
    message = old.messages[at]
    layout = layout_of(old, text, body_offset(old), with_roles=False)
    if not still_simple(old.text, text, layout.start, layout.is_mustache, edit) or rich_inputs(old.frontmatter) or any(p.code in (LIMIT_EXCEEDED, "template-error") for p in old.problems):
        return None  # which message stops at a limit, or writes a role line, depends on all of them
    if not (_literal(old, message, layout.style) and (at + 1 == len(old.messages) or _literal(old, old.messages[at + 1], layout.style))):
        return None  # the section also holds messages a value wrote
    if source_role_lines(text, first, last_new + 1, layout.style):
        return None  # a new role line splits the message
    if at == 0 and len(message.header) and message.header.start != layout.start:
        return None  # sections before it gave no message; their rendering cost and names are on this one
    delta = edit.delta
    body = Span(message.body.start, message.body.end + delta)
    if not len(message.header) and (body.start != layout.start or not text[body.start : body.end].strip()):
        return None  # where the implicit first message starts has changed, or it is gone
    doc = replace(old, text=text, messages=[], problems=[], _lines=None)
    from_messages = {id(p) for m in old.messages for p in m.problems}
    doc.problems = [p for p in old.problems if id(p) not in from_messages and p.code != "undefined-variable"]
    values = {k: v for k, (v, _) in old.samples.items()}
    before = old.messages[:at]
    budget = Budget(limits_for(old.max_bytes), sum(m.render_cost[0] for m in before), sum(m.render_cost[1] for m in before))
    touched: set[str] = set()
    section = (message.role, message.name, message.header, body)
    made, cost = _render_section(doc, text, layout, section, values, budget, touched)
    if len(made) != 1 or budget.stopped or made[0].problems or made[0].header != message.header:
        return None  # the edit made a value write a role line (the section's own text went empty): strict mode may object
    made[0].render_cost = cost
    after = old.messages[at + 1 :]
    if not budget.fits(sum(m.render_cost[0] for m in after), sum(m.render_cost[1] for m in after)):
        return None  # a later message would now stop at the limit
    doc.messages = [*before, made[0], *(m.shifted(delta) for m in after)]
    for m in doc.messages:
        doc.problems.extend(m.problems)
    source = text[body.start : body.end]
    _section_variables(doc, source, body.start, old.samples, touched, _free_names(source, layout))
    # A message that stopped at an error before reaching a name kept that name only if another used it.
    if any(m.problems and any(not v.defined for v in m.variables) for m in doc.messages):
        return None
    _report_undefined(doc)
    return doc


def reparse_sections(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit of a simple body that may add, remove or change role lines: the role
    lines of the edited lines found again, the sections they bound rendered again, every other section's
    message kept (moved). None when that may not be what a whole parse gives."""
    if old.frontmatter_span is None or any(p.code == "invalid-frontmatter" for p in old.problems):
        return None
    layout = layout_of(old, text, body_offset(old), with_roles=False)
    old_start = layout_of(old, old.text, body_offset(old), with_roles=False).start
    if edit.start <= old_start or layout.start != old_start or rich_inputs(old.frontmatter):
        return None  # where the body starts may move
    if not still_simple(old.text, text, layout.start, layout.is_mustache, edit):
        return None
    from_messages = {id(p) for m in old.messages for p in m.problems}
    if any(p.code == LIMIT_EXCEEDED or (p.code == "template-error" and id(p) not in from_messages) for p in old.problems):
        return None  # which message stops at a limit depends on all of them; strict mode's warning too
    roles = _literal_roles(old, old_start, layout.style)
    if roles is None:
        return None
    first = old.text.rfind("\n", 0, edit.start) + 1
    last_old = line_end(old.text, edit.old_end)
    delta = edit.delta
    found = source_role_lines(text, first, line_end(text, edit.new_end), layout.style)
    layout.roles = [r for r in roles if r[0] < first] + found + [(a + delta, b + delta, n, m) for a, b, n, m in roles if a > last_old]
    kept: dict[tuple[int, int, int], tuple[Message, int]] = {}  # by where the section is now: the message, its move
    for m in old.messages:
        if m.body.end <= edit.start:
            kept[(m.header.start, m.body.start, m.body.end)] = (m, 0)
        elif m.header.start >= edit.old_end:
            kept[(m.header.start + delta, m.body.start + delta, m.body.end + delta)] = (m, delta)
    doc = replace(old, text=text, messages=[], problems=[], _lines=None)
    doc.problems = [p for p in old.problems if id(p) not in from_messages and p.code != "undefined-variable"]
    values = {k: v for k, (v, _) in old.samples.items()}
    budget = Budget(limits_for(old.max_bytes))
    touched: set[str] = set()
    fresh: list[tuple[Message, tuple[str, str | None, Span, Span]]] = []
    reused: set[int] = set()
    for section in sections_of(layout, text):
        _, _, header, body = section
        known = kept.get((header.start, body.start, body.end))
        if known is not None:
            m, moved = known
            reused.add(id(m))
            doc.messages.append(m.shifted(moved) if moved else m)
            budget.output += m.render_cost[0]
            budget.steps += m.render_cost[1]
            continue
        made, cost = _render_section(doc, text, layout, section, values, budget, touched)
        if len(made) != 1 or budget.stopped or made[0].header != header or any(p.code == LIMIT_EXCEEDED for p in made[0].problems):
            return None  # a section the runtime drops, or one a value writes role lines into: parse it whole
        made[0].render_cost = cost
        doc.messages.append(made[0])
        fresh.append((made[0], section))
    if not budget.fits(0, 0):
        return None
    # Names with no value count only where some rendering used them: the ones the new sections used must
    # be the ones the sections they replace used, or a kept message's names could change too.
    unknown = {n for n in touched if n not in old.samples}
    if unknown != {v.name for m in old.messages if id(m) not in reused for v in m.variables if not v.defined}:
        return None
    used = touched | {v.name for m in old.messages if id(m) in reused for v in m.variables if not v.defined}
    for m in doc.messages:
        doc.problems.extend(m.problems)
    for _, (_, _, _, body) in fresh:
        source = text[body.start : body.end]
        _section_variables(doc, source, body.start, old.samples, used, _free_names(source, layout))
    if any(m.problems and any(not v.defined for v in m.variables) for m in doc.messages):
        return None
    _report_undefined(doc)
    doc.cache_breakpoints = cache_breakpoints(_options(old.frontmatter.get("model")), doc.messages)
    return doc


def _literal_roles(doc: PromptDocument, start: int, style: str) -> list[tuple[int, int, str, str | None]] | None:
    """The role lines of a body each of whose sections gave exactly its one message (from the messages,
    without scanning the text); None when a section gave none or a value wrote role lines."""
    roles = []
    expected = start
    for i, m in enumerate(doc.messages):
        if not _literal(doc, m, style) or m.body.start != m.header.end or (len(m.header) and m.header.start != expected):
            return None
        if not len(m.header) and (i or m.body.start != start):
            return None
        if len(m.header):
            roles.append((m.header.start, m.header.end, m.role, m.name))
        expected = m.body.end
    return roles if expected == len(doc.text) else None


def _known_body(doc: PromptDocument, text: str, body_start: int, old: PromptDocument) -> tuple[Layout, dict[tuple[int, int, int], Message]] | None:
    """The body's layout from the last parse, and its messages without a template (their text is what
    any values render), by where their section is now; None when the body changed or may split anew."""
    old_body = body_offset(old)
    delta = body_start - old_body
    if old.frontmatter_span is None or len(text) - body_start != len(old.text) - old_body or not text.endswith(old.text[-64:]):
        return None
    before = layout_of(old, old.text, old_body, with_roles=False)
    after = layout_of(doc, text, body_start, with_roles=False)
    if (before.style, before.is_mustache, before.start + delta) != (after.style, after.is_mustache, after.start):
        return None
    roles = _literal_roles(old, before.start, before.style)
    if roles is None:
        return None
    after.roles = [(a + delta, b + delta, role, name) for a, b, role, name in roles]
    after.simple = is_simple(old.text, before.start, before.is_mustache)  # the same text from there on
    remember_simple(text, after.start, after.is_mustache, after.simple)
    kept = {}
    for m in old.messages:
        if not m.problems and not m.variables and find_pair(old.text, "{{", m.body.start, m.body.end) < 0:
            moved = m.shifted(delta)
            kept[(moved.header.start, moved.body.start, moved.body.end)] = moved
    return after, kept
