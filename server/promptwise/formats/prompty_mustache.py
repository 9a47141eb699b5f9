"""Mustache for Prompty bodies (`template: {format: {kind: mustache}}` or `template: mustache`).

Prompty 2 renders Mustache with chevron; this follows chevron's rules (standalone tag lines removed,
`{{x}}` HTML-escaped, sections over lists, dicts and truthy values, inverse sections, `{{.}}`, dotted
names) with two differences the editor needs: a name with no value anywhere (rendered empty, as chevron
renders it) is reported, and every piece of output and every iteration is charged to the document's Budget. Own code because chevron has neither source spans nor limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..text import Span
from .limits import Budget

_SIGILS = {"!": "comment", "#": "section", "^": "inverted", "/": "end", ">": "partial", "&": "raw", "=": "delimiters"}
_MISSING = object()


class MustacheError(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


@dataclass
class _Node:
    kind: str  # text, variable, raw, section, inverted, partial
    key: str
    span: Span
    children: list["_Node"] = field(default_factory=list)


def parse(source: str) -> list[_Node]:
    """The template as a tree; standalone tag lines are removed as chevron removes them."""
    root: list[_Node] = []
    stack: list[tuple[_Node, list[_Node]]] = []
    out = root
    left, right = "{{", "}}"
    i = 0
    standalone = True  # the start of the template counts as the start of a line
    while i < len(source):
        at = source.find(left, i)
        if at == -1:
            out.append(_Node("text", source[i:], Span(i, len(source))))
            break
        literal = source[i:at]
        # A tag may be standalone when only spaces precede it on its line.
        line_start = "\n" in literal or standalone
        pad = literal.rsplit("\n", 1)[-1]
        standalone = line_start and (pad == "" or pad.isspace())
        start = at + len(left)
        triple = left == "{{" and source.startswith("{", start)
        close = source.find("}}}" if triple else right, start)
        if close == -1:
            raise MustacheError("unclosed tag", Span(at, len(source)))
        inner = source[start + (1 if triple else 0) : close]
        end = close + (3 if triple else len(right))
        kind = "raw" if triple else _SIGILS.get(inner[:1], "variable")
        key = (inner if triple or kind == "variable" else inner[1:]).strip()
        if kind == "delimiters":
            key = key.rstrip("=").strip()
        after = end
        if standalone and kind not in ("variable", "raw"):
            rest_end = source.find("\n", end)
            rest = source[end:] if rest_end == -1 else source[end:rest_end]
            if rest == "" or rest.isspace():
                after = len(source) if rest_end == -1 else rest_end + 1
                if kind != "partial":
                    literal = literal.rstrip(" ")
            else:
                standalone = False
        else:
            standalone = False
        if literal:
            out.append(_Node("text", literal, Span(i, i + len(literal))))
        span = Span(at, end)
        if kind in ("section", "inverted"):
            node = _Node(kind, key, span)
            out.append(node)
            stack.append((node, out))
            out = node.children
        elif kind == "end":
            if not stack or stack[-1][0].key != key:
                opened = f"'{stack[-1][0].key}'" if stack else "no section"
                raise MustacheError(f"{{{{/{key}}}}} closes {opened}", span)
            node, out = stack.pop()
            node.span = Span(node.span.start, end)
        elif kind == "delimiters":
            parts = key.split()
            if len(parts) != 2:
                raise MustacheError("a delimiter tag needs two delimiters", span)
            left, right = parts
        elif kind != "comment":
            out.append(_Node(kind, key, span))
        i = after
    if stack:
        raise MustacheError(f"{{{{#{stack[-1][0].key}}}}} is never closed", stack[-1][0].span)
    return root


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _lookup(key: str, scopes: list[Any]) -> Any:
    if key == ".":
        return scopes[0]
    for scope in scopes:
        value = scope
        found = True
        for part in key.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
                value = value[int(part)]
            else:
                found = False
                break
        if found:
            if value is False or (value == 0 and not isinstance(value, bool) and isinstance(value, (int, float))):
                return value
            return value or ""
    return _MISSING


def _text(value: Any) -> str:
    if value is None:
        return "None"
    return value if isinstance(value, str) else str(value)


def render(
    nodes: list[_Node],
    scopes: list[Any],
    budget: Budget,
    missing: Callable[[_Node], str],
    touched: set[str],
) -> str:
    out: list[str] = []
    _render(nodes, scopes, budget, missing, touched, out)
    return "".join(out)


def _emit(out: list[str], text: str, budget: Budget) -> None:
    budget.charge_output(len(text))
    out.append(text)


def _render(nodes: list[_Node], scopes: list[Any], budget: Budget, missing: Callable[[_Node], str], touched: set[str], out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            _emit(out, node.key, budget)
            continue
        budget.charge_step()
        value = _lookup(node.key, scopes)
        if node.kind in ("variable", "raw"):
            if value is _MISSING:
                touched.add(node.key.split(".")[0])
                _emit(out, missing(node), budget)
            elif value is True and node.key == "." and len(scopes) > 1:
                _emit(out, _escape(_text(scopes[1])) if node.kind == "variable" else _text(scopes[1]), budget)
            else:
                text = _text(value)
                _emit(out, _escape(text) if node.kind == "variable" else text, budget)
        elif node.kind == "section":
            if value is _MISSING or not value:
                continue
            if isinstance(value, (list, tuple)):
                for item in value:
                    budget.charge_step()
                    _render(node.children, [item, *scopes], budget, missing, touched, out)
            else:
                _render(node.children, [value, *scopes], budget, missing, touched, out)
        elif node.kind == "inverted":
            if value is _MISSING or not value:
                _render(node.children, [True, *scopes], budget, missing, touched, out)
        # partials: a .prompty file has no partials to load; chevron renders a missing one as nothing
