"""What a run will cost before it starts: calls, tokens and dollars, cached responses left out.

Per case x model x repeat that has no cached response: the case's prompt rendered with its vars and
counted as the analysis counts it (the model's tokenizer, framing and tools), the visible output
measured by earlier eval runs of this prompt, model and effort (else the file's expected output), and
the reasoning `pricing.reasoning` expects at the effort the call is sent with. Each call is priced
with the cost model as the real call will be (evals send no cache breakpoints, and a warm prompt cache
is not counted on: an upper bound). Judge and embedding calls are estimated with the figures below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..analysis import analyze, catalog_for
from ..pricing import SERVICE_TIERS, Usage, price_usage
from ..pricing.reasoning import Reasoning, expected_reasoning
from .assertions import JUDGE_SYSTEM
from .cache import RequestKeys
from .rendering import declared_effort, render_case
from .routing import Target
from .secrets import Secrets
from .suite import RubricAssertion, SimilarAssertion
from .usage import measured_usage

JUDGE_VERDICT_TOKENS = 60  # a judge answers with a one-line JSON verdict
JUDGE_FRAMING_TOKENS = 40  # the judge prompt's tags and message framing around the rubric and the output


@dataclass
class ModelSpend:
    """One suite's calls to one model (or one grader)."""

    suite: str
    model: str  # as the suite names it
    role: str = "model"  # "model", "judge" or "embedding"
    calls: int = 0  # calls that will be made
    cached: int = 0  # responses already cached: not made again, not paid again
    input_tokens: int = 0
    output_tokens: int = 0  # visible output
    reasoning_tokens: int = 0
    cost: float | None = 0.0  # None when the model has no price
    output_source: str = ""
    reasoning_source: str = ""

    @property
    def completion_tokens(self) -> int:
        return self.output_tokens + self.reasoning_tokens


@dataclass
class RunEstimate:
    parts: list[ModelSpend] = field(default_factory=list)
    trials: int = 0  # cheaper configurations (model, effort) `--cheapest` may try, all counted (an upper bound)

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.parts)

    @property
    def cached(self) -> int:
        return sum(p.cached for p in self.parts if p.role == "model")

    @property
    def input_tokens(self) -> int:
        return sum(p.input_tokens for p in self.parts)

    @property
    def output_tokens(self) -> int:
        return sum(p.completion_tokens for p in self.parts)

    @property
    def reasoning_tokens(self) -> int:
        return sum(p.reasoning_tokens for p in self.parts)

    @property
    def cost(self) -> float:
        """The priced calls' cost; see `unpriced` for the calls that have none."""
        return sum(p.cost or 0.0 for p in self.parts if p.calls)

    @property
    def unpriced(self) -> list[str]:
        return list(dict.fromkeys(p.model for p in self.parts if p.calls and p.cost is None))

    def calls_of(self, suite: str, model: str) -> int:
        return sum(p.calls for p in self.parts if p.suite == suite and p.model == model and p.role == "model")

    def describe(self) -> str:
        """`about 24 calls, 31,200 input + 12,000 output tokens, ~$0.042; 6 cached responses not re-run`."""
        cached = self.cached
        reused = f"{cached:,} cached response{'s' if cached != 1 else ''} not re-run" if cached else ""
        if not self.calls:
            return f"no model calls: {reused}" if cached else "no model calls"
        reasoning = f" ({self.reasoning_tokens:,} of them reasoning)" if self.reasoning_tokens else ""
        text = f"about {self.calls:,} call{'s' if self.calls != 1 else ''}, {self.input_tokens:,} input + {self.output_tokens:,} output tokens{reasoning}"
        unpriced = ", ".join(self.unpriced)
        has = "has" if len(self.unpriced) == 1 else "have"
        if not self.unpriced:
            text += f", ~{about(self.cost)}"
        elif all(p.cost is None for p in self.parts if p.calls):
            text += f", cost unknown: {unpriced} {has} no price"
        else:
            text += f", ~{about(self.cost)} plus the calls to {unpriced}, which {has} no price"
        if self.trials:
            text += f" (an upper bound: the run, then all {self.trials} other configuration{'s' if self.trials != 1 else ''} the search may try)"
        return text + (f"; {reused}" if reused else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cached": self.cached,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "reasoningTokens": self.reasoning_tokens,
            "cost": self.cost,
            "unpriced": self.unpriced,
            "text": self.describe(),
        }


def about(value: float) -> str:
    """Two significant digits: $0.042, $0.0013, $1.20, $1,234."""
    if value <= 0:
        return "$0"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(value)))
    return f"${value:.{decimals}f}"


def estimate_run(prepared: Iterable[Any], estimate: RunEstimate | None = None) -> RunEstimate:
    """The calls these prepared suites would make (see the module's docstring); never calls a model."""
    estimate = estimate or RunEstimate()
    secrets = Secrets()
    for p in prepared:
        if not p.runnable or not p.targets:
            continue
        estimate.parts.extend(_suite_spend(p, secrets))
    return estimate


@dataclass
class _TargetPlan:
    target: Target
    spend: ModelSpend
    tokenizer: Any
    tools_tokens: int
    priming: int
    output: int
    reasoning: Reasoning
    keys: RequestKeys


def _suite_spend(p: Any, secrets: Secrets) -> list[ModelSpend]:
    config = p.config
    catalog = catalog_for(config)
    tier = p.service_tier if p.service_tier in SERVICE_TIERS else "standard"
    plans = [_plan(p, t, catalog) for t in p.targets]
    graders = _Graders(p)
    for case in p.loaded.cases:
        rendered = render_case(p, case, secrets)
        if rendered.error:
            continue  # the run reports it without a call
        for plan in plans:
            made = 0
            for repeat in range(p.repeat):
                if p.cache is not None and p.cache.has(plan.keys.key(rendered.messages, repeat)):
                    plan.spend.cached += 1
                else:
                    made += 1
            if not made:
                continue
            tokens = _prompt_tokens(plan, rendered.messages)
            s = plan.spend
            s.calls += made
            s.input_tokens += made * tokens
            s.output_tokens += made * plan.output
            s.reasoning_tokens += made * plan.reasoning.tokens
            if s.cost is not None:
                card = plan.target.card
                priced = (
                    price_usage(card, Usage(tokens, 0, 0, plan.output, plan.reasoning.tokens), tier)
                    if card is not None and card.priced
                    else None
                )
                s.cost = None if priced is None else s.cost + made * priced.total
            graders.add(case, plan, made)
    return [pl.spend for pl in plans] + graders.parts()


def _plan(p: Any, target: Target, catalog: Any) -> _TargetPlan:
    doc, config = p.doc, p.config
    a = analyze(doc, config, catalog, model=target.label, duplicates=False)
    effort = p.efforts.get(target.label)
    card = target.card
    measured = measured_usage(config.root, doc.path, card.name if card is not None else target.label, effort, doc.text)
    name = config.path.name if config.path else "settings"
    # As the runner decides the effort (rendering.reasoning_effort), so the measured usage found is the same.
    reasoning = expected_reasoning(
        card, declared_effort(p.params, doc), doc.reasoning_budget, doc.uses_reasoning, dict(config.settings.reasoning), name, measured
    )
    output, source = a.expected_output_tokens, "the file's expected output"
    if doc.expected_output_tokens is None and doc.max_output_tokens is not None and reasoning.tokens:
        output = max(0, doc.max_output_tokens - reasoning.tokens)  # a max output bounds reasoning and output together
        source = "the file's max output less the reasoning (an upper bound)"
    if measured is not None and measured.calls:
        output = round(measured.output_tokens.median)
        source = f"median over {measured.calls:,} eval calls"
    spend = ModelSpend(p.display, target.label, output_source=source, reasoning_source=reasoning.source, cost=0.0)
    keys = RequestKeys("chat", target.model, target.api_base, p.params)
    return _TargetPlan(target, spend, a.tokenizer, a.tools_tokens, a.tokenizer.framing.reply_priming, output, reasoning, keys)


def _prompt_tokens(plan: _TargetPlan, messages: list[dict[str, Any]]) -> int:
    """The rendered request's input tokens, counted as the analysis counts a prompt (framing and tools included)."""
    tok = plan.tokenizer
    total = plan.tools_tokens + (plan.priming if messages else 0)
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else str(content or "")
        total += tok.count(text) + tok.count_message(0, m.get("name"), m.get("role") or "")
    return total


class _Graders:
    """Judge and embedding calls: one per llm-rubric assertion and up to two texts per `similar`, per call made."""

    def __init__(self, p: Any) -> None:
        self.p = p
        self.found: dict[tuple[str, str], ModelSpend] = {}
        self.catalog = catalog_for(p.config)

    def _spend(self, model: str, role: str) -> ModelSpend:
        found = self.found.get((model, role))
        if found is None:
            found = self.found[(model, role)] = ModelSpend(self.p.display, model, role, output_source="assumed", cost=0.0)
        return found

    def add(self, case: Any, plan: _TargetPlan, made: int) -> None:
        for a in case.assertions:
            if isinstance(a, RubricAssertion) and (a.model or self.p.judge_model):
                s = self._spend(a.model or self.p.judge_model, "judge")
                rubric = plan.tokenizer.count(f"{JUDGE_SYSTEM}\n{a.value}") + JUDGE_FRAMING_TOKENS + plan.output
                self._price(s, made, rubric, JUDGE_VERDICT_TOKENS)
            elif isinstance(a, SimilarAssertion) and (a.model or self.p.embedding_model):
                s = self._spend(a.model or self.p.embedding_model, "embedding")
                self._price(s, made, plan.output + plan.tokenizer.count(str(a.value)), 0)

    def _price(self, s: ModelSpend, made: int, input_tokens: int, output_tokens: int) -> None:
        s.calls += made
        s.input_tokens += made * input_tokens
        s.output_tokens += made * output_tokens
        if s.cost is None:
            return
        card = self.catalog.resolve(s.model)
        if s.role == "embedding":  # priced per input token, as the runner prices an embedding call
            price = card.input_cost_per_token if card is not None else None
            s.cost = None if price is None else s.cost + made * input_tokens * price
            return
        priced = price_usage(card, Usage(input_tokens, 0, 0, output_tokens, 0)) if card is not None and card.priced else None
        s.cost = None if priced is None else s.cost + made * priced.total

    def parts(self) -> list[ModelSpend]:
        return list(self.found.values())
