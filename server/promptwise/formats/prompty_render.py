"""Rendering a Prompty body: sandboxed Jinja2 or Mustache, within the document's Budget, recording which
names the rendering actually used (a name in a branch that is not rendered is no finding)."""

from __future__ import annotations

import contextvars
import re
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta

from . import prompty_mustache as mustache
from .limits import Budget
from .sandbox import PromptSandbox, render_within
from .tag_words import find_pair

_TOUCHED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("promptwise_prompty_touched", default=None)
TEMPLATE_MARK = re.compile(r"\{\{|\{%|\{#")


def _touch(name: str | None) -> None:
    touched = _TOUCHED.get()
    if touched is not None and name:
        touched.add(name)


class _Recording(jinja2.Undefined):
    """A name with no value renders empty, as both Prompty runtimes render it, and is recorded as used
    when the rendering reads it (so only names a rendered branch reads are findings)."""

    def __str__(self) -> str:
        _touch(self._undefined_name)
        return ""

    def __iter__(self):
        _touch(self._undefined_name)
        return iter(())

    def __bool__(self) -> bool:
        _touch(self._undefined_name)
        return False

    def __len__(self) -> int:
        _touch(self._undefined_name)
        return 0

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        _touch(self._undefined_name)
        return super()._fail_with_undefined_error(*args, **kwargs)

    __getattr__ = jinja2.Undefined.__getattr__


# Sandboxed: a template is data and may only read its sample values, within the document's budget.
ENV = PromptSandbox(_Recording)

# An editor sends a new version of the edited section on every keystroke: caching every version (even of
# sections without a template) kept ~100 MB of dead keys after a few hundred keystrokes in a 1 MiB file.
_CACHED_SOURCE = 64 * 1024


def compile_jinja(source: str) -> jinja2.Template:
    return _compile_cached(source) if len(source) <= _CACHED_SOURCE else ENV.from_string(source)


@lru_cache(maxsize=64)
def _compile_cached(source: str) -> jinja2.Template:
    return ENV.from_string(source)


def undeclared(source: str) -> frozenset[str]:
    """The names a Jinja2 template reads from its values (not its own loop variables or sets)."""
    if not TEMPLATE_MARK.search(source):
        return frozenset()
    return _undeclared_cached(source) if len(source) <= _CACHED_SOURCE else _find_undeclared(source)


@lru_cache(maxsize=64)
def _undeclared_cached(source: str) -> frozenset[str]:
    return _find_undeclared(source)


def _find_undeclared(source: str) -> frozenset[str]:
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse(source)))


def render(source: str, values: dict[str, Any], budget: Budget, is_mustache: bool, touched: set[str]) -> str:
    """`source` rendered with `values`; the names it read with no value are added to `touched`."""
    if is_mustache:
        if find_pair(source, "{{") < 0:
            return source
        nodes = mustache.parse(source)
        missing = lambda node: ""  # noqa: E731 (empty, as chevron renders a name with no value)
        return mustache.render(nodes, [values], budget, missing, touched)
    if not TEMPLATE_MARK.search(source):
        return source
    token = _TOUCHED.set(touched)
    try:
        return render_within(compile_jinja(source), values, budget)
    finally:
        _TOUCHED.reset(token)


def mustache_names(source: str) -> frozenset[str]:
    """The top-level names a Mustache template reads (best effort: a syntax error gives none)."""
    try:
        nodes = mustache.parse(source)
    except mustache.MustacheError:
        return frozenset()
    names: set[str] = set()

    def walk(items: list[Any], depth: int) -> None:
        for node in items:
            if node.kind != "text" and node.key != ".":
                if depth == 0:
                    names.add(node.key.split(".")[0])
            walk(node.children, depth + (node.kind == "section"))

    walk(nodes, 0)
    return frozenset(names)
