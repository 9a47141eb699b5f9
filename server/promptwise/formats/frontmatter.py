"""YAML frontmatter between --- lines, parsed with the source span of every key."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from ..text import Span
from .document import FrontmatterKey

_OPEN = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)


@dataclass
class Frontmatter:
    data: dict[str, Any] = field(default_factory=dict)
    span: Span | None = None  # from the opening --- to the end of the closing line
    body_start: int = 0
    keys: dict[str, FrontmatterKey] = field(default_factory=dict)
    error: tuple[str, Span] | None = None


def parse_frontmatter(text: str) -> Frontmatter:
    """The frontmatter of `text`; its YAML is parsed once per distinct frontmatter, so an edit in the
    body (every keystroke in an editor) costs a copy instead of a parse (~1.5 ms with PyYAML)."""
    opening = _OPEN.match(text)
    closing = _CLOSE.search(text, opening.end()) if opening else None
    if closing is None:
        return _parse(text)
    return copy.deepcopy(_parse_head(text[: closing.end()]))


@lru_cache(maxsize=64)
def _parse_head(head: str) -> Frontmatter:
    return _parse(head)


def _parse(text: str) -> Frontmatter:
    opening = _OPEN.match(text)
    if not opening:
        return Frontmatter()
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        line_end = opening.end()
        return Frontmatter(
            span=Span(0, len(text)),
            body_start=len(text),
            error=("frontmatter opened with --- on line 1 is never closed with a --- line", Span(0, line_end - 1)),
        )
    yaml_start = opening.end()
    source = text[yaml_start : closing.start()]
    result = Frontmatter(span=Span(0, closing.end()), body_start=closing.end())
    try:
        node, data = _load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = yaml_start + (mark.index if mark is not None else 0)
        end = text.find("\n", offset)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        result.error = (f"invalid YAML in frontmatter: {problem}", Span(offset, end if end != -1 else len(text)))
        return result
    except yaml.YAMLError as exc:
        result.error = (f"invalid YAML in frontmatter: {exc}", Span(yaml_start, closing.start()))
        return result
    if data is None:
        return result
    if not isinstance(data, dict):
        result.error = (
            f"frontmatter must be a mapping of keys to values, not a {type(data).__name__}",
            Span(yaml_start, closing.start()),
        )
        return result
    result.data = data
    _collect_keys(node, yaml_start, "", result.keys, depth=0)
    return result


def _load(source: str) -> tuple[yaml.Node | None, Any]:
    """The YAML's node tree (for the spans of keys) and data. libyaml, when PyYAML was built with it, parses
    ~8x faster than the pure-Python loader, with the same marks (offsets in characters); its error
    messages say less ("found undefined alias" without the name), so a broken frontmatter is parsed
    again by the pure-Python loader for the message."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _load_with(fast, source)
        except yaml.YAMLError:
            pass
    return _load_with(yaml.SafeLoader, source)


def _load_with(loader_class: Any, source: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _collect_keys(node: yaml.Node, base: int, prefix: str, keys: dict[str, FrontmatterKey], depth: int) -> None:
    if not isinstance(node, yaml.MappingNode) or depth > 4:
        return
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        path = f"{prefix}{key_node.value}"
        value = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        keys[path] = FrontmatterKey(
            key=path,
            span=Span(base + key_node.start_mark.index, base + key_node.end_mark.index),
            value_span=Span(base + value_node.start_mark.index, base + value_node.end_mark.index),
            value=value,
        )
        _collect_keys(value_node, base, path + ".", keys, depth + 1)
