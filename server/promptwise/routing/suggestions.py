"""What a model suggestion holds: the candidate, its full cost per call, what that cost rests on, and its edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..catalog import ModelCard
from ..fixes.edits import TextEdit
from ..text import Span

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_LIMIT = 3

CAPABILITY_NAMES = {
    "tools": "tools (function calling)",
    "vision": "vision (images)",
    "json": "response schema (JSON output)",
    "reasoning": "reasoning",
}


def basis(a: "Analysis") -> str:
    """What a cost per call rests on, in a few words: `warm (2,944 cached), reasoning 3,000 assumed (medium)`."""
    est = a.estimate
    if est is None or est.per_call is None:
        return "no price"
    parts = [f"warm ({est.cached_tokens:,} cached)" if est.cached else "cold"]
    r = est.reasoning
    if r.kind == "none":
        parts.append("no reasoning")
    elif r.effort == "none" or not r.tokens:
        parts.append("reasoning off")
    else:
        effort = "thinking budget" if r.effort == "budget" else r.effort
        if r.kind == "measured":
            parts.append(f"reasoning {r.tokens:,} measured ({effort}, {r.source})")
        else:
            parts.append(f"reasoning {r.tokens:,} {r.kind} ({effort})")
    if est.output_source.startswith("median over"):
        parts.append(f"output {est.output_tokens:,} measured")
    call = est.per_call
    if call.long_context:
        parts.append(f"long-context price (over {call.long_context:,})")
    if call.service_tier != "standard":
        parts.append(f"{call.service_tier} prices")
    return ", ".join(parts)


@dataclass
class Suggestion:
    """One cheaper model, priced for this prompt, with the edit that switches the file to it."""

    model: str  # as it would be written in the file
    card: ModelCard
    prompt_tokens: int
    exact: bool  # counted with the model's own exact tokenizer
    tokenizer: str
    cost_per_call: float  # the full cost: warm when cached, reasoning included
    current_cost: float
    title: str
    basis: str = ""  # what cost_per_call rests on (see `basis`)
    reasoning_tokens: int = 0
    edits: list[TextEdit] = field(default_factory=list)
    edit_note: str | None = None  # why there is no edit, or what the edit assumes
    reasons: list[str] = field(default_factory=list)  # why it qualifies
    caveats: list[str] = field(default_factory=list)  # what to check before switching
    pass_rate: tuple[int, int] | None = None
    current_pass_rate: tuple[int, int] | None = None

    @property
    def saving(self) -> float:
        """What a call saves: positive, since a suggestion always costs less."""
        return self.current_cost - self.cost_per_call

    @property
    def saving_share(self) -> float:
        return self.saving / self.current_cost if self.current_cost else 0.0

    @property
    def fewer_passes(self) -> bool:
        """True when eval results show this model passing a smaller share of cases than the current one."""
        if self.pass_rate is None or self.current_pass_rate is None:
            return False
        return _rate(self.pass_rate) < _rate(self.current_pass_rate)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "catalog_model": self.card.name,
            "provider": self.card.provider,
            "title": self.title,
            "prompt_tokens": self.prompt_tokens,
            "exact": self.exact,
            "tokenizer": self.tokenizer,
            "cost_per_call": self.cost_per_call,
            "basis": self.basis,
            "reasoning_tokens": self.reasoning_tokens,
            "current_cost_per_call": self.current_cost,
            "saving_per_call": self.saving,
            "saving_per_1000_calls": self.saving * 1000,
            "saving_percent": round(self.saving_share * 100, 1),
            "context_window": self.card.context_window,
            "max_output_tokens": self.card.max_output_tokens,
            "deprecation_date": self.card.deprecation_date,
            "supports": sorted(self.card.supports),
            "reasons": self.reasons,
            "caveats": self.caveats,
            "pass_rate": list(self.pass_rate) if self.pass_rate else None,
            "current_pass_rate": list(self.current_pass_rate) if self.current_pass_rate else None,
            "passes_fewer_eval_cases": self.fewer_passes,
            "edits": [{"start": e.span.start, "end": e.span.end, "new_text": e.new_text} for e in self.edits],
            "edit_note": self.edit_note,
        }


@dataclass
class Exclusion:
    model: str
    reason: str
    cost_per_call: float | None = None


@dataclass
class Suggestions:
    """The answer for one file: candidates, cheapest first, and why there are not more."""

    current: str
    card: ModelCard | None
    current_cost: float | None
    prompt_tokens: int
    reserved_output: int
    span: Span | None  # the model line, where the code actions and the hover belong
    current_basis: str = ""  # what current_cost rests on
    candidates: list[Suggestion] = field(default_factory=list)
    reason: str = ""  # one paragraph for the hover: how these were chosen, or why there are none
    requirements: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    providers_source: str = ""
    excluded: list[Exclusion] = field(default_factory=list)  # cheaper models ruled out, and why
    skipped: dict[str, int] = field(default_factory=dict)  # catalog entries not considered, by reason
    current_pass_rate: tuple[int, int] | None = None

    def comparison(self) -> list[dict[str, Any]]:
        """Rows for the hover's table: the current model, then each candidate."""
        rows = []
        if self.card is not None:
            rows.append(
                {
                    "model": self.current,
                    "current": True,
                    "cost_per_call": self.current_cost,
                    "basis": self.current_basis,
                    "context_window": self.card.context_window,
                    "supports": sorted(s for s in self.card.supports if s in CAPABILITY_NAMES),
                    "pass_rate": self.current_pass_rate,
                }
            )
        for c in self.candidates:
            rows.append(
                {
                    "model": c.model,
                    "current": False,
                    "cost_per_call": c.cost_per_call,
                    "basis": c.basis,
                    "context_window": c.card.context_window,
                    "supports": sorted(s for s in c.card.supports if s in CAPABILITY_NAMES),
                    "pass_rate": c.pass_rate,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.current,
            "catalog_model": self.card.name if self.card else None,
            "cost_per_call": self.current_cost,
            "basis": self.current_basis,
            "prompt_tokens": self.prompt_tokens,
            "reserved_output_tokens": self.reserved_output,
            "requirements": self.requirements,
            "providers": self.providers,
            "providers_source": self.providers_source,
            "current_pass_rate": list(self.current_pass_rate) if self.current_pass_rate else None,
            "reason": self.reason,
            "candidates": [c.to_json() for c in self.candidates],
            "excluded": [{"model": e.model, "reason": e.reason, "cost_per_call": e.cost_per_call} for e in self.excluded],
            "skipped": self.skipped,
        }


def _rate(result: tuple[int, int]) -> float:
    passed, total = result
    return passed / total if total else 0.0
