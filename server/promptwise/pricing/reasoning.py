"""How many reasoning tokens a call is expected to use, and where that figure comes from.

In order: measured in eval runs (median over the calls made at that model and effort), the user's
`[reasoning]` table, else a default per effort level, labelled assumed. Real usage varies by prompt and
model by orders of magnitude; the defaults are a starting point to be replaced by a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..catalog import ModelCard

if TYPE_CHECKING:
    from ..evals.usage import MeasuredUsage

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# Reasoning tokens per call assumed at each effort when nothing better is known (documented in the README).
ASSUMED_TOKENS = {"none": 0, "minimal": 100, "low": 1000, "medium": 3000, "high": 10000, "xhigh": 20000}


@dataclass(frozen=True)
class Reasoning:
    effort: str | None  # the effort priced, None when the model does not reason
    tokens: int
    kind: str  # "measured", "configured", "assumed" or "none"
    source: str  # in the user's words: "measured over 12 calls", "[reasoning] in promptwise.toml", ...
    effort_source: str = ""  # where the effort comes from: the file's setting, the model's default
    p95: int | None = None  # measured only
    budget: int | None = None  # the thinking budget the file sets, an upper bound

    @property
    def label(self) -> str:
        """`3,000 assumed` style, for tooltips."""
        return f"{self.tokens:,} {self.kind}"


NO_REASONING = Reasoning(None, 0, "none", "the model does not reason")


def effort_for(card: ModelCard | None, effort: str | None, budget: int | None, uses_reasoning: bool) -> tuple[str | None, str]:
    """The effort a call runs at and where that comes from; (None, why) when it does not reason."""
    if effort:
        return effort, "set in the file"
    if budget is not None:
        return ("none" if budget == 0 else "budget"), "thinking budget set in the file"
    if card is None or "reasoning" not in card.supports:
        return None, "the model does not reason"
    if card.default_reasoning_effort:
        return card.default_reasoning_effort, f"{card.name}'s default (price map default_reasoning_effort)"
    provider = card.provider
    if provider in ("anthropic", "bedrock", "bedrock_converse", "vertex_ai-anthropic_models") and not uses_reasoning:
        return "none", "extended thinking is off unless the request enables it"
    # OpenAI's reasoning models default to medium; Gemini's thinking models think dynamically.
    return "medium", "the provider's default effort (medium)"


def expected_reasoning(
    card: ModelCard | None,
    effort: str | None,
    budget: int | None,
    uses_reasoning: bool,
    configured: dict[str, int],
    config_name: str,
    measured: "MeasuredUsage | None" = None,
) -> Reasoning:
    """Reasoning tokens to price per call; `measured` is what eval runs measured for this model and effort."""
    level, why = effort_for(card, effort, budget, uses_reasoning)
    if level is None:
        return NO_REASONING
    if level == "none":
        return Reasoning("none", 0, "configured" if effort or budget is not None else "assumed", "reasoning is off", why, budget=budget)
    if measured is not None and measured.calls:
        stat, calls = measured.reasoning_tokens, measured.calls
        earlier = "" if measured.current else ", on an earlier version of the file"
        return Reasoning(
            level, round(stat.median), "measured", f"median over {calls:,} eval call{'s' if calls != 1 else ''}{earlier}", why, round(stat.p95), budget
        )
    if level in configured:
        return Reasoning(level, configured[level], "configured", f"[reasoning] {level} in {config_name}", why, budget=budget)
    if budget is not None and budget > 0:
        return Reasoning(level, budget, "assumed", "the thinking budget, an upper bound", why, budget=budget)
    tokens = ASSUMED_TOKENS.get(level, ASSUMED_TOKENS["medium"])
    return Reasoning(level, tokens, "assumed", f"promptwise's default for {level} effort", why, budget=budget)
