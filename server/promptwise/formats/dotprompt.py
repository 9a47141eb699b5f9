"""Dotprompt `.prompt` files: YAML frontmatter and a Handlebars body with role tags and partials.

The body renders with dotpromptz-handlebars, as Dotprompt's runtimes render it (`dotprompt_render`), once
`dotprompt_bound` has shown the render fits the document's budget; `dotprompt_scan` gives the source spans
of role tags, partial references and variables. The frontmatter is read by promptwise's own bounded YAML
loader; `#` license lines and blank lines may come before it, as Dotprompt allows.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..text import Edit, Span
from .. import access
from .common import body_offset, edited_message, first_int, message_span, rendered_copy, resolve, set_model, start_document
from .document import Format, Include, Message, PromptDocument, Severity, Variable
from .dotprompt_bound import Source, bound, without
from .dotprompt_render import compile_source, indents, library_message, render, wrapper
from .dotprompt_scan import BLOCK_KEYWORDS, BUILTIN_HELPERS, PARTIAL_SUFFIX, MAX_NESTING, Scan, ScanError, remember_scan, rewrite, scan
from .frontmatter import Frontmatter, parse_frontmatter
from .limits import LIMIT_EXCEEDED, OUTSIDE_WORKSPACE, Budget, LimitExceeded, Limits, limits_for
from .reasoning_settings import Options, cache_breakpoints, read_options
from .schema import DotpromptFrontmatter

# Blank lines and `#` comment lines (a license header) before the opening ---.
_LEAD = re.compile(r"(?:(?:#[^\r\n]*|[ \t]*)(?:\r\n|\r|\n))+(?=---[ \t]*\r?\n)")
_RENDER_CODES = ("template-error", "undefined-variable", "missing-include", "include-cycle", OUTSIDE_WORKSPACE, LIMIT_EXCEEDED)


def parse_dotprompt(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc, body_start, fm = _start(path, text, max_bytes)
    config = read_settings(doc)
    samples, optional = _input_values(doc.frontmatter.get("input"))
    _build_messages(doc, body_start, samples, optional)
    doc.cache_breakpoints = cache_breakpoints([Options(config, "config")], doc.messages)
    return doc


def read_settings(doc: PromptDocument) -> dict[str, Any]:
    """The frontmatter's model, max output, reasoning and service tier, output format and tools, into `doc`
    (everything but the messages); returns the `config` mapping."""
    data = doc.frontmatter
    set_model(doc, data.get("model"), "model")
    if doc.model and "/" in doc.model:
        doc.provider = doc.model.split("/", 1)[0]
    doc.max_output_tokens = first_int(data.get("config"), "maxOutputTokens", "max_tokens", "maxTokens")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    read_options(doc, [Options(config, "config")])
    output = data.get("output") if isinstance(data.get("output"), dict) else {}
    doc.uses_json_output = output.get("format") == "json" or "schema" in output
    tools = data.get("tools")
    if isinstance(tools, list):
        doc.tool_names = [str(t) for t in tools]
    return config


def render_dotprompt(doc: PromptDocument, values: dict[str, Any]) -> PromptDocument:
    """A copy of a parsed Dotprompt document rendered with `values` over `input.default`, without parsing
    the frontmatter again (cheap enough to call once per eval case)."""
    out = rendered_copy(doc, _RENDER_CODES)
    samples, optional = _input_values(doc.frontmatter.get("input"))
    samples.update(values)
    _build_messages(out, body_offset(doc), samples, optional)
    out.cache_breakpoints = cache_breakpoints([Options(doc.frontmatter.get("config"), "config")], out.messages)
    return out


def reparse_dotprompt(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit, rendering again only what it can change (`dotprompt_reparse` for
    edits of the structure). None when that may differ from parse_dotprompt: the caller parses it whole."""
    doc = _reparse_text(old, text, edit)
    return doc if doc is not None else reparse_structure(old, text, edit)


def _reparse_text(old: PromptDocument, text: str, edit: Edit) -> PromptDocument | None:
    """The document after an edit inside a message of plain text (no tag, escape or marker between its
    role tag and the next), without rendering the body again: such a message is its text as written.

    None for any other edit. Same result as parse_dotprompt.
    """
    if any(p.code in ("template-error", LIMIT_EXCEEDED, "include-cycle") for p in old.problems):
        return None
    where = edited_message(old, text, edit)
    if where is None:
        return None
    at, first, last_new = where
    message = old.messages[at]
    header = old.text[message.header.start : message.header.end]
    if not len(message.header) or not re.match(r"\{\{~?\s*role\s", header):
        return None  # text before the first role tag, or a message a partial produced
    if sum(m.header == message.header for m in old.messages) != 1:
        return None  # a role tag inside a loop
    body_start, body_end = message.body.start, message.body.end
    nxt = old.messages[at + 1].header.start if at + 1 < len(old.messages) else len(old.text)
    if body_end != nxt or (at + 1 == len(old.messages) and body_end != len(old.text)):
        return None
    for mark in ("{", "}", "\\", "<<<", ">>>"):  # a tag, an escape or a marker: the structure may have changed
        if text.find(mark, first, last_new) != -1 or old.text.find(mark, body_start, body_end) != -1:
            return None
    delta = edit.delta
    body = Span(body_start, body_end + delta)
    content = text[body.start : body.end]
    if header.endswith("~}}"):
        content = content.lstrip()
    last = at + 1 == len(old.messages)
    if (last and old.frontmatter_span is not None) or (not last and text.startswith("{{~", body.end)):
        content = content.rstrip()
    if not content.strip():
        return None  # the message would be dropped, or its role given to the next
    kept = replace(message, span=message_span(message.span.start, body.end), body=body, content=content)
    later = body_end  # everything from here on moved by delta
    return replace(
        old,
        text=text,
        messages=old.messages[:at] + [kept] + [m.shifted(delta) for m in old.messages[at + 1 :]],
        problems=[replace(p, span=p.span.shift(delta)) if p.span.start >= later else p for p in old.problems],
        _lines=None,
    )


def _start(path: Path, text: str, max_bytes: int | None) -> tuple[PromptDocument, int, Any]:
    """start_document, after the license and blank lines Dotprompt allows before the frontmatter."""
    return start_document(path, text, Format.DOTPROMPT, DotpromptFrontmatter, max_bytes, _read_after_license)


def _read_after_license(text: str, limits: Limits) -> Frontmatter:
    lead = _LEAD.match(text)
    if lead is None:
        return parse_frontmatter(text, limits)
    return parse_frontmatter(text[lead.end() :], limits).shifted(lead.end())


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
def _read_partial(path: str, mtime_ns: int, size: int, origin: Path, max_bytes: int) -> tuple[list[Any] | None, Scan | None, str | None, int]:
    """A partial file's nodes and scan, or why it cannot be used; cached while the file is unchanged."""
    text, error = access.read_text(Path(path), max_bytes, origin=origin)
    if text is None:
        return None, None, error, 0
    found = scan(text)
    if found.error is not None:
        return None, None, f"{Path(path).name}: {found.error}", len(text)
    try:
        return compile_source(text), found, None, len(text)
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        return None, None, f"{Path(path).name}: {exc}", len(text)


def _partial_path(directory: Path, name: str) -> Path:
    base = directory / name
    return base.parent / f"_{base.name}.prompt"


def _searched(target: Path, prompt: Path) -> str:
    """The folder a partial was looked for in, by a name that says where it is (not `.`)."""
    folder = os.path.abspath(target.parent)
    return f"{folder} (the folder of {prompt.name})" if target.parent == prompt.parent else folder


def _template(doc: PromptDocument, body_start: int) -> tuple[str, int]:
    """What Dotprompt renders (the body, stripped when there is a frontmatter) and where it starts."""
    body = doc.text[body_start:]
    if doc.frontmatter_span is None:
        return body, body_start
    return body.strip(), body_start + len(body) - len(body.lstrip())


def _build_messages(doc: PromptDocument, body_start: int, samples: dict[str, Any], optional: set[str]) -> None:
    template, base = _template(doc, body_start)
    found = scan(template)
    remember_scan(doc, found)
    error = found.error
    program: list[Any] = []
    if error is None:
        try:
            program = compile_source(rewrite(template, found))
        except RecursionError:
            error = ScanError(f"blocks are nested more than {MAX_NESTING} deep", Span(0, 0))
        except Exception as exc:  # noqa: BLE001 - the library's ValueError, or anything else it raises
            error = ScanError(library_message(exc), Span(0, 0))
    if error is not None:
        doc.problem("template-error", Severity.ERROR, f"Handlebars: {error}", error.span.shift(base))
        _as_written(doc, template, base, found)
        return

    limits = limits_for(doc.max_bytes)
    includes = [Include(ref.name, ref.span.shift(base), _partial_path(doc.path.parent, ref.name)) for ref in found.partials]
    sources, registry, helpers_used = _load_partials(doc, found, includes, limits, indents(program))
    try:
        worst = bound(program, sources, samples, limits)
    except LimitExceeded as exc:
        reference = getattr(exc, "reference", None)
        span = includes[reference].span if reference is not None and reference >= 0 else Span(base, base)
        message = str(exc)
        if reference is not None and reference >= 0 and message.startswith("partials stopped after"):
            message += f": {includes[reference].target} was not expanded"
        doc.problem(LIMIT_EXCEEDED, Severity.ERROR, message, span)
        _as_written(doc, template, base, found)
        return
    for reference, looping in worst.cycles[:1]:
        if reference >= 0 and includes[reference].error is None:
            includes[reference].error = "include cycle: " + " -> ".join(_partial_path(Path(), n).name for n in looping)
        elif reference < 0:  # partials the template defines inline
            doc.problem("include-cycle", Severity.ERROR, "include cycle: " + " -> ".join(looping), Span(base, base))
    if worst.cut:
        registry.update({name: without(src.program, worst.cut) for name, src in sources.items()})
    program = without(program, worst.cut)
    try:
        result = render(program, samples, registry, helpers_used, Budget(limits))
    except LimitExceeded as exc:
        doc.problem(LIMIT_EXCEEDED, Severity.ERROR, str(exc), Span(base, base))
        _as_written(doc, template, base, found)
        return
    except RecursionError:
        doc.problem(LIMIT_EXCEEDED, Severity.ERROR, "rendering stopped: blocks and partials nest too deeply", Span(base, base))
        _as_written(doc, template, base, found)
        return
    except Exception as exc:  # noqa: BLE001 - what the runtime refuses too, e.g. #each with no list; never a crash
        doc.problem("template-error", Severity.ERROR, f"Handlebars: {library_message(exc)}", Span(base, base))
        _as_written(doc, template, base, found)
        return

    def origin_span(origin: tuple[str, int] | None) -> Span:
        if origin is None:
            return Span(base, base)
        kind, index = origin
        return (found.roles[index].span if kind == "role" else found.partials[index].span).shift(base)

    headers = [origin_span(piece.origin) for piece in result.messages]
    starts = sorted({h.start for h in headers})
    for piece, header in zip(result.messages, headers):
        at = bisect.bisect_right(starts, header.start)
        end = starts[at] if at < len(starts) else len(doc.text)
        body = Span(header.end, max(header.end, end))
        doc.messages.append(Message(piece.role, message_span(header.start, body.end), header, body, piece.text, images=piece.media))
    owner = _owners(doc.messages)
    for index, include in enumerate(includes):
        include.text = result.include_text.get(index, "")
        if doc.messages:
            owner(include.span.start).includes.append(include)
    for name in result.bad_roles[:1]:
        doc.problem("template-error", Severity.ERROR, f"role '{name}' is not a Dotprompt role (user, model, system or tool); the runtime refuses it", Span(base, base))
    _report(doc, found, base, includes, samples, optional, owner)


def _load_partials(
    doc: PromptDocument, found: Scan, includes: list[Include], limits: Any, indented: dict[str, int]
) -> tuple[dict[str, Source], dict[str, Any], set[str]]:
    """Every partial the template can reach, by name (Dotprompt's registry is flat: `_name.prompt` beside
    the file), with the per-reference wrappers the render uses; errors go on the references."""
    sources: dict[str, Source] = {}
    registry: dict[str, Any] = {}
    helpers_used = set(found.helpers)
    failed: dict[str, tuple[str, str | None]] = {}
    plain: set[str] = set()  # names some {{> name}} uses (a {{#> name}} block has its own fallback)
    queue = [(ref.name, index, ref.block) for index, ref in enumerate(found.partials)]
    seen: set[str] = set(found.inline)  # defined in the template itself
    while queue:
        name, owner, block = queue.pop(0)
        if not block:
            plain.add(name)
        if name in failed and not block and owner >= 0 and includes[owner].error is None:
            includes[owner].error, includes[owner].error_code = failed[name]
        if name in seen:
            continue
        seen.add(name)
        target = _partial_path(doc.path.parent, name)
        resolved = resolve(target)
        why = access.refusal(resolved, doc.path)
        if why is not None:
            error: tuple[str, str | None] | None = (f"partial '{name}': {why}", OUTSIDE_WORKSPACE)
        else:
            try:
                stat = resolved.stat()
                program, partial_scan, reason, size = _read_partial(str(resolved), stat.st_mtime_ns, stat.st_size, doc.path, limits.include_file_bytes)
                error = None if program is not None else (f"partial '{name}': {reason or f'cannot read {target}'}", None)
            except (OSError, ValueError):
                error = (f"partial '{name}' not found: expected {target.name} in {_searched(target, doc.path)}", None)
        if error is not None:
            failed[name] = error
            if not block and includes[owner].error is None:
                includes[owner].error, includes[owner].error_code = error
            continue
        sources[name] = Source(program, size)
        registry[name] = program
        helpers_used |= partial_scan.helpers
        seen |= partial_scan.inline
        queue.extend((ref.name, owner, ref.block) for ref in partial_scan.partials)
    for name in plain:
        registry.setdefault(name, [])  # a missing partial renders empty (and is reported) instead of failing the render
    for index, ref in enumerate(found.partials):
        if ref.name in registry:
            renamed = f"{ref.name}{PARTIAL_SUFFIX}{index}"
            registry[renamed] = wrapper(ref.name, index, indented.get(renamed, 0))
    return sources, registry, helpers_used - BUILTIN_HELPERS - BLOCK_KEYWORDS


def _owners(messages: list[Message]):
    """For an offset, the message whose source holds it: the first with the latest tag at or before it."""
    firsts: dict[int, Message] = {}
    for message in messages:
        firsts.setdefault(message.header.start, message)
    starts = sorted(firsts)

    def owner(offset: int) -> Message:
        at = bisect.bisect_right(starts, offset)
        return firsts[starts[at - 1]] if at else messages[0]

    return owner


def _report(doc: PromptDocument, found: Scan, base: int, includes: list[Include], samples: dict[str, Any], optional: set[str], owner: Any) -> None:
    for include in includes:
        if include.error:
            code = include.error_code or ("include-cycle" if include.error.startswith("include cycle") else "missing-include")
            doc.problem(code, Severity.ERROR, include.error, include.span)
    undefined: dict[str, Span] = {}
    for ref in found.variables:
        if ref.scoped:
            continue
        present, value = _value(samples, ref.path)
        span = ref.span.shift(base)
        root = re.split(r"[./\[]", ref.path, maxsplit=1)[0]
        variable = Variable(root, span, value if present else None, "default" if present else None)
        if doc.messages:
            owner(span.start).variables.append(variable)
        live = all(_truthy(_value(samples, path)[1]) == want for path, want in ref.guards)
        if not present and live and root not in optional and root not in samples:
            undefined.setdefault(root, span)
    for name, span in undefined.items():
        doc.problem(
            "undefined-variable",
            Severity.WARNING,
            f"'{name}' has no value in input.default; it renders empty, as at run time when the caller does not pass it",
            span,
        )


def _value(samples: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = samples
    for part in re.split(r"[./]", path.replace("[", "").replace("]", "")):
        if part in ("", "this"):
            continue
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _truthy(value: Any) -> bool:
    """Handlebars' {{#if}}: false, null, 0, "" and [] are false; an empty mapping is true."""
    if isinstance(value, bool):
        return value
    if value is None or value == "" or (isinstance(value, (int, float)) and value == 0):
        return False
    return not (isinstance(value, (list, tuple)) and not value)


def _as_written(doc: PromptDocument, template: str, base: int, found: Scan) -> None:
    """At a template error or a limit: each top-level role tag starts a message of the text as written."""
    cuts = [found.roles[i].span for i in sorted(found.top_level_roles)] if found.error is None else []
    pieces: list[tuple[str, Span, Span]] = []
    start = 0
    role, header = "user", Span(0, 0)
    for span in cuts:
        pieces.append((role, header, Span(start, span.start)))
        words = template[span.start : span.end].split('"')
        role, header, start = (words[1] if len(words) > 2 else "user"), span, span.end
    pieces.append((role, header, Span(start, len(template))))
    for index, (role, header, body) in enumerate(pieces):
        content = _stripped_piece(template, body.start, body.end)
        if not content and (index == 0 or not len(header)):
            continue
        end = base + body.end if index + 1 < len(pieces) else len(doc.text)
        doc.messages.append(Message(role, message_span(base + header.start, end), header.shift(base), Span(base + body.start, end), content))


_SPACE = re.compile(r"\s*")


def _stripped_piece(text: str, start: int, end: int) -> str:
    """text[start:end].strip(), with one copy of a long section instead of two."""
    start = _SPACE.match(text, start, end).end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return text[start:end]


from .dotprompt_reparse import reparse_structure  # noqa: E402  (it uses the rendering above)
