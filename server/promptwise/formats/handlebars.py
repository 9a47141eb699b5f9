"""The Mustache/Handlebars subset Prompty's mustache templates use: a parser that keeps source spans,
and a renderer. (Dotprompt bodies render with dotpromptz-handlebars instead; see dotprompt_render.)

Covers mustaches (`{{x}}`, `{{{x}}}`, no HTML escaping as Dotprompt sets noEscape), comments,
whitespace control (`~`), standalone-line stripping, `#if`/`#unless`/`#each`/`#with` with `else`,
partials (`{{> name}}`) and helper calls with string, number and hash arguments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..text import Span
from .limits import Budget
from .tag_words import find_pair

_MAX_BLOCK_DEPTH = 40  # blocks within blocks; rendering recurses once per level


class TemplateError(ValueError):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


@dataclass
class Text:
    value: str
    span: Span


@dataclass
class Expr:
    name: str  # helper name or path
    args: list[Any] = field(default_factory=list)  # ("path", str) | ("lit", value)
    hash: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mustache:
    expr: Expr
    span: Span
    raw: bool = False


@dataclass
class Partial:
    name: str
    span: Span
    name_span: Span


@dataclass
class Block:
    expr: Expr
    span: Span
    body: list[Any] = field(default_factory=list)
    inverse: list[Any] = field(default_factory=list)


_ARG = re.compile(r"""\s*(?:(?P<key>[\w@.-]+)=)?(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<word>[^\s=]+))""")
_STANDALONE_KINDS = {"#", "/", "^", "else", ">", "!"}


def _parse_expr(source: str, span: Span) -> Expr:
    parts: list[tuple[str | None, Any]] = []
    pos = 0
    source = source.strip()
    while pos < len(source):
        m = _ARG.match(source, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot read '{source}'", span)
        pos = m.end()
        if m.group("dq") is not None or m.group("sq") is not None:
            value: Any = ("lit", (m.group("dq") if m.group("dq") is not None else m.group("sq")))
        else:
            word = m.group("word")
            if re.fullmatch(r"-?\d+(\.\d+)?", word):
                value = ("lit", float(word) if "." in word else int(word))
            elif word in ("true", "false"):
                value = ("lit", word == "true")
            else:
                value = ("path", word)
        parts.append((m.group("key"), value))
    if not parts or parts[0][0] is not None or parts[0][1][0] != "path":
        raise TemplateError(f"expected a name in '{{{{{source}}}}}'", span)
    expr = Expr(parts[0][1][1])
    for key, value in parts[1:]:
        if key is None:
            expr.args.append(value)
        else:
            expr.hash[key] = value
    return expr


@dataclass
class _Token:
    kind: str  # text, mustache, raw, open, close, inverse, else, partial, comment
    span: Span
    body: str = ""
    lstrip: bool = False
    rstrip: bool = False


class _Finder:
    """`str.find` for positions that only move forward: each needle's last answer is reused while it is
    still ahead, so a file of unclosed `{{` costs one scan per needle, not one per `{{`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.last: dict[str, tuple[int, int]] = {}  # needle -> (searched from, found at or -1)

    def find(self, needle: str, start: int) -> int:
        seen = self.last.get(needle)
        if seen is not None and seen[0] <= start and (seen[1] == -1 or seen[1] >= start):
            return seen[1]
        found = find_pair(self.source, needle, start) if len(needle) == 2 else self.source.find(needle, start)
        self.last[needle] = (start, found)
        return found


_KINDS = {"#": "open", "/": "close", "^": "inverse", ">": "partial", "&": "raw"}


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _close(finder: _Finder, start: int) -> tuple[int, int, bool]:
    """Where `.*?(~)?}}` from `start` ends: (end of the body, end of the tag, stripped with ~), or end -1."""
    at = finder.find("}}", start)
    if at == -1:
        return -1, -1, False
    if at - 1 >= start and finder.source[at - 1] == "~":
        return at - 1, at + 2, True
    return at, at + 2, False


def _tag(source: str, finder: _Finder, p: int) -> tuple[_Token, int] | None:
    """The tag starting with `{{` at `p` (the first form that closes, in Handlebars' order), or None."""
    q = p + 2
    lstrip = source.startswith("~", q)
    q += lstrip
    if source.startswith("!--", q):
        ends = [e for e in (finder.find("--}}", q + 3), finder.find("--~}}", q + 3)) if e != -1]
        if ends:
            end = min(ends)
            rstrip = source.startswith("--~", end)
            return _Token("comment", Span(p, end + 4 + rstrip), "", lstrip, rstrip), end + 4 + rstrip
    if source.startswith("!", q):
        body_end, end, rstrip = _close(finder, q + 1)
        if end == -1:
            return None
        return _Token("comment", Span(p, end), "", lstrip, rstrip), end
    if source.startswith("{", q):
        ends = [e for e in (finder.find("}}}", q + 1), finder.find("}~}}", q + 1)) if e != -1]
        if ends:
            end = min(ends)
            rstrip = source.startswith("}~", end)
            stop = end + 3 + rstrip
            return _Token("raw", Span(p, stop), source[q + 1 : end], lstrip, rstrip), stop
    kind = ""
    if source.startswith("else", q) and not (q + 4 < len(source) and _is_word(source[q + 4])):
        kind = "else"
    elif q < len(source) and source[q] in _KINDS:
        kind = source[q]
    body_end, end, rstrip = _close(finder, q + len(kind))
    if end == -1:
        return None
    name = _KINDS.get(kind, "else" if kind else "mustache")
    return _Token(name, Span(p, end), source[q + len(kind) : body_end], lstrip, rstrip), end


def _tokenize(source: str) -> tuple[list[_Token], int | None]:
    """Text and tags, in one forward pass (linear in the source, even for thousands of unclosed `{{`),
    and where a `{{` that is never closed starts (None when every one is)."""
    tokens: list[_Token] = []
    finder = _Finder(source)
    pos = 0
    unclosed = None
    while True:
        p = find_pair(source, "{{", pos)
        if p == -1:
            break
        found = _tag(source, finder, p)
        if found is None:  # no `}}` after this point: no later `{{` closes either
            unclosed = p
            break
        tok, end = found
        if p > pos:
            tokens.append(_Token("text", Span(pos, p), source[pos:p]))
        tokens.append(tok)
        pos = end
    if pos < len(source):
        tokens.append(_Token("text", Span(pos, len(source)), source[pos:]))
    _strip_whitespace(tokens)
    return tokens, unclosed


def _strip_whitespace(tokens: list[_Token]) -> None:
    """Apply `~` and Handlebars' rule that a block tag alone on its line leaves no blank line."""
    for i, tok in enumerate(tokens):
        if tok.kind == "text":
            continue
        prev = tokens[i - 1] if i > 0 and tokens[i - 1].kind == "text" else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].kind == "text" else None
        if tok.lstrip and prev is not None:
            prev.body = prev.body.rstrip()
        if tok.rstrip and nxt is not None:
            nxt.body = nxt.body.lstrip()
        standalone_kind = tok.kind in ("open", "close", "inverse", "else", "partial", "comment")
        if not standalone_kind:
            continue
        before_ok = (prev is None and i == 0) or (prev is not None and re.search(r"(^|\n)[ \t]*$", prev.body) is not None)
        after_ok = (nxt is None and i == len(tokens) - 1) or (nxt is not None and re.match(r"[ \t]*(\r?\n|$)", nxt.body) is not None)
        if i > 0 and prev is None:
            before_ok = False
        if i < len(tokens) - 1 and nxt is None:
            after_ok = False
        if before_ok and after_ok:
            if prev is not None:
                prev.body = _strip_line_end(prev.body)
            if nxt is not None:
                nxt.body = re.sub(r"\A[ \t]*(\r?\n)?", "", nxt.body)


def _strip_line_end(text: str) -> str:
    """`re.sub(r"[ \t]*$", "", text)` without its quadratic backtracking on long runs of spaces: spaces and
    tabs go from the end, and from before a final newline."""
    if text.endswith("\n"):
        return text[:-1].rstrip(" \t") + "\n"
    return text.rstrip(" \t")


def parse(source: str) -> list[Any]:
    """Parse a template into nodes whose spans point into `source`."""
    root: list[Any] = []
    stack: list[tuple[Block, list[Any], str]] = []
    current = root
    tokens, unclosed = _tokenize(source)
    if unclosed is not None:
        raise TemplateError("this {{ is never closed with }}", Span(unclosed, unclosed + 2))
    for tok in tokens:
        if tok.kind == "text":
            if tok.body:
                current.append(Text(tok.body, tok.span))
        elif tok.kind == "comment":
            continue
        elif tok.kind in ("mustache", "raw"):
            current.append(Mustache(_parse_expr(tok.body, tok.span), tok.span, raw=tok.kind == "raw"))
        elif tok.kind == "partial":
            m = re.match(r"\s*([\w./-]+)", tok.body)
            if not m:
                raise TemplateError("a partial needs a name: {{> name}}", tok.span)
            start = tok.span.start + source[tok.span.start : tok.span.end].index(m.group(1))
            current.append(Partial(m.group(1), tok.span, Span(start, start + len(m.group(1)))))
        elif tok.kind in ("open", "inverse"):
            expr = _parse_expr(tok.body, tok.span)
            opened = expr.name  # {{^x}} closes with {{/x}}
            if tok.kind == "inverse":
                expr = Expr("unless", [("path", expr.name)])
            block = Block(expr, tok.span)
            current.append(block)
            if len(stack) >= _MAX_BLOCK_DEPTH:
                raise TemplateError(f"blocks are nested more than {_MAX_BLOCK_DEPTH} deep", tok.span)
            stack.append((block, current, opened))
            current = block.body
        elif tok.kind == "else":
            if not stack:
                raise TemplateError("{{else}} outside a block", tok.span)
            current = stack[-1][0].inverse
        elif tok.kind == "close":
            name = tok.body.strip()
            if not stack:
                raise TemplateError(f"{{{{/{name}}}}} closes a block that was never opened", tok.span)
            block, parent, opened = stack.pop()
            if name != opened:
                raise TemplateError(f"{{{{/{name}}}}} does not match {{{{#{opened}}}}}", tok.span)
            block.span = Span(block.span.start, tok.span.end)
            current = parent
    if stack:
        block, _, name = stack[-1]
        raise TemplateError(f"{{{{#{name}}}}} is never closed with {{{{/{name}}}}}", block.span)
    return root


Helper = Callable[..., str]


@dataclass
class RenderContext:
    helpers: dict[str, Helper]
    partial: Callable[[Partial, Any], str]
    missing: Callable[[Mustache], str]
    budget: Budget | None = None  # output and iterations left; None renders without limits


def lookup(stack: list[Any], path: str) -> tuple[bool, Any]:
    if path in ("this", "."):
        return True, stack[-1]
    depth = 1
    while path.startswith("../"):
        path = path[3:]
        depth += 1
    scope = stack[-depth] if depth <= len(stack) else stack[0]
    if path.startswith("this."):
        path = path[5:]
    value = scope
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            # Handlebars falls back to the root scope for top-level names.
            if value is scope and depth == 1 and len(stack) > 1:
                return lookup(stack[:1], path)
            return False, None
    return True, value


def _truthy(value: Any) -> bool:
    return bool(value) and value != []


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(nodes: list[Any], stack: list[Any], ctx: RenderContext, nested: bool = False) -> str:
    """The text of `nodes`. Values, and text inside blocks and partials (`nested`), are charged to the
    budget as they are made; top-level text is the file itself and already within max_file_size."""
    out: list[str] = []
    budget = ctx.budget
    for node in nodes:
        if isinstance(node, Text):
            if nested and budget is not None:
                budget.charge_output(len(node.value))
            out.append(node.value)
        elif isinstance(node, Mustache):
            text = _render_mustache(node, stack, ctx)
            if budget is not None:
                budget.charge_output(len(text))
            out.append(text)
        elif isinstance(node, Partial):
            if budget is not None:
                budget.charge_step()
            out.append(ctx.partial(node, stack[-1]))
        elif isinstance(node, Block):
            out.append(_render_block(node, stack, ctx))
    return "".join(out)


def _each(items: Any, body: list[Any], stack: list[Any], ctx: RenderContext) -> str:
    out: list[str] = []
    for item in items:
        if ctx.budget is not None:
            ctx.budget.charge_step()
        out.append(render(body, stack + [item], ctx, True))
    return "".join(out)


def _arg_values(expr: Expr, stack: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    def value(arg: Any) -> Any:
        kind, v = arg
        return lookup(stack, v)[1] if kind == "path" else v

    return [value(a) for a in expr.args], {k: value(v) for k, v in expr.hash.items()}


def _render_mustache(node: Mustache, stack: list[Any], ctx: RenderContext) -> str:
    expr = node.expr
    helper = ctx.helpers.get(expr.name)
    if helper is not None and (expr.args or expr.hash or expr.name in ("history",)):
        args, kwargs = _arg_values(expr, stack)
        return helper(*args, **kwargs)
    if helper is not None and not expr.args:
        return helper()
    found, value = lookup(stack, expr.name)
    if not found:
        return ctx.missing(node)
    return _to_text(value)


def _render_block(node: Block, stack: list[Any], ctx: RenderContext) -> str:
    name = node.expr.name
    args, _ = _arg_values(node.expr, stack)
    subject = args[0] if args else None
    if name == "if":
        return render(node.body if _truthy(subject) else node.inverse, stack, ctx, True)
    if name == "unless":
        return render(node.inverse if _truthy(subject) else node.body, stack, ctx, True)
    if name == "with":
        return render(node.body, stack + [subject], ctx, True) if _truthy(subject) else render(node.inverse, stack, ctx, True)
    if name == "each":
        items = subject.values() if isinstance(subject, dict) else (subject or [])
        if not items:
            return render(node.inverse, stack, ctx, True)
        return _each(items, node.body, stack, ctx)
    if name in ("ifEquals", "unlessEquals") and len(args) >= 2:
        equal = args[0] == args[1]
        take = equal if name == "ifEquals" else not equal
        return render(node.body if take else node.inverse, stack, ctx, True)
    # Any other name is a Mustache-style section over the value it names.
    found, value = lookup(stack, name)
    if not found or not _truthy(value):
        return render(node.inverse, stack, ctx, True)
    if isinstance(value, list):
        return _each(value, node.body, stack, ctx)
    return render(node.body, stack + [value] if isinstance(value, dict) else stack, ctx, True)


def walk(nodes: list[Any], in_block: bool = False):
    """Yield (node, inside_a_block) for every node, depth first."""
    for node in nodes:
        yield node, in_block
        if isinstance(node, Block):
            yield from walk(node.body, True)
            yield from walk(node.inverse, True)
