"""How much a Dotprompt render could cost, worked out from the library's nodes before anything renders.

dotpromptz-handlebars has no output or time budget (its only guard is a nesting depth of 100), so a
`{{> a}}` fan-out or `{{#each}}` within `{{#each}}` over a long list could run for hours. The bound is
conservative: a loop body counts as many times as the longest list or mapping anywhere in the data, each
`{{value}}` as long as the largest value the data holds, and a partial as its own bound each time it is
called. A partial that reaches itself again is a cycle (dotpromptz refuses those too): that reference is
cut, and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from dotpromptz_handlebars import Block, InlinePartial, Mustache, Partial, PartialBlock, Text

from .dotprompt_scan import PARTIAL_SUFFIX
from .limits import LimitExceeded, Limits, size_words

_CAP = 10**15  # past every limit; keeps the arithmetic on small numbers


@dataclass
class Cost:
    output: int = 0
    steps: int = 0  # loop iterations and partial calls
    calls: int = 0  # partial expansions
    chars: int = 0  # partial source characters expanded

    def add(self, other: "Cost", times: int = 1) -> None:
        self.output = min(_CAP, self.output + other.output * times)
        self.steps = min(_CAP, self.steps + other.steps * times)
        self.calls = min(_CAP, self.calls + other.calls * times)
        self.chars = min(_CAP, self.chars + other.chars * times)


@dataclass
class Source:
    """A partial the render may call: its nodes, and how long its file is."""

    program: list[Any]
    size: int


@dataclass
class Bound:
    total: Cost
    per_reference: dict[int, Cost] = field(default_factory=dict)
    cycles: list[tuple[int, list[str]]] = field(default_factory=list)  # (reference, partial names looping)
    cut: set[int] = field(default_factory=set)  # ids of the Partial nodes that close a cycle


class _Walk:
    def __init__(self, partials: dict[str, Source], data: Any, limits: Limits) -> None:
        self.partials = partials
        self.limits = limits
        self.data = data
        self.widest = max(1, _widest(data))
        self.value_size = _json_size(data) + 64 + max((_longest_literal(s.program) for s in partials.values()), default=0)
        self.memo: dict[str, Cost] = {}
        self.chain: list[str] = []
        self.reference: int | None = None
        self.bound = Bound(Cost())
        self.inline: dict[str, list[Any]] = {}
        self.fallbacks: list[list[Any]] = []
        self.in_fallback = 0

    def nodes(self, nodes: list[Any], top: bool) -> Cost:
        """`top`: the file's own text, rendered once with the inputs as the scope."""
        cost = Cost()
        for node in nodes:
            if isinstance(node, Text):
                if not top:
                    cost.output += len(node.value)
            elif isinstance(node, Mustache):
                cost.output += self.mustache(node, top)
            elif isinstance(node, Block):
                self.block(node, top, cost)
            elif isinstance(node, Partial):
                cost.add(self.partial(node, node.name, node.indent))
            elif isinstance(node, PartialBlock):
                self.fallbacks.append(node.body)
                self.in_fallback += 1
                fallback = self.nodes(node.body, False)
                self.in_fallback -= 1
                cost.add(fallback)
                cost.add(self.partial(node, node.name, ""))
            elif isinstance(node, InlinePartial):
                self.inline[node.name] = node.body
        return cost

    def mustache(self, node: Mustache, top: bool) -> int:
        call = node.call
        if call["name"] == "json":
            return 0  # the json helper charges the budget itself, indent included
        if top and not call["args"] and not call["hash"] and not call["name"].startswith(("@", ".", "(")):
            value = _lookup(self.data, call["name"])
            return 16 + (_json_size(value) if value is not None else 0)
        return self.value_size

    def block(self, node: Block, top: bool, cost: Cost) -> None:
        name = node.call["name"]
        called = node.call["args"] or node.call["hash"] or node.call.get("literal")
        if name == "each" or (name not in ("if", "unless", "with") and not called):
            # #each, or a section over a value: as many times as the longest list or mapping
            cost.add(self.nodes(node.body, False), self.widest)
            cost.steps = min(_CAP, cost.steps + self.widest)
            cost.add(self.nodes(node.inverse, top))
            return
        # a condition, #with or a helper: each body at most once (stand-in helpers render theirs once)
        cost.add(self.nodes(node.body, top and name != "with"))
        cost.add(self.nodes(node.inverse, top))

    def partial(self, node: Any, name: str, indent: str) -> Cost:
        cost = Cost(steps=1)
        if name == "@partial-block":
            if self.in_fallback:
                raise LimitExceeded("rendering refused: a partial block's body includes @partial-block, which repeats without end")
            for body in list(self.fallbacks):
                self.in_fallback += 1
                cost.add(self.nodes(body, False))
                self.in_fallback -= 1
            return cost
        if name.startswith("("):  # a computed name: any of the partials
            for known in list(self.partials):
                cost.add(self.named(node, known))
            return cost
        base, _, index = name.rpartition(PARTIAL_SUFFIX)
        if base and index.isdigit():
            outer, self.reference = self.reference, int(index)
            inner = self.named(node, base)
            self.reference = outer
            self.bound.per_reference.setdefault(int(index), Cost()).add(inner)
        else:
            inner = self.named(node, name)
        if indent:
            inner = replace(inner, output=min(_CAP, inner.output + len(indent) * (inner.output + 1)))
        cost.add(inner)
        return cost

    def named(self, node: Any, name: str) -> Cost:
        if name in self.inline:
            if name in self.chain:
                self.cycle(node, name)
                return Cost()
            self.chain.append(name)
            try:
                return self.nodes(self.inline[name], False)
            finally:
                self.chain.pop()
        source = self.partials.get(name)
        if source is None:
            return Cost()
        if name in self.chain:
            self.cycle(node, name)
            return Cost()
        if name in self.memo:
            found = self.memo[name]
        else:
            if len(self.chain) >= self.limits.partial_depth:
                exc = LimitExceeded(f"partials stopped at {self.limits.partial_depth} levels deep: {name} was not expanded")
                exc.reference = self.reference  # type: ignore[attr-defined]
                raise exc
            self.chain.append(name)
            try:
                found = self.nodes(source.program, False)
            finally:
                self.chain.pop()
            self.memo[name] = found  # cut references stay cut in every later call
        cost = Cost(calls=1, chars=source.size)
        cost.add(found)
        return cost

    def cycle(self, node: Any, name: str) -> None:
        self.bound.cut.add(id(node))
        looping = self.chain[self.chain.index(name) :] + [name]
        self.bound.cycles.append((self.reference if self.reference is not None else -1, looping))


def bound(program: list[Any], partials: dict[str, Source], data: Any, limits: Limits) -> Bound:
    """The worst case of rendering `program`; raises LimitExceeded when it goes past a limit."""
    walk = _Walk(partials, data, limits)
    walk.value_size = max(walk.value_size, _json_size(data) + 64 + _longest_literal(program))
    walk.bound.total = walk.nodes(program, True)
    total = walk.bound.total
    heaviest = max(walk.bound.per_reference, key=lambda k: walk.bound.per_reference[k].calls, default=None)
    for over, message in (
        (total.calls > limits.include_count, f"partials stopped after {limits.include_count:,} expansions (derived from max_file_size)"),
        (total.chars > limits.include_bytes, f"partials stopped at {size_words(limits.include_bytes)} of partial text (max_file_size)"),
    ):
        if over:
            exc = LimitExceeded(message)
            exc.reference = heaviest  # type: ignore[attr-defined]
            raise exc
    if total.steps > limits.iterations:
        raise LimitExceeded(
            f"rendering refused: its loops and partials could take more than {limits.iterations:,} loop iterations "
            "and calls (derived from max_file_size); the message is counted as written"
        )
    if total.output > limits.output:
        raise LimitExceeded(
            f"rendering refused: it could make more than {size_words(limits.output)} of output "
            "(the limit is max_file_size); the message is counted as written"
        )
    return walk.bound


def without(program: list[Any], cut: set[int]) -> list[Any]:
    """`program` with the cut Partial nodes left out (copies only what holds them)."""
    out: list[Any] = []
    changed = False
    for node in program:
        if id(node) in cut:
            changed = True
            continue
        if isinstance(node, Block):
            body, inverse = without(node.body, cut), without(node.inverse, cut)
            if body is not node.body or inverse is not node.inverse:
                node, changed = Block(node.call, body, inverse), True
        elif isinstance(node, (PartialBlock, InlinePartial)):
            body = without(node.body, cut)
            if body is not node.body:
                node, changed = replace(node, body=body), True
        out.append(node)
    return out if changed else program


def _lookup(data: Any, path: str) -> Any:
    value = data
    for part in path.replace("[", "").replace("]", "").replace("/", ".").split("."):
        if part in ("this", ""):
            continue
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str, ensure_ascii=False))


def _widest(data: Any) -> int:
    widest = 0
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            widest = max(widest, len(item))
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            widest = max(widest, len(item))
            stack.extend(item)
    return widest


def _longest_literal(program: list[Any]) -> int:
    """The longest argument written in a template: a partial's hash can put it in the scope."""
    longest = 0
    stack = list(program)
    while stack:
        node = stack.pop()
        if isinstance(node, (Mustache, Block)):
            longest = max([longest, *(len(a) for a in node.call["args"]), *(len(v) for v in node.call["hash"].values())])
        if isinstance(node, (Partial, PartialBlock)):
            longest = max([longest, *(len(v) for v in node.hash.values()), len(node.context_path or "")])
        if isinstance(node, Block):
            stack.extend(node.body)
            stack.extend(node.inverse)
        elif isinstance(node, (PartialBlock, InlinePartial)):
            stack.extend(node.body)
    return longest
