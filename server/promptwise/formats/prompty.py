"""Prompty `.prompty` files (v1 and v2 frontmatter): role lines and a Jinja2 body rendered with samples."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.exceptions import SecurityError

from ..text import Edit, Span
from . import handlebars as hb
from .common import body_offset, edited_message, first_int, message_span, read_include, rendered_copy, set_model, start_document
from .document import Finding, Format, Message, PromptDocument, Severity, Variable
from .frontmatter import load_data
from .limits import LIMIT_EXCEEDED, Budget, LimitExceeded, limits_for
from .sandbox import PromptSandbox, render_within, template_line
from .schema import PromptyFrontmatter

# Prompty's role boundary: a line holding only a role name and a colon, optionally `role[name=x]:`.
# (`[ \t]*(?:#[ \t]*)?`, not `[ \t]*#?[ \t]*`: two adjacent runs of spaces backtrack quadratically.)
_ROLE_LINE = re.compile(
    r"^[ \t]*(?:#[ \t]*)?(?P<role>system|user|assistant|developer|function|tool)"
    r"(?:\[(?P<attrs>[^\]\n]*)\])?[ \t]*:[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_VARIABLE = re.compile(r"\{\{-?\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_TEMPLATE_MARK = re.compile(r"\{\{|\{%|\{#")
_PROVIDERS = {"azure_openai": "azure", "azure": "azure", "openai": "openai", "serverless": None}


def parse_prompty(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc, body_start, fm = start_document(path, text, Format.PROMPTY, PromptyFrontmatter, max_bytes)
    data = doc.frontmatter
    _read_model(doc, data.get("model"))
    samples = _samples(doc, data)
    doc.tools = _tools(data.get("tools"))
    doc.samples = samples
    _build_messages(doc, text, body_start, samples, _is_mustache(data.get("template")))
    return doc


def render_prompty(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed Prompty document rendered with `values` instead of its samples (declared defaults
    still apply). The frontmatter is not parsed again, so this is cheap enough to call once per eval case."""
    out = rendered_copy(doc, ("template-error", "undefined-variable", LIMIT_EXCEEDED))
    inputs = {"inputs": doc.frontmatter.get("inputs")}
    samples = {k: v for k, v in _samples(out, inputs).items() if v[1] == "default"}
    samples.update({str(k): (v, "value") for k, v in values.items()})
    out.samples = samples
    _build_messages(out, doc.text, body_offset(doc), samples, _is_mustache(doc.frontmatter.get("template")))
    return out


def _is_mustache(template: Any) -> bool:
    if isinstance(template, dict):
        template = template.get("format") or template.get("type") or template.get("kind")
    return isinstance(template, str) and template.lower() in ("mustache", "handlebars")


def _render_mustache(source: str, values: dict[str, Any], budget: Budget) -> str:
    if "{{" not in source:
        return source
    nodes = hb.parse(source)
    ctx = hb.RenderContext(
        helpers={}, partial=lambda node, scope: "", missing=lambda node: source[node.span.start : node.span.end], budget=budget
    )
    return hb.render(nodes, [values], ctx)


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
            if configuration.get(key):
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
    doc.uses_json_output = bool(fmt) and "json" in json.dumps(fmt)
    doc.uses_reasoning = any(k in params for k in ("reasoning_effort", "reasoningEffort", "reasoning"))


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
    name = ref[len("${file:") : -1] if ref.startswith("${file:") and ref.endswith("}") else ref
    if "\n" in name or not name.strip():
        return None
    path = doc.path.parent / name.strip()
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


def _tools(tools: Any) -> list[dict[str, Any]]:
    """Tool definitions as OpenAI function specs, whichever Prompty shape they are written in."""
    found: list[dict[str, Any]] = []
    if not isinstance(tools, list):
        return found
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        params = function.get("parameters")
        if isinstance(params, list):
            # Prompty v2 lists properties; convert them to a JSON Schema object.
            props = {
                str(p.get("name")): {
                    k: v for k, v in (("type", p.get("kind") or p.get("type")), ("description", p.get("description")), ("enum", p.get("enum"))) if v
                }
                for p in params
                if isinstance(p, dict) and p.get("name")
            }
            params = {"type": "object", "properties": props}
        found.append(
            {
                "type": "function",
                "function": {
                    "name": str(function.get("name", "")),
                    "description": function.get("description") or "",
                    "parameters": params if isinstance(params, dict) else {"type": "object", "properties": {}},
                },
            }
        )
    return found


class _Recording(jinja2.Undefined):
    """An undefined variable renders as it is written, so its placeholder still counts."""

    def __str__(self) -> str:
        return "{{" + (self._undefined_name or "") + "}}"

    def __iter__(self):
        return iter(())

    def __bool__(self) -> bool:
        return False


# Sandboxed: a template is data and may only read its sample values, within the document's budget.
_ENV = PromptSandbox(_Recording)


# An editor sends a new version of the edited section on every keystroke: caching every version (even of
# sections without a template) kept ~100 MB of dead keys after a few hundred keystrokes in a 1 MiB file.
_CACHED_SOURCE = 64 * 1024


def _compile(source: str) -> jinja2.Template:
    return _compile_cached(source) if len(source) <= _CACHED_SOURCE else _ENV.from_string(source)


@lru_cache(maxsize=64)
def _compile_cached(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def _undeclared(source: str) -> frozenset[str]:
    if not _TEMPLATE_MARK.search(source):
        return frozenset()
    return _undeclared_cached(source) if len(source) <= _CACHED_SOURCE else _find_undeclared(source)


@lru_cache(maxsize=64)
def _undeclared_cached(source: str) -> frozenset[str]:
    return _find_undeclared(source)


def _find_undeclared(source: str) -> frozenset[str]:
    return frozenset(jinja2.meta.find_undeclared_variables(_ENV.parse(source)))


def _render(source: str, values: dict[str, Any], budget: Budget) -> str:
    if not _TEMPLATE_MARK.search(source):
        return source
    return render_within(_compile(source), values, budget)


# Every role line ends in a colon; finding those first (a fast literal search) and matching _ROLE_LINE
# only there gives the same matches as _ROLE_LINE.finditer, several times faster on long files.
_LINE_END_COLON = re.compile(r":[ \t]*\r?$", re.MULTILINE)


def _role_lines(text: str, start: int, end: int | None = None) -> list[re.Match[str]]:
    found = []
    match = _ROLE_LINE.match
    for colon in _LINE_END_COLON.finditer(text, start, len(text) if end is None else end):
        line = text.rfind("\n", 0, colon.start()) + 1
        if line >= start:
            header = match(text, line)
            if header is not None:
                found.append(header)
    return found


def _build_messages(
    doc: PromptDocument, text: str, body_start: int, samples: dict[str, tuple[Any, str]], mustache: bool = False
) -> None:
    values = {k: v for k, (v, _) in samples.items()}
    budget = Budget(limits_for(doc.max_bytes))
    for section in _sections(text, body_start):
        doc.messages.append(_build_message(doc, text, section, samples, values, mustache, budget))
    _report_undefined(doc)


def _sections(text: str, body_start: int) -> list[tuple[str, str | None, Span, Span]]:
    """(role, name, header, body) of each message: an implicit system message before the first role line
    when there is text there, then one per role line."""
    headers = _role_lines(text, body_start)
    sections: list[tuple[str, str | None, Span, Span]] = []
    if not headers or text[body_start : headers[0].start()].strip():
        first_end = headers[0].start() if headers else len(text)
        sections.append(("system", None, Span(body_start, body_start), Span(body_start, first_end)))
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        name = _name_attr(match.group("attrs"))
        sections.append((match.group("role").lower(), name, Span(match.start(), match.end()), Span(match.end(), end)))
    return sections


def _build_message(
    doc: PromptDocument,
    text: str,
    section: tuple[str, str | None, Span, Span],
    samples: dict[str, tuple[Any, str]],
    values: dict[str, Any],
    mustache: bool,
    budget: Budget,
) -> Message:
    role, name, header, body = section
    source = text[body.start : body.end]
    problems: list[Finding] = []
    used = (budget.output, budget.steps)
    try:
        if budget.stopped:  # reported once, on the message that hit the limit
            content = source.strip()
        else:
            content = (_render_mustache if mustache else _render)(source, values, budget).strip()
    except LimitExceeded as exc:
        budget.stopped = True
        problems.append(Finding(LIMIT_EXCEEDED, Severity.ERROR, str(exc), _error_span(source, body, exc, header)))
        content = source.strip()
    except SecurityError as exc:
        message = f"Jinja2: blocked: {exc}; a prompt template may only read its sample values"
        problems.append(Finding("template-error", Severity.ERROR, message, _error_span(source, body, exc, header)))
        content = source.strip()
    except hb.TemplateError as exc:
        problems.append(Finding("template-error", Severity.ERROR, f"Mustache: {exc}", exc.span.shift(body.start)))
        content = source.strip()
    except jinja2.TemplateSyntaxError as exc:
        at = body.start + _line_offset(source, exc.lineno)
        problems.append(Finding("template-error", Severity.ERROR, f"Jinja2: {exc.message}", Span(at, at)))
        content = source.strip()
    except Exception as exc:  # a template can raise anything while rendering sample values
        message = f"Jinja2 could not render this message: {exc}"
        problems.append(Finding("template-error", Severity.ERROR, message, _error_span(source, body, exc, header)))
        content = source.strip()
    message = Message(role, message_span(header.start, body.end), header, body, content, name=name, problems=problems)
    message.render_cost = (budget.output - used[0], budget.steps - used[1])
    doc.problems.extend(problems)
    message.images = source.count("![") if role == "user" else 0
    try:
        free = frozenset(_VARIABLE.findall(source)) if mustache else _undeclared(source)
    except Exception:  # a syntax error (reported above) or nesting too deep for the parser
        free = frozenset()
    for match in _VARIABLE.finditer(source):
        var = match.group("name")
        if var not in free:
            continue
        value, origin = samples.get(var, (None, None))
        span = Span(body.start + match.start("name"), body.start + match.end("name"))
        message.variables.append(Variable(var, span, value, origin))
    return message


def _report_undefined(doc: PromptDocument) -> None:
    reported: set[str] = set()
    for var in doc.variables:
        if not var.defined and var.name not in reported:
            reported.add(var.name)
            doc.problem(
                "undefined-variable",
                Severity.WARNING,
                f"'{var.name}' has no sample, example or default value; it is counted as the literal placeholder",
                var.span,
            )


def reparse_prompty(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit inside one message's body, re-rendering only that message.

    None when the edit may change more than that message (the frontmatter, a role line, where a
    message starts or ends): the caller parses the whole file instead. Same result as parse_prompty.
    """
    where = edited_message(old, text, edit)
    if where is None:
        return None
    at, first, last_new = where
    message = old.messages[at]
    if _role_lines(text, first, last_new):
        return None  # a new role line splits the message
    delta = edit.delta
    body = Span(message.body.start, message.body.end + delta)
    if not len(message.header) and not text[body.start : body.end].strip():
        return None  # the implicit first message is gone
    if any(p.code == LIMIT_EXCEEDED for p in old.problems):
        return None  # which message stops depends on all of them
    doc = replace(old, text=text, messages=[], problems=[], _lines=None)
    from_messages = {id(p) for m in old.messages for p in m.problems}
    doc.problems = [p for p in old.problems if id(p) not in from_messages and p.code != "undefined-variable"]
    values = {k: v for k, (v, _) in old.samples.items()}
    mustache = _is_mustache(old.frontmatter.get("template"))
    # The document's budget as a fresh parse would have it when it reaches this message.
    before = old.messages[:at]
    budget = Budget(limits_for(old.max_bytes), sum(m.render_cost[0] for m in before), sum(m.render_cost[1] for m in before))
    for i, m in enumerate(old.messages):
        if i < at:
            doc.messages.append(m)
            doc.problems.extend(m.problems)
        elif i == at:
            section = (m.role, m.name, m.header, body)
            doc.messages.append(_build_message(doc, text, section, old.samples, values, mustache, budget))
            if budget.stopped:
                return None
        else:
            moved = m.shifted(delta)
            doc.messages.append(moved)
            doc.problems.extend(moved.problems)
    after = old.messages[at + 1 :]
    if not budget.fits(sum(m.render_cost[0] for m in after), sum(m.render_cost[1] for m in after)):
        return None  # a later message would now stop at the limit
    _report_undefined(doc)
    return doc


def _name_attr(attrs: str | None) -> str | None:
    if not attrs:
        return None
    m = re.search(r"name\s*=\s*[\"']?([^\"',\s]+)", attrs)
    return m.group(1) if m else None


def _error_span(source: str, body: Span, exc: BaseException, fallback: Span) -> Span:
    """The template line an error was raised on, else `fallback` (the role line)."""
    line = template_line(exc)
    if line is None:
        return fallback
    start = _line_offset(source, line)
    end = source.find("\n", start)
    return Span(body.start + start, body.start + (len(source) if end == -1 else end))


def _line_offset(source: str, lineno: int | None) -> int:
    offset = 0
    for _ in range(max(0, (lineno or 1) - 1)):
        nxt = source.find("\n", offset)
        if nxt == -1:
            break
        offset = nxt + 1
    return offset
