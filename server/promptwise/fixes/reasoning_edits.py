"""Writing a reasoning effort into a prompt file in the file's own syntax (which effort to choose is `routing.efforts`'s).

Where the file already writes an effort (`reasoning_effort`, `reasoningEffort`, `reasoning.effort`,
`thinkingLevel` in the request options, `promptwise.reasoning_effort`), every such value is replaced,
so what the runtime sends and what promptwise prices stay the same. Otherwise the key is added where
the format's runtime reads it, with any mapping it needs:

- Prompty: `model.parameters.reasoning_effort` (v1), or `model.options.additionalProperties.reasoning_effort`
  in a Prompty 2 file (`model.options`, `model.id`, `model.connection`), which passes it through as written;
- Dotprompt: `config.reasoningEffort`;
- instruction files and plain prompts: `promptwise.reasoning_effort` (only promptwise reads it: the agent's
  own settings choose the effort it runs at);
- a JSON chat request body: its top-level `"reasoning_effort"`.
New lines take the file's line ending and the indentation of their siblings.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..formats import Format, PromptDocument, Severity
from ..text import Span
from .edits import TextEdit

# The last parts of a key path that hold an effort level.
EFFORT_TAILS = (
    ("reasoning_effort",),
    ("reasoningEffort",),
    ("reasoning", "effort"),
    ("thinkingConfig", "thinkingLevel"),
    ("thinking_config", "thinking_level"),
    ("thinkingLevel",),
    ("thinking_level",),
)
# The mappings each format's runtime reads request options from.
OPTION_ROOTS = {
    Format.PROMPTY: ("model.options.additionalProperties", "model.options", "model.parameters"),
    Format.DOTPROMPT: ("config",),
}
_BUDGET_KEYS = ("budget_tokens", "budgetTokens", "thinkingBudget", "thinking_budget", "reasoning_budget")


class Unwritable(Exception):
    """The file cannot carry an effort where its runtime would read it; the message says why."""


def effort_edits(doc: PromptDocument, effort: str) -> list[TextEdit]:
    """The edits that make the file run (and be priced) at `effort`; raises Unwritable with the reason."""
    if doc.frontmatter_span is not None and any(p.code == "invalid-frontmatter" and p.severity is Severity.ERROR for p in doc.problems):
        raise Unwritable("the frontmatter is not valid YAML")
    found = _written(doc)
    if found:
        return [TextEdit(span, _quoted(doc.text[span.start : span.end], effort)) for span in found]
    if doc.reasoning_budget is not None:
        raise Unwritable("the file sets a thinking budget, not an effort: change the budget instead")
    if doc.format is Format.PROMPTY:
        return _prompty(doc, effort)
    if doc.format is Format.DOTPROMPT:
        return _insert(doc, ("config",), "reasoningEffort", effort)
    return _insert(doc, ("promptwise",), "reasoning_effort", effort)


def _written(doc: PromptDocument) -> list[Span]:
    """Where the file writes an effort level today: the `promptwise:` block and the runtime's options."""
    roots = ("promptwise", *OPTION_ROOTS.get(doc.format, ()))
    spans = []
    for path, key in doc.keys.items():
        for root in roots:
            if not path.startswith(root + "."):
                continue
            rest = tuple(path[len(root) + 1 :].split("."))
            if (root == "promptwise" and rest == ("reasoning_effort",)) or (root != "promptwise" and rest in EFFORT_TAILS):
                if isinstance(key.value, str):
                    spans.append(key.value_span)
                break
    return sorted(set(spans), key=lambda s: s.start)


def _quoted(raw: str, value: str) -> str:
    return raw[0] + value + raw[0] if raw[:1] in ("'", '"') and raw[-1:] == raw[:1] and len(raw) > 1 else value


def _prompty(doc: PromptDocument, effort: str) -> list[TextEdit]:
    model = doc.frontmatter.get("model")
    if "model" in doc.keys and not isinstance(model, dict):
        raise Unwritable("the model is written as a name: make it a mapping (model: {id: ..., parameters: ...}) to set its effort")
    if isinstance(model, dict) and ("options" in model or any(k in model for k in ("id", "connection", "provider"))):
        return _insert(doc, ("model", "options", "additionalProperties"), "reasoning_effort", effort)
    return _insert(doc, ("model", "parameters"), "reasoning_effort", effort)


def _newline(text: str) -> str:
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


def _line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def _column(text: str, offset: int) -> int:
    return offset - _line_start(text, offset)


def _line_end(text: str, offset: int) -> int:
    """The offset just past the line break of the line holding `offset` (the text's end on its last line)."""
    match = re.compile(r"\r\n|\r|\n").search(text, offset)
    return match.end() if match else len(text)


def _insert(doc: PromptDocument, path: tuple[str, ...], key: str, effort: str) -> list[TextEdit]:
    """Add `key: effort` under the mapping at `path`, creating the mappings that are missing."""
    text, nl = doc.text, _newline(doc.text)
    # The deepest mapping of the path the file already has.
    depth = 0
    while depth < len(path) and ".".join(path[: depth + 1]) in doc.keys:
        depth += 1
    if depth:
        value = _value_at(doc.frontmatter, path[:depth])
        if value is not None and not isinstance(value, dict):
            raise Unwritable(f"'{'.'.join(path[:depth])}' is not a mapping")
    missing = [*path[depth:], key]
    if depth == 0:
        if doc.frontmatter_span is None:
            if doc.format in (Format.PROMPTY, Format.DOTPROMPT) or text.startswith("\ufeff"):
                raise Unwritable("the file has no frontmatter")
            return [TextEdit.insert(0, f"---{nl}{_block(missing, effort, 0, 2, nl)}---{nl}")]
        end = doc.frontmatter_span.end
        closing = _line_start(text, end - len(_trailing_break(text[:end])))
        return [TextEdit.insert(closing, _block(missing, effort, 0, 2, nl))]
    parent = doc.keys[".".join(path[:depth])]
    parent_col = _column(text, parent.span.start)
    raw = text[parent.value_span.start : parent.value_span.end]
    if raw.lstrip().startswith("{"):
        return [_flow_insert(parent.value_span, raw, missing, effort)]
    children = [k for p, k in doc.keys.items() if p.startswith(parent.key + ".") and p.count(".") == parent.key.count(".") + 1]
    if not children:
        raise Unwritable(f"'{parent.key}' is empty: write the setting by hand")
    indent = _column(text, children[0].span.start)
    step = max(1, indent - parent_col)
    last = max(k.value_span.end for p, k in doc.keys.items() if p.startswith(parent.key + "."))
    at = _line_end(text, max(last - 1, parent.value_span.start))
    prefix = "" if at == 0 or text[at - 1] in "\r\n" else nl  # the mapping ends the file without a line break
    return [TextEdit.insert(at, prefix + _block(missing, effort, indent, step, nl))]


def _trailing_break(head: str) -> str:
    for brk in ("\r\n", "\n", "\r"):
        if head.endswith(brk):
            return brk
    return ""


def _value_at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _block(keys: list[str], effort: str, indent: int, step: int, nl: str) -> str:
    lines = []
    for i, name in enumerate(keys):
        value = f" {effort}" if i == len(keys) - 1 else ""
        lines.append(" " * (indent + i * step) + f"{name}:{value}{nl}")
    return "".join(lines)


def _flow_insert(span: Span, raw: str, keys: list[str], effort: str) -> TextEdit:
    """`{temperature: 1}` -> `{temperature: 1, reasoning_effort: low}` (nested mappings written inline too)."""
    close = span.start + raw.rstrip().rfind("}")
    value = effort
    for name in reversed(keys[1:]):
        value = f"{{{name}: {value}}}"
    entry = f"{keys[0]}: {value}"
    inner = raw[raw.find("{") + 1 : raw.rstrip().rfind("}")]
    return TextEdit.insert(close, entry if not inner.strip() else f", {entry}")


# ---- a JSON chat request body ----


def json_effort_edits(text: str, effort: str) -> list[TextEdit]:
    """Set the top-level `"reasoning_effort"` of a chat request body (replaced where written, else added
    first in the object, in the body's own indentation); raises Unwritable for text that is not a JSON object."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise Unwritable(f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Unwritable("the request body is not a JSON object")
    if "reasoning_effort" in body:
        span = _top_level_value(text, "reasoning_effort")
        if span is None or not isinstance(body["reasoning_effort"], str):
            raise Unwritable("the request's reasoning_effort is not a string")
        return [TextEdit(span, json.dumps(effort))]
    opening = text.index("{") + 1
    after = re.compile(r"[ \t]*(\r\n|\r|\n)([ \t]*)").match(text, opening)
    entry = f'"reasoning_effort": {json.dumps(effort)}'
    if after is None:  # all on one line
        return [TextEdit.insert(opening, entry + ("," if body else ""))]
    return [TextEdit.insert(after.end(), entry + ("," if body else "") + after.group(1) + after.group(2))]


def _top_level_value(text: str, name: str) -> Span | None:
    """The span of a top-level key's string value, found by walking the JSON text (strings skipped)."""
    depth, i, n = 0, 0, len(text)
    decoder = json.JSONDecoder()
    while i < n:
        c = text[i]
        if c == '"':
            value, end = decoder.raw_decode(text, i)
            colon = end
            while colon < n and text[colon] in " \t\r\n":
                colon += 1
            if depth == 1 and value == name and colon < n and text[colon] == ":":
                start = colon + 1
                while text[start] in " \t\r\n":
                    start += 1
                _, stop = decoder.raw_decode(text, start)
                return Span(start, stop)
            i = end
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return None
