"""Prompty `.prompty` files (v1 and v2 frontmatter): the body is rendered, then split at role lines, as
Prompty's runtimes do it (see prompty_split), keeping the source span of every message."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from ..text import Span
from . import prompty_mustache as mustache
from . import prompty_render as engine
from .common import apply_settings, body_offset, first_int, message_span, read_include, rendered_copy, set_model, start_document
from .document import Finding, Format, Message, PromptDocument, Severity, Variable
from .frontmatter import load_data
from .limits import LIMIT_EXCEEDED, Budget, LimitExceeded, limits_for
from .prompty_layout import (
    MARK,
    PIECEWISE,
    THREAD,
    Layout,
    expand_rich,
    layout_of,
    map_pieces,
    message_of,
    owner_of,
    producer_of,
    sections_of,
    stretches,
    rich_inputs,
    unmark,
    window_error,
)
from .prompty_refs import resolve_references
from .prompty_split import V2, role_of_line, split
from .prompty_tools import prompty_tools
from .reasoning_settings import Options, cache_breakpoints, read_options
from .sandbox import template_line
from .schema import PromptyFrontmatter, validate_frontmatter
from .tag_words import find_pair

_VARIABLE = re.compile(r"\{\{-?\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_PROVIDERS = {"azure_openai": "azure", "azure": "azure", "openai": "openai", "serverless": None}


def parse_prompty(path: Path, text: str, max_bytes: int | None = None, previous: PromptDocument | None = None) -> PromptDocument:
    """`previous`: the parse of this text before an edit of its frontmatter alone (the body is the same
    text, moved), whose sections without a template are kept instead of found and rendered again."""
    doc, body_start, _ = start_document(path, text, Format.PROMPTY, None, max_bytes)
    if doc.frontmatter:
        doc.frontmatter = resolve_references(doc, doc.frontmatter)
        validated = validate_frontmatter(doc, PromptyFrontmatter)
        if validated is not None:
            apply_settings(doc, getattr(validated, "promptwise", None))
    data = doc.frontmatter
    _read_model(doc, data.get("model"))
    read_options(doc, _options(data.get("model")))
    doc.samples = _samples(doc, data)
    doc.tools, doc.uncounted_tools = prompty_tools(data)
    known = _known_body(doc, text, body_start, previous) if previous is not None else None
    _build_messages(doc, text, body_start, doc.samples, known)
    doc.cache_breakpoints = cache_breakpoints(_options(data.get("model")), doc.messages)
    return doc


def render_prompty(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed Prompty document rendered with `values` instead of its samples (declared defaults
    still apply). The frontmatter is not parsed again, so this is cheap enough to call once per eval case."""
    out = rendered_copy(doc, ("template-error", "undefined-variable", LIMIT_EXCEEDED))
    inputs = {"inputs": doc.frontmatter.get("inputs")}
    samples = {k: v for k, v in _samples(out, inputs).items() if v[1] == "default"}
    samples.update({str(k): (v, "value") for k, v in values.items()})
    out.samples = samples
    _build_messages(out, doc.text, body_offset(doc), samples)
    out.cache_breakpoints = cache_breakpoints(_options(doc.frontmatter.get("model")), out.messages)
    return out


def _strict(template: Any) -> bool:
    """Prompty 2's strict mode (on unless template.format.strict is false)."""
    fmt = template.get("format") if isinstance(template, dict) else None
    return not (isinstance(fmt, dict) and fmt.get("strict") is False)


def _read_model(doc: PromptDocument, model: Any) -> None:
    if isinstance(model, str):
        set_model(doc, model, "model")
        return
    if not isinstance(model, dict):
        return
    if model.get("id"):
        set_model(doc, model.get("id"), "model.id")
        doc.provider = doc.provider or _provider(model.get("provider"))
    configuration = model.get("configuration") or model.get("connection") or {}
    if isinstance(configuration, dict):
        for key in ("model", "name", "azure_deployment", "deployment"):
            if isinstance(configuration.get(key), str) and configuration[key]:
                prefix = "model.configuration" if "configuration" in model else "model.connection"
                set_model(doc, configuration[key], f"{prefix}.{key}")
                break
        doc.provider = doc.provider or _provider(configuration.get("type") or configuration.get("kind"))
    doc.max_output_tokens = first_int(model.get("parameters"), "max_tokens", "max_completion_tokens") or first_int(
        model.get("options"), "maxOutputTokens", "max_tokens", "maxTokens"
    )
    params = {**(model.get("parameters") or {}), **(model.get("options") or {})} if isinstance(
        model.get("parameters") or {}, dict
    ) and isinstance(model.get("options") or {}, dict) else {}
    fmt = params.get("response_format") or params.get("responseFormat")
    doc.uses_json_output = bool(fmt) and "json" in json.dumps(fmt, default=str)


def _options(model: Any) -> list[Options]:
    """The request options a Prompty file writes, in the order they win: `model.options` (v2), the
    `additionalProperties` v2 passes through as they are, `model.parameters` (v1)."""
    if not isinstance(model, dict):
        return []
    options = model.get("options")
    extra = options.get("additionalProperties") if isinstance(options, dict) else None
    return [
        Options(options, "model.options"),
        Options(extra, "model.options.additionalProperties"),
        Options(model.get("parameters"), "model.parameters"),
    ]


def _provider(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _PROVIDERS.get(value.lower(), value.lower())


def _samples(doc: PromptDocument, data: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Values to render with, each with where it came from: sample, example or default."""
    values: dict[str, tuple[Any, str]] = {}
    inputs = data.get("inputs")
    items: list[tuple[str, Any]] = []
    if isinstance(inputs, dict):
        items = list(inputs.items())
    elif isinstance(inputs, list):
        items = [(str(i.get("name")), i) for i in inputs if isinstance(i, dict) and i.get("name")]
    for name, spec in items:
        if isinstance(spec, dict):
            for source in ("sample", "example", "default"):
                if source in spec:
                    values[name] = (spec[source], source)
                    break
            else:
                if "examples" in spec and isinstance(spec["examples"], list) and spec["examples"]:
                    values[name] = (spec["examples"][0], "example")
        else:
            values[name] = (spec, "default")
    sample = data.get("sample")
    if isinstance(sample, str):
        sample = _sample_file(doc, sample)
    if isinstance(sample, dict):
        for name, value in sample.items():
            values[str(name)] = (value, "sample")
    return values


def _sample_file(doc: PromptDocument, ref: str) -> Any:
    """`sample: file.json` (Prompty 1 also takes a bare path there)."""
    name = ref.strip()
    if "\n" in name or not name:
        return None
    path = doc.path.parent / name
    limits = limits_for(doc.max_bytes)
    text, error, code = read_include(path, doc.path, limits)
    if text is None:
        doc.problem(code, Severity.ERROR, f"sample file: {error}", doc.key_span("sample"))
        return None
    data, error = load_data(text, limits, json_text=path.suffix == ".json")
    if error is not None:
        doc.problem("invalid-frontmatter", Severity.ERROR, f"sample file {path.name} is not valid: {error}", doc.key_span("sample"))
        return None
    return data


def _build_messages(
    doc: PromptDocument, text: str, body_start: int, samples: dict[str, tuple[Any, str]], known: tuple[Layout, dict] | None = None
) -> None:
    layout, kept = known if known is not None else (layout_of(doc, text, body_start), {})
    values = {k: v for k, (v, _) in samples.items()}
    threads = rich_inputs(doc.frontmatter) if layout.style == V2 else {}
    budget = Budget(limits_for(doc.max_bytes))
    touched: set[str] = set()
    if layout.simple and not threads:
        messages = _render_sections(doc, text, layout, values, budget, touched, kept)
    else:
        messages = _render_whole(doc, text, layout, values, threads, budget, touched)
    doc.messages.extend(messages)
    for m in messages:
        doc.problems.extend(m.problems)
    if layout.style == V2 and _strict(doc.frontmatter.get("template")):
        written = next((m for m in messages if m.header == m.body and len(m.header) and not _literal(doc, m, V2)), None)
        if written is not None:
            doc.problem(
                "template-error",
                Severity.WARNING,
                "Prompty 2 refuses a role line that the template writes (strict mode guards against prompt injection): "
                "use a `kind: thread` input for history, or set template.format.strict: false",
                written.header,
            )
    # A rich input with no sample still goes where it is written (a thread as no messages): worth a warning.
    empty = {name: kind for name, kind in threads.items() if (not isinstance(values.get(name), list) if kind == "thread" else values.get(name) is None)}
    _attach_variables(doc, text, layout, samples, touched | set(empty), kept if layout.simple and not threads else {})
    _report_undefined(doc, empty)


def _render_sections(
    doc: PromptDocument, text: str, layout: Layout, values: dict[str, Any], budget: Budget, touched: set[str], kept: dict | None = None
) -> list[Message]:
    """Each section rendered on its own (same result as the whole body when it is simple, and what is left
    to show when the whole body cannot render). `kept`: messages of sections without a template, by span."""
    messages: list[Message] = []
    carried = (0, 0)
    for section in sections_of(layout, text):
        known = kept.get((section[2].start, section[3].start, section[3].end)) if kept else None
        made, cost = ([known], (0, 0)) if known is not None else _render_section(doc, text, layout, section, values, budget, touched)
        cost = (cost[0] + carried[0], cost[1] + carried[1])
        if made:
            made[0].render_cost = cost
            carried = (0, 0)
        elif messages:  # a section the runtime drops: its rendering still used the budget
            last = messages[-1].render_cost
            messages[-1].render_cost = (last[0] + cost[0], last[1] + cost[1])
        else:
            carried = cost
        messages.extend(made)
    return messages


def _render_section(
    doc: PromptDocument,
    text: str,
    layout: Layout,
    section: tuple[str, str | None, Span, Span],
    values: dict[str, Any],
    budget: Budget,
    touched: set[str],
) -> tuple[list[Message], tuple[int, int]]:
    role, name, header, body = section
    source = text[body.start : body.end]
    used = (budget.output, budget.steps)
    problems: list[Finding] = []
    rendered = source
    if not budget.stopped:  # after a limit was hit (and reported once), the rest is counted as written
        try:
            rendered = _render_text(source, values, budget, layout, touched)
        except Exception as exc:  # noqa: BLE001 - every failure of a template is a finding, never a crash
            problems.append(_template_problem(exc, source, body.start, header, budget))
    head = text[header.start : header.end]
    pieces = split(head + rendered, layout.style)
    messages = []
    for piece in pieces:
        if piece.header == (0, len(head)) and len(header):
            messages.append(message_of(piece, header, body, problems))
        elif piece.header is None and not len(header):
            messages.append(message_of(piece, header, body, problems))
        else:  # a role line a value wrote
            where = producer_of(text, body) or body
            messages.append(message_of(piece, where, where, []))
    if problems and not messages:  # keep the finding attached to a message
        messages.append(Message(role, message_span(header.start, body.end), header, body, source.strip(), name=name, problems=problems))
    return messages, (budget.output - used[0], budget.steps - used[1])


def _render_text(source: str, values: dict[str, Any], budget: Budget, layout: Layout, touched: set[str]) -> str:
    """One section's text rendered: a long one of a simple Jinja2 body run by run (see `stretches`), so
    that only its few tagged lines go through Jinja2. A run that does not compile gives the error the
    whole would give (`window_error`); anything else a run cannot do alone, the whole section does."""
    if not (layout.simple and not layout.is_mustache and len(source) > PIECEWISE) or find_pair(source, "{{") < 0:
        return engine.render(source, values, budget, layout.is_mustache, touched)
    runs, unclosed = stretches(source)
    before = (budget.output, budget.steps)
    seen = set(touched)
    out: list[str] = []
    at = 0
    try:
        for tagged, run in runs:
            if tagged:
                try:
                    engine.compile_jinja(run)
                except jinja2.TemplateSyntaxError:
                    unclosed = at
                    break
                out.append(engine.render(run, values, budget, False, touched))
            else:
                budget.charge_output(len(run) - run.count("\r\n") if "\r" in run else len(run))
                out.append(_jinja_newlines(run))
            at += len(run)
    except Exception:  # noqa: BLE001 - the whole section says what is wrong, and where
        unclosed = -1
    if unclosed is not None:
        budget.output, budget.steps = before  # a template that does not compile renders nothing
        touched.intersection_update(seen)
        error = window_error(source, unclosed, engine.ENV.parse) if unclosed >= 0 else None
        if error is not None:
            raise error
        return engine.render(source, values, budget, False, touched)
    return "".join(out)


def _jinja_newlines(text: str) -> str:
    """Line breaks as Jinja2's lexer writes them in its output."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _template_problem(exc: BaseException, source: str, at: int, fallback: Span, budget: Budget) -> Finding:
    if isinstance(exc, LimitExceeded):
        budget.stopped = True
        return Finding(LIMIT_EXCEEDED, Severity.ERROR, str(exc), _error_span(source, at, exc, fallback))
    if isinstance(exc, SecurityError):
        message = f"Jinja2: blocked: {exc}; a prompt template may only read its sample values"
        return Finding("template-error", Severity.ERROR, message, _error_span(source, at, exc, fallback))
    if isinstance(exc, mustache.MustacheError):
        return Finding("template-error", Severity.ERROR, f"Mustache: {exc}", exc.span.shift(at))
    if isinstance(exc, jinja2.TemplateSyntaxError):
        start = at + _line_offset(source, exc.lineno)
        return Finding("template-error", Severity.ERROR, f"Jinja2: {exc.message}", Span(start, start))
    engine_name = "Mustache" if isinstance(exc, mustache.MustacheError) else "Jinja2"
    return Finding("template-error", Severity.ERROR, f"{engine_name} could not render this message: {exc}", _error_span(source, at, exc, fallback))


def _render_whole(
    doc: PromptDocument,
    text: str,
    layout: Layout,
    values: dict[str, Any],
    threads: dict[str, str],
    budget: Budget,
    touched: set[str],
) -> list[Message]:
    """The whole body rendered at once, as the runtimes render it, then split at the role lines of the output."""
    start = layout.start
    parts: list[str] = []
    at = start
    size = 0
    moved: list[tuple[int, int]] = [(0, 0)]  # (offset in the marked body, shift back to the source's)
    for i, (a, b, _, _) in enumerate(layout.roles):
        parts.append(text[at:a])
        mark = MARK.format(i)
        parts.append(mark)
        size += a - at + len(mark)
        moved.append((size, b - start - size))
        at = b
    parts.append(text[at:])
    marked = "".join(parts)
    names = sorted(threads)
    render_values = dict(values)
    for j, name in enumerate(names):
        render_values[name] = THREAD.format(j)
    try:
        out = engine.render(marked, render_values, budget, layout.is_mustache, touched)
    except Exception as exc:  # noqa: BLE001 - the runtime would fail on the whole body: one finding
        if isinstance(exc, mustache.MustacheError):  # its span is in the marked body
            shift = lambda o: o + next(d for m, d in reversed(moved) if m <= o)  # noqa: E731
            exc.span = Span(shift(exc.span.start), shift(exc.span.end))
        problem = _template_problem(exc, text[start:], start, Span(start, start), budget)
        # What is left to show: each section rendered alone (counted as written after a limit).
        messages = _render_sections(doc, text, layout, values, budget if budget.stopped else Budget(budget.limits), touched)
        for m in messages:
            m.problems = []
        if not messages:
            body = Span(start, len(text))
            messages.append(Message("system", body, Span(start, start), body, text[start:].strip()))
        owner_of(messages, problem.span.start).problems.append(problem)
        return messages
    rendered, marks = unmark(out, text, layout)
    pieces = split(rendered, layout.style)
    messages = map_pieces(text, layout, pieces, marks)
    if threads:
        messages = expand_rich(doc, messages, names, threads, values)
    if messages:
        messages[0].render_cost = (budget.output, budget.steps)
    return messages


def _attach_variables(
    doc: PromptDocument, text: str, layout: Layout, samples: dict[str, tuple[Any, str]], touched: set[str], kept: dict | None = None
) -> None:
    """Each template variable of the body, with its sample value, on the message whose source holds it.
    One without a value counts only when the rendering used it (not in a branch that is not rendered)."""
    if not doc.messages:
        return
    # A body with statements is one template (a loop may cross role lines): its names are the whole body's.
    whole = None if layout.simple else _free_names(text[layout.start :], layout)
    for section in sections_of(layout, text):
        body = section[3]
        if kept and (section[2].start, body.start, body.end) in kept:
            continue  # no template, no names
        source = text[body.start : body.end]
        _section_variables(doc, source, body.start, samples, touched, _free_names(source, layout) if whole is None else whole)


def _free_names(source: str, layout: Layout) -> frozenset[str]:
    if layout.simple and not layout.is_mustache and len(source) > PIECEWISE and find_pair(source, "{{") >= 0:
        runs, unclosed = stretches(source)  # no statement: the names of the whole are those of its tagged runs
        try:
            if unclosed is None:
                return frozenset().union(*(engine.undeclared(run) for tagged, run in runs if tagged))
        except jinja2.TemplateSyntaxError:
            pass
        broken = _first_broken(runs)
        at = broken if broken is not None else unclosed
        if at is not None and window_error(source, at, engine.ENV.parse) is not None:
            return frozenset()  # the whole does not parse either
    try:
        return engine.mustache_names(source) if layout.is_mustache else engine.undeclared(source)
    except Exception:  # a syntax error (reported while rendering) or nesting too deep for the parser
        return frozenset()


def _first_broken(runs: list[tuple[bool, str]]) -> int | None:
    """Where the first tagged run that does not parse starts."""
    at = 0
    for tagged, run in runs:
        if tagged:
            try:
                engine.undeclared(run)
            except jinja2.TemplateSyntaxError:
                return at
        at += len(run)
    return None


def _section_variables(
    doc: PromptDocument, source: str, at: int, samples: dict[str, tuple[Any, str]], touched: set[str], free: frozenset[str]
) -> None:
    for match in _VARIABLE.finditer(source):
        var = match.group("name")
        if var not in free:
            continue
        value, origin = samples.get(var, (None, None))
        if origin is None and var not in touched:
            continue  # in a branch or loop the rendering never reached
        span = Span(at + match.start("name"), at + match.end("name"))
        owner_of(doc.messages, span.start).variables.append(Variable(var, span, value, origin))


def _report_undefined(doc: PromptDocument, rich: dict[str, str] | None = None) -> None:
    reported: set[str] = set()
    for var in doc.variables:
        if not var.defined and var.name not in reported:
            reported.add(var.name)
            kind = (rich or {}).get(var.name)
            if kind == "thread":
                message = f"'{var.name}' (kind: thread) has no sample messages; no history is counted"
            elif kind is not None:
                message = f"'{var.name}' (kind: {kind}) has no sample; it is sent as an empty {kind} part"
            else:
                message = f"'{var.name}' has no sample, example or default value; it renders empty, as at run time, so what the caller passes there is not counted"
            doc.problem("undefined-variable", Severity.WARNING, message, var.span)


def _literal(doc: PromptDocument, message: Message, style: str) -> bool:
    """Whether a message comes from a role line of the source (or is the implicit first one)."""
    if not len(message.header):
        return True
    return role_of_line(doc.text[message.header.start : message.header.end], style) is not None


def _error_span(source: str, at: int, exc: BaseException, fallback: Span) -> Span:
    """The template line an error was raised on, else `fallback` (the role line)."""
    line = template_line(exc)
    if line is None:
        return fallback
    start = _line_offset(source, line)
    end = source.find("\n", start)
    return Span(at + start, at + (len(source) if end == -1 else end))


def _line_offset(source: str, lineno: int | None) -> int:
    offset = 0
    for _ in range(max(0, (lineno or 1) - 1)):
        nxt = source.find("\n", offset)
        if nxt == -1:
            break
        offset = nxt + 1
    return offset


from .prompty_reparse import _known_body, reparse_prompty  # noqa: E402  (they use the rendering above)
