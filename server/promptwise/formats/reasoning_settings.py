"""Reasoning depth, service tier and cache breakpoints, read from the request options each format writes.

Every runtime spells these its own way (OpenAI's `reasoning_effort`, the Responses API's `reasoning.effort`,
Anthropic's `thinking.budget_tokens`, Gemini's `thinkingConfig`, litellm's `cache_control_injection_points`);
all of them land on the same document fields. `common.apply_settings` has already read the `promptwise:`
block by the time these run, and a value it set is never overwritten: the block is how the user prices the
file. A value no runtime accepts is an `invalid-frontmatter` warning at the value, and is ignored.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..text import Span
from .document import Message, PromptDocument, Severity

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# Prompty 2 and Anthropic's output_config.effort also accept "max": the highest level the cost model prices.
_EFFORT_ALIASES = {"max": "xhigh"}

# The request's own service_tier values (OpenAI: auto, default, flex, priority; Anthropic: auto,
# standard_only) as the document's tiers. Batch is a separate API, not a request option.
SERVICE_TIERS = {
    "auto": "standard",
    "default": "standard",
    "standard": "standard",
    "standard_only": "standard",
    "flex": "flex",
    "priority": "priority",
}

# Where each setting is written inside one mapping of options, in the order they are looked for.
_EFFORT_KEYS = (("reasoning_effort",), ("reasoningEffort",), ("reasoning", "effort"))
_LEVEL_KEYS = (("thinkingConfig", "thinkingLevel"), ("thinking_config", "thinking_level"), ("thinkingLevel",), ("thinking_level",))
_ANTHROPIC_BUDGET_KEYS = (("thinking", "budget_tokens"), ("thinking", "budgetTokens"))
# Gemini's budget: 0 turns thinking off, -1 lets the model decide.
_GEMINI_BUDGET_KEYS = (("thinkingConfig", "thinkingBudget"), ("thinking_config", "thinking_budget"), ("thinkingBudget",), ("thinking_budget",))
_TIER_KEYS = (("service_tier",), ("serviceTier",))
# Any of these present makes it a call to a reasoning model, whatever its value.
_REASONING_ROOTS = ("reasoning_effort", "reasoningEffort", "reasoning", "thinking", "thinkingConfig", "thinking_config", "thinkingLevel", "thinking_level", "thinkingBudget", "thinking_budget")
_WHOLE = re.compile(r"-?\d+\Z")
# Anthropic takes at most four cache breakpoints a request; litellm stops injecting once it holds four.
MAX_BREAKPOINTS = 4


@dataclass(frozen=True)
class Options:
    """One mapping of request options and the dotted frontmatter path it is written at ("" for a JSON body)."""

    values: Any
    path: str

    def at(self, keys: Sequence[str]) -> tuple[bool, Any]:
        value = self.values
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return False, None
            value = value[key]
        return True, value

    def where(self, keys: Sequence[str]) -> str:
        return ".".join((self.path, *keys)) if self.path else ".".join(keys)


@dataclass
class _Found:
    effort: str | None = None
    effort_span: Span | None = None
    budget: int | None = None
    budget_span: Span | None = None
    tier: str | None = None
    reasoning: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key path, message)


def read_options(doc: PromptDocument, sources: Sequence[Options]) -> None:
    """Reasoning effort, thinking budget and service tier from `sources` (the first one written wins) into
    `doc`, where the `promptwise:` block did not set them; `doc.uses_reasoning` when any is present."""
    found = _Found()
    for source in sources:
        if isinstance(source.values, dict):
            _read_one(doc, source, found)
    for path, message in found.problems:
        doc.problem("invalid-frontmatter", Severity.WARNING, message, _closest_span(doc, path))
    if doc.reasoning_effort is None and found.effort is not None:
        doc.reasoning_effort = found.effort
        doc.reasoning_span = doc.reasoning_span or found.effort_span
    if doc.reasoning_budget is None and found.budget is not None:
        doc.reasoning_budget = found.budget
        doc.reasoning_span = doc.reasoning_span or found.budget_span
    if doc.service_tier is None and found.tier is not None:
        doc.service_tier = found.tier
    mark_reasoning(doc, found.reasoning)


def mark_reasoning(doc: PromptDocument, present: bool = False) -> None:
    """A call with any reasoning setting (the block's included) goes to a reasoning model."""
    if present or doc.reasoning_effort is not None or doc.reasoning_budget is not None:
        doc.uses_reasoning = True


def _read_one(doc: PromptDocument, source: Options, found: _Found) -> None:
    if any(key in source.values for key in _REASONING_ROOTS):
        found.reasoning = True
    for keys in _EFFORT_KEYS + _LEVEL_KEYS:
        present, value = source.at(keys)
        if present and value is not None:
            effort = _effort(value)
            if effort is None:
                found.problems.append((source.where(keys), _bad_effort(source.where(keys), value)))
            elif found.effort is None:
                found.effort, found.effort_span = effort, _value_span(doc, source.where(keys))
    present, kind = source.at(("thinking", "type"))
    _, enabled = source.at(("thinking", "enabled"))  # Genkit's Anthropic plugin: {enabled, budgetTokens}
    if (present and isinstance(kind, str) and kind.lower() == "disabled") or enabled is False:
        keys = ("thinking", "type") if present else ("thinking", "enabled")
        _take_off(doc, source, keys, found)
    else:  # a budget written beside `disabled` is not used
        for keys in _ANTHROPIC_BUDGET_KEYS:
            _read_budget(doc, source, keys, found, gemini=False)
    for keys in _GEMINI_BUDGET_KEYS:
        _read_budget(doc, source, keys, found, gemini=True)
    for keys in _TIER_KEYS:
        present, value = source.at(keys)
        if present and value is not None:
            tier = SERVICE_TIERS.get(value.strip().lower()) if isinstance(value, str) else None
            if tier is None:
                found.problems.append((source.where(keys), _bad_tier(source.where(keys), value)))
            elif found.tier is None:
                found.tier = tier


def _read_budget(doc: PromptDocument, source: Options, keys: tuple[str, ...], found: _Found, gemini: bool) -> None:
    present, value = source.at(keys)
    if not present or value is None:
        return
    budget = _whole(value)
    if budget is None or budget < (-1 if gemini else 0):
        found.problems.append((source.where(keys), _bad_budget(source.where(keys), value, gemini)))
    elif gemini and budget == 0:
        _take_off(doc, source, keys, found)
    elif gemini and budget == -1:
        found.reasoning = True  # dynamic: the model decides how much it thinks, so no figure is written
    elif found.budget is None:
        found.budget, found.budget_span = budget, _value_span(doc, source.where(keys))


def _take_off(doc: PromptDocument, source: Options, keys: tuple[str, ...], found: _Found) -> None:
    if found.effort is None:
        found.effort, found.effort_span = "none", _value_span(doc, source.where(keys))


def _effort(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    word = _EFFORT_ALIASES.get(word, word)
    return word if word in EFFORTS else None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        return int(value.strip())
    return None


def _bad_effort(path: str, value: Any) -> str:
    allowed = ", ".join(EFFORTS)
    guess = difflib.get_close_matches(value.strip().lower(), EFFORTS, n=1) if isinstance(value, str) else []
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"'{path}': {_shown(value)} is not a reasoning effort (allowed: {allowed}){hint}; it is ignored"


def _bad_budget(path: str, value: Any, gemini: bool) -> str:
    allowed = "a whole number of tokens, 0 to turn thinking off or -1 to let the model decide" if gemini else "a whole number of tokens, 0 or more"
    return f"'{path}': {_shown(value)} is not a thinking budget ({allowed}); it is ignored"


def _bad_tier(path: str, value: Any) -> str:
    allowed = ", ".join(SERVICE_TIERS)
    if isinstance(value, str) and value.strip().lower() in ("batch", "batches"):
        return f"'{path}': batch is a separate API, not a service tier of a request; to price with batch prices set promptwise.service_tier: batch"
    guess = difflib.get_close_matches(value.strip().lower(), list(SERVICE_TIERS), n=1) if isinstance(value, str) else []
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"'{path}': {_shown(value)} is not a service tier (allowed: {allowed}){hint}; it is ignored"


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _value_span(doc: PromptDocument, path: str) -> Span | None:
    """Where the value at `path` is written, else where the nearest key above it is (a value a
    `${file:}` reference pulled in); None in a document without frontmatter keys (a JSON body)."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        key = doc.keys.get(".".join(parts[:n]))
        if key is not None:
            return key.value_span
    return None


def _closest_span(doc: PromptDocument, path: str) -> Span:
    return _value_span(doc, path) or doc.frontmatter_span or Span(0, 0)


def cache_breakpoints(sources: Sequence[Options], messages: Sequence[Message], marked: Sequence[int] = ()) -> list[int]:
    """Indexes of the messages that end at an explicit cache breakpoint: those `marked` in the messages
    themselves, then litellm's `cache_control_injection_points` in the order written (`{location: message,
    index: N}`, negative from the end, or `{location: message, role: R}`, every message of that role) until
    the request holds Anthropic's four, and a `cache_control` option (automatic caching: the last message)."""
    chosen = set(marked)
    if not messages:
        return sorted(chosen)
    by_role: dict[str, list[int]] = {}
    for i, message in enumerate(messages):
        by_role.setdefault(message.role, []).append(i)
    for source in sources:
        present, points = source.at(("cache_control_injection_points",))
        for point in points if present and isinstance(points, list) else ():
            for index in injection_targets(point, len(messages), by_role):
                if len(chosen) >= MAX_BREAKPOINTS:
                    break
                chosen.add(index)
        present, control = source.at(("cache_control",))
        if present and control:
            chosen.add(len(messages) - 1)
    return sorted(chosen)


def injection_targets(point: Any, count: int, by_role: dict[str, list[int]]) -> list[int]:
    """The messages one litellm injection point marks; an index out of range marks none (litellm skips it)."""
    if not isinstance(point, dict) or point.get("location") != "message":
        return []
    index = _whole(point.get("index")) if point.get("index") is not None else None
    if index is not None:  # an index wins over a role, as in litellm
        index = index + count if index < 0 else index
        return [index] if 0 <= index < count else []
    role = point.get("role")
    return by_role.get(role, []) if isinstance(role, str) else []
