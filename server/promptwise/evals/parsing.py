"""Parsing suite and case files within bounds: nesting depth, and YAML aliases counted as what they expand to."""

from __future__ import annotations

from typing import Any

import yaml

from ..config import too_deep as config_too_deep

MAX_DEPTH = 64  # a suite's deepest real structure (a JSON Schema in an assertion) is far shallower


class LimitError(ValueError):
    """A file beyond a parsing limit; the message says which, and where."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def max_expanded_nodes(text: str) -> int:
    # A file without aliases has fewer nodes than characters; aliases may not take it further.
    return 100_000 + len(text)


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses nesting over MAX_DEPTH and alias fan-out (a "billion laughs" document)
    whose expansion would exceed `max_nodes`, before anything walks the expanded tree."""

    def __init__(self, text: str, max_depth: int = MAX_DEPTH, max_nodes: int | None = None) -> None:
        super().__init__(text)
        self._depth = 0
        self._max_depth = max_depth
        self._max_nodes = max_nodes if max_nodes is not None else max_expanded_nodes(text)
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._count(self._sizes.get(id(node), 1), mark)
            return node
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > self._max_depth:
            raise LimitError(f"is nested more than {self._max_depth} levels deep", mark)
        start = self._expanded
        self._count(1, mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._sizes[id(node)] = self._expanded - start
        return node

    def _count(self, nodes: int, mark: Any) -> None:
        self._expanded += nodes
        if self._expanded > self._max_nodes:
            raise LimitError(f"has aliases that expand to more than {self._max_nodes:,} values (an alias bomb?); it was not read", mark)


def compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The root node and the constructed document; raises yaml.YAMLError or LimitError."""
    loader = BoundedLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when a parsed value (JSON, TOML) nests deeper than `limit`."""
    return config_too_deep(value, limit)