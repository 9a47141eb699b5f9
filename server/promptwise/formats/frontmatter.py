"""YAML frontmatter between --- lines, parsed with the source span of every key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import yaml

from ..text import Span
from .document import FrontmatterKey
from .limits import DEFAULT_LIMITS, Limits, size_words

_OPEN = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)


@dataclass
class Frontmatter:
    data: dict[str, Any] = field(default_factory=dict)
    span: Span | None = None  # from the opening --- to the end of the closing line
    body_start: int = 0
    keys: dict[str, FrontmatterKey] = field(default_factory=dict)
    error: tuple[str, Span] | None = None

    def shifted(self, delta: int) -> "Frontmatter":
        """This frontmatter as read from a text with `delta` more characters before it."""
        keys = {k: replace(v, span=v.span.shift(delta), value_span=v.value_span.shift(delta)) for k, v in self.keys.items()}
        error = (self.error[0], self.error[1].shift(delta)) if self.error is not None else None
        span = self.span.shift(delta) if self.span is not None else None
        return replace(self, span=span, body_start=self.body_start + delta, keys=keys, error=error)


class _Refused(Exception):
    """YAML that would be too costly to use: nested too deep, or an alias bomb."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def parse_frontmatter(text: str, limits: Limits = DEFAULT_LIMITS) -> Frontmatter:
    """The frontmatter of `text`; its YAML is parsed once per distinct frontmatter, so an edit in the
    body (every keystroke in an editor) costs a copy instead of a parse (~1.5 ms with PyYAML)."""
    opening = _OPEN.match(text)
    closing = _CLOSE.search(text, opening.end()) if opening else None
    if closing is None:
        return _parse(text, limits)
    return _copied(_parse_head(text[: closing.end()], limits))


def _copied(head: Frontmatter) -> Frontmatter:
    """A copy of a cached frontmatter that its reader may change: the containers are copied, the rest is
    immutable (YAML scalars, spans). copy.deepcopy took a millisecond a keystroke on a short frontmatter."""
    memo: dict[int, Any] = {}

    def copied(value: Any) -> Any:
        if not isinstance(value, (dict, list, set)):
            return value
        if id(value) in memo:  # a YAML alias: shared, as in the parsed data
            return memo[id(value)]
        out: Any
        if isinstance(value, set):
            out = memo[id(value)] = set(value)  # members are hashable, so immutable
        elif isinstance(value, list):
            out = memo[id(value)] = []
            out.extend(copied(v) for v in value)
        else:
            out = memo[id(value)] = {}
            out.update((k, copied(v)) for k, v in value.items())
        return out

    keys = {name: replace(key, value=copied(key.value)) for name, key in head.keys.items()}
    return replace(head, data=copied(head.data), keys=keys)


@lru_cache(maxsize=64)
def _parse_head(head: str, limits: Limits) -> Frontmatter:
    return _parse(head, limits)


def load_data(text: str, limits: Limits = DEFAULT_LIMITS, json_text: bool = False) -> tuple[Any, str | None]:
    """The data of a YAML or JSON file a prompt pulls in (a Prompty sample file), within the same limits
    as frontmatter; returns (data, None) or (None, why)."""
    try:
        if json_text:
            data = json.loads(text)
            if _data_depth(data, limits.yaml_depth + 1) > limits.yaml_depth:
                return None, f"it is nested more than {limits.yaml_depth} deep"
            return data, None
        return _load(text, limits)[1], None
    except _Refused as exc:
        return None, str(exc)
    except RecursionError:
        return None, f"it is nested more than {limits.yaml_depth} deep"
    except (ValueError, OverflowError, TypeError, yaml.YAMLError) as exc:
        return None, str(exc)


def _parse(text: str, limits: Limits) -> Frontmatter:
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
        node, data = _load(source, limits)
    except _Refused as exc:
        offset = yaml_start + exc.index
        end = text.find("\n", offset)
        result.error = (f"invalid YAML in frontmatter: {exc}; it was not used", Span(offset, end if end != -1 else len(text)))
        return result
    except RecursionError:
        message = f"invalid YAML in frontmatter: it is nested more than {limits.yaml_depth} deep; it was not used"
        result.error = (message, Span(yaml_start, closing.start()))
        return result
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
    except (ValueError, OverflowError, TypeError) as exc:  # a value PyYAML cannot build: a 5,000-digit int, month 13
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


def _load(source: str, limits: Limits = DEFAULT_LIMITS) -> tuple[yaml.Node | None, Any]:
    """The YAML's node tree (for the spans of keys) and data. libyaml, when PyYAML was built with it, parses
    ~8x faster than the pure-Python loader, with the same marks (offsets in characters); its error
    messages say less ("found undefined alias" without the name), so a broken frontmatter is parsed
    again by the pure-Python loader for the message."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _load_with(fast, source, limits)
        except yaml.YAMLError:
            pass
    return _load_with(yaml.SafeLoader, source, limits)


def _load_with(loader_class: Any, source: str, limits: Limits) -> tuple[yaml.Node | None, Any]:
    if _may_be_deep(source, limits.yaml_depth):
        _check_depth(loader_class, source, limits.yaml_depth)
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in source:  # only anchors make aliases, and only aliases multiply
            _check_expansion(node, limits)
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _may_be_deep(source: str, depth: int) -> bool:
    """Cheap test before the event scan: deep YAML needs many brackets, or a line indented (or started
    with `- ` / `? ` runs) at least as far as the depth. Normal frontmatter stays on the fast path."""
    if source.count("[") + source.count("{") >= depth:
        return True
    return any(len(line) - len(line.lstrip(" -?")) >= depth for line in source.splitlines())


def _check_depth(loader_class: Any, source: str, limit: int) -> None:
    """Refuse YAML nested deeper than `limit` from its events, before the (recursive) composer runs."""
    loader = loader_class(source)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limit:
                    raise _Refused(f"it is nested more than {limit} deep", event.start_mark.index)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, limits: Limits) -> None:
    """Refuse an alias bomb: the characters and depth the YAML stands for once every alias is expanded,
    computed once per node (an alias is the same node object), without recursion."""
    done: dict[int, tuple[int, int]] = {}  # node -> (expanded size, depth)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            kids = _children(node)
            size = 1 + sum(done[id(k)][0] for k in kids)
            depth = 1 + max((done[id(k)][1] for k in kids), default=0)
            done[key] = (size, depth)
            if size > limits.yaml_expanded:
                raise _Refused(
                    f"its aliases (*name) expand it to more than {size_words(limits.yaml_expanded)}", node.start_mark.index
                )
            if depth > limits.yaml_depth:
                raise _Refused(f"its aliases nest it more than {limits.yaml_depth} deep", node.start_mark.index)
            continue
        if key in done:
            continue
        if key in open_nodes:
            raise _Refused("an alias refers to the list or mapping that contains it", node.start_mark.index)
        if isinstance(node, yaml.ScalarNode):
            done[key] = (len(node.value) + 1, 1)
            continue
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in done)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _data_depth(data: Any, stop: int) -> int:
    """How deep lists and dicts nest in `data`, counting no further than `stop`."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            if depth >= stop:
                return deepest
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


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


def unknown_key_hint(model: Any, loc: list[str]) -> str:
    """"; did you mean 'budget'?" for an unknown key at `loc` (`["promptwise", "budgett"]`) of a frontmatter
    model, from the keys its table takes; "" when none is close. For the extra-key message of validation."""
    from ..catalog.aliases import did_you_mean, keys_at

    return did_you_mean(loc[-1], keys_at(model, loc[:-1])) if loc else ""
