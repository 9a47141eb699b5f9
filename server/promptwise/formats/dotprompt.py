"""Dotprompt `.prompt` files: YAML frontmatter and a Handlebars body with role tags and partials."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..text import Edit, Span
from . import handlebars as hb
from .. import access
from .common import body_offset, edited_message, first_int, message_span, rendered_copy, report_includes, resolve, set_model, start_document
from .document import Format, Include, Message, PromptDocument, Severity, Variable
from .limits import LIMIT_EXCEEDED, OUTSIDE_WORKSPACE, Budget, LimitExceeded, Limits, limits_for, size_words
from .schema import DotpromptFrontmatter

_BUILTIN_HELPERS = {"role", "history", "media", "section", "json", "ifEquals", "unlessEquals"}


def parse_dotprompt(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc, body_start, fm = start_document(path, text, Format.DOTPROMPT, DotpromptFrontmatter, max_bytes)
    data = doc.frontmatter
    set_model(doc, data.get("model"), "model")
    if doc.model and "/" in doc.model:
        doc.provider = doc.model.split("/", 1)[0]
    doc.max_output_tokens = first_int(data.get("config"), "maxOutputTokens", "max_tokens", "maxTokens")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    doc.uses_reasoning = any(k in config for k in ("thinkingConfig", "reasoning_effort", "reasoningEffort", "thinking"))
    output = data.get("output") if isinstance(data.get("output"), dict) else {}
    doc.uses_json_output = output.get("format") == "json" or "schema" in output
    tools = data.get("tools")
    if isinstance(tools, list):
        doc.tool_names = [str(t) for t in tools]
    samples, optional = _input_values(data.get("input"))

    body = text[body_start:]
    try:
        nodes = hb.parse(body)
    except hb.TemplateError as exc:
        doc.problem("template-error", Severity.ERROR, f"Handlebars: {exc}", exc.span.shift(body_start))
        doc.messages.append(
            Message("user", Span(body_start, len(text)), Span(body_start, body_start), Span(body_start, len(text)), body.strip())
        )
        return doc
    _build_messages(doc, nodes, body, body_start, samples, optional)
    return doc


def render_dotprompt(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed Dotprompt document rendered with `values` over `input.default`, without parsing
    the frontmatter again (cheap enough to call once per eval case)."""
    body_start = body_offset(doc)
    body = doc.text[body_start:]
    try:
        nodes = _parse_body(body)
    except hb.TemplateError:
        return rendered_copy(doc, ())  # parse_dotprompt already reported it; the body is sent as written
    out = rendered_copy(doc, ("template-error", "undefined-variable", "missing-include", "include-cycle", OUTSIDE_WORKSPACE, LIMIT_EXCEEDED))
    samples, optional = _input_values(doc.frontmatter.get("input"))
    samples.update(values)
    _build_messages(out, nodes, body, body_start, samples, optional)
    return out


def reparse_dotprompt(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit inside a message of plain text (no `{` or `}` between its role tag and
    the next), without parsing the Handlebars body again: such a message is its text, stripped.

    None for any other edit (the caller parses the whole file). Same result as parse_dotprompt.
    """
    if any(p.code in ("template-error", LIMIT_EXCEEDED) for p in old.problems):
        return None
    where = edited_message(old, text, edit)
    if where is None:
        return None
    at, first, last_new = where
    message = old.messages[at]
    if not len(message.header):
        return None  # text before the first role tag: dropped when it is blank
    body_start, body_end = message.body.start, message.body.end
    for brace in "{}":  # a tag, an escape or a partial: the template's structure may have changed
        if text.find(brace, first, last_new) != -1 or old.text.find(brace, body_start, body_end) != -1:
            return None
    delta = edit.delta
    body = Span(body_start, body_end + delta)
    kept = replace(message, span=message_span(message.span.start, body.end), body=body, content=text[body.start : body.end].strip())
    later = body_end  # everything from here on moved by delta
    return replace(
        old,
        text=text,
        messages=old.messages[:at] + [kept] + [m.shifted(delta) for m in old.messages[at + 1 :]],
        problems=[replace(p, span=p.span.shift(delta)) if p.span.start >= later else p for p in old.problems],
        _lines=None,
    )


@lru_cache(maxsize=64)
def _parse_body(body: str) -> list[Any]:
    return hb.parse(body)


def _input_values(spec: Any) -> tuple[dict[str, Any], set[str]]:
    if not isinstance(spec, dict):
        return {}, set()
    samples = dict(spec.get("default") or {}) if isinstance(spec.get("default"), dict) else {}
    optional: set[str] = set()
    schema = spec.get("schema")
    if isinstance(schema, dict):
        for key in schema:
            name = str(key).split("(", 1)[0]
            if name.endswith("?"):
                optional.add(name[:-1])
    return samples, optional


@lru_cache(maxsize=256)
def _parse_partial(path: str, mtime_ns: int, size: int, origin: Path, max_bytes: int) -> tuple[list[Any] | None, str | None, str]:
    text, error = access.read_text(Path(path), max_bytes, origin=origin)
    if text is None:
        return None, error, ""
    try:
        return hb.parse(text), None, text
    except hb.TemplateError as exc:
        return None, f"{Path(path).name}: {exc}", text


def _partial_path(directory: Path, name: str) -> Path:
    base = directory / name
    return base.parent / f"_{base.name}.prompt"


def _build_messages(
    doc: PromptDocument, nodes: list[Any], body: str, base: int, samples: dict[str, Any], optional: set[str]
) -> None:
    directory = doc.path.parent
    images = [0]
    undefined: dict[str, list[Span]] = {}
    includes: dict[int, Include] = {}
    limits = limits_for(doc.max_bytes)
    budget = Budget(limits)
    expanded = [0, 0]  # partials rendered and their characters, every repetition counted

    def partial(node: hb.Partial, scope: Any, chain: tuple[Path, ...], owner: Include | None) -> str:
        target = _partial_path(chain[-1].parent if len(chain) > 1 else directory, node.name)
        resolved = resolve(target)
        include = None
        if owner is None:
            include = includes.get(id(node))
            if include is None:
                include = includes[id(node)] = Include(node.name, node.span.shift(base), target)
        report = include or owner

        def fail(message: str, code: str | None = None) -> str:
            if report is not None and report.error is None:
                report.error = message
                report.error_code = code
            return ""

        if resolved in chain:
            return fail("include cycle: " + " -> ".join(p.name for p in chain[1:] + (resolved,)))
        if len(chain) > limits.partial_depth:
            raise LimitExceeded(f"partials stopped at {limits.partial_depth} levels deep: {node.name} was not expanded", report and report.span)
        why = access.refusal(resolved, doc.path)
        if why is not None:
            return fail(f"partial '{node.name}': {why}", OUTSIDE_WORKSPACE)
        try:
            stat = resolved.stat()
        except (OSError, ValueError):
            return fail(f"partial '{node.name}' not found: expected {target.name} in {target.parent}")
        parsed, error, source = _parse_partial(str(resolved), stat.st_mtime_ns, stat.st_size, doc.path, limits.include_file_bytes)
        if parsed is None:
            return fail(f"partial '{node.name}': {error or f'cannot read {target}'}")
        _charge_partial(expanded, len(source), limits, node.name, report)
        ctx = _context(lambda n, s: partial(n, s, chain + (resolved,), report))
        text = hb.render(parsed, [scope], ctx, True)
        if include is not None:
            include.text = text
        return text

    def missing(node: hb.Mustache) -> str:
        name = node.expr.name.split(".", 1)[0]
        if name in optional:
            return ""
        undefined.setdefault(name, []).append(node.span)
        return body[node.span.start : node.span.end]

    def _context(partial_fn) -> hb.RenderContext:
        def media(*args: Any, **kwargs: Any) -> str:
            images[0] += 1
            return ""

        helpers = {
            "role": lambda *a, **k: "",
            "history": lambda *a, **k: "",
            "media": media,
            "section": lambda *a, **k: "",
            "json": lambda value=None, **k: hb._to_text(value),
        }
        return hb.RenderContext(helpers=helpers, partial=partial_fn, missing=missing, budget=budget)

    root_chain = (doc.path.resolve(),)
    ctx = _context(lambda n, s: partial(n, s, root_chain, None))

    # Top-level {{role "x"}} tags split the body into messages; text before the first is a user turn.
    groups: list[tuple[str, Span | None, list[Any]]] = [("user", None, [])]
    for node in nodes:
        if isinstance(node, hb.Mustache) and node.expr.name == "role" and node.expr.args:
            role = str(node.expr.args[0][1])
            groups.append((role, node.span, []))
        else:
            groups[-1][2].append(node)

    for index, (role, header, group) in enumerate(groups):
        images[0] = 0
        before = set(includes)
        start = header.start if header else (group[0].span.start if group else 0)
        end = groups[index + 1][1].start if index + 1 < len(groups) else len(body)  # type: ignore[union-attr]
        content = _render_group(doc, group, samples, ctx, budget, body, base, (header.end if header else start, end))
        if header is None and not content and not any(id(n) in includes for n in group):
            continue
        message = Message(
            role=role,
            span=message_span(base + start, base + end),
            header=(header.shift(base) if header else Span(base + start, base + start)),
            body=Span(base + (header.end if header else start), base + end),
            content=content,
            images=images[0],
        )
        message.includes = [includes[k] for k in includes if k not in before]
        message.variables = _variables(group, base, samples, optional)
        doc.messages.append(message)

    for message in doc.messages:
        report_includes(doc, message)
    for name, spans in undefined.items():
        doc.problem(
            "undefined-variable",
            Severity.WARNING,
            f"'{name}' has no value in input.default; it is counted as the literal placeholder",
            spans[0].shift(base),
        )


def _render_group(
    doc: PromptDocument,
    group: list[Any],
    samples: dict[str, Any],
    ctx: hb.RenderContext,
    budget: Budget,
    body: str,
    base: int,
    where: tuple[int, int],
) -> str:
    """One message's text; at a limit, the message as written and one finding for the document."""
    if not budget.stopped:
        try:
            return hb.render(group, [samples], ctx).strip()
        except (LimitExceeded, RecursionError) as exc:
            budget.stopped = True
            message = str(exc) if isinstance(exc, LimitExceeded) else "rendering stopped: blocks and partials nest too deeply"
            span = getattr(exc, "span", None) or Span(base + where[0], base + where[0])
            doc.problem(LIMIT_EXCEEDED, Severity.ERROR, message, span)
    return body[where[0] : where[1]].strip()


def _charge_partial(expanded: list[int], size: int, limits: Limits, name: str, report: Include | None) -> None:
    expanded[0] += 1
    expanded[1] += size
    if expanded[0] > limits.include_count:
        raise LimitExceeded(
            f"partials stopped after {limits.include_count:,} expansions (derived from max_file_size): {name} was not expanded",
            report and report.span,
        )
    if expanded[1] > limits.include_bytes:
        raise LimitExceeded(
            f"partials stopped at {size_words(limits.include_bytes)} of partial text (max_file_size): {name} was not expanded",
            report and report.span,
        )


def _variables(group: list[Any], base: int, samples: dict[str, Any], optional: set[str]) -> list[Variable]:
    found: list[Variable] = []
    for node, _ in _walk_scoped(group):
        if not isinstance(node, hb.Mustache) or node.expr.args or node.expr.hash:
            continue
        if node.expr.name in _BUILTIN_HELPERS or node.expr.name.startswith(("@", "this", "..")):
            continue
        name = node.expr.name.split(".", 1)[0]
        present, value = hb.lookup([samples], node.expr.name)
        found.append(Variable(name, node.span.shift(base), value if present else None, "default" if present else None))
    return found


def _walk_scoped(nodes: list[Any]):
    """Nodes evaluated against the prompt's own inputs (not inside #each / #with)."""
    for node in nodes:
        yield node, False
        if isinstance(node, hb.Block) and node.expr.name not in ("each", "with"):
            yield from _walk_scoped(node.body)
            yield from _walk_scoped(node.inverse)
