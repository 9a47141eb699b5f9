"""The stable prefix of a prompt's request: what a provider's prompt cache can reuse from one call to the next.

A request is sent as tools, then system, then messages; it is stable up to the first per-call content
(a template variable: a name, a date, an id, the user's question). Everything after that point is paid at
the full input price on every call, however static it is.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..formats import Variable
from ..pricing.estimate import Prefix
from ..tokens import Tokenizer

if TYPE_CHECKING:
    from . import MessageCount


def first_variable(count: "MessageCount") -> Variable | None:
    variables = count.message.variables
    return min(variables, key=lambda v: v.span.start) if variables else None


def stable_lead(text: str, count: "MessageCount", tokenizer: Tokenizer) -> int:
    """Tokens of a message up to its first variable: its framing plus the rendered text before the value."""
    var = first_variable(count)
    if var is None:
        return count.tokens
    source = text[count.message.body.start : var.span.start].lstrip()
    content = count.message.content.lstrip()
    # The rendered text agrees with the template's literal text up to where the value goes in.
    lead = os.path.commonprefix([content, source])
    return count.framing_tokens + (tokenizer.count(lead) if lead else 0)


def stable_prefix(
    text: str,
    counts: list["MessageCount"],
    tools_tokens: int,
    prompt_tokens: int,
    breakpoints: list[int],
    tokenizer: Tokenizer,
    kept: dict[int, int] | None = None,
) -> tuple[Prefix, dict[int, int]]:
    """The prefix, and each variable-holding message's stable lead by the identity of its text (for re-use
    by the next analysis of the same document: `kept`)."""
    leads: dict[int, int] = {}
    total = tools_tokens
    ends: dict[int, int] = {}
    per_call: tuple[int, Variable] | None = None
    stable = None
    for index, count in enumerate(counts):
        if count.message.on_use:
            continue  # sent only when used: not part of the per-call request
        if per_call is None and count.message.variables:
            key = id(count.message.content)
            lead = (kept or {}).get(key)
            if lead is None:
                lead = stable_lead(text, count, tokenizer)
            leads[key] = lead
            stable = total + lead
            per_call = (index, first_variable(count))  # type: ignore[assignment]
        total += count.tokens
        ends[index] = total
    if per_call is None:
        return Prefix(prompt_tokens, breakpoints=_marks(breakpoints, ends)), leads
    message, var = per_call
    seen: dict[str, int] = {}  # a value used in many places (a question in every example) is counted once
    values = sum(_value_tokens(v.value, tokenizer, seen) for c in counts[message:] for v in c.message.variables)
    after = max(0, prompt_tokens - (stable or 0) - values)
    return Prefix(stable or 0, message, var.name, after, _marks(breakpoints, ends)), leads


def _marks(breakpoints: list[int], ends: dict[int, int]) -> tuple[int, ...]:
    size = max(ends) + 1 if ends else 0
    positions = (size + i if i < 0 else i for i in breakpoints)
    return tuple(sorted({ends[p] for p in positions if p in ends}))


def _value_tokens(value: Any, tokenizer: Tokenizer, seen: dict[str, int]) -> int:
    if value is None:
        return 0
    text = (value if isinstance(value, str) else str(value))[:20000]  # a sample's size, not a bound on a real call's
    found = seen.get(text)
    if found is None:
        found = seen[text] = tokenizer.count(text)
    return found
