"""Typed results of an eval run: per case and repeat, per model, per suite; the format of results.json."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

Status = Literal["passed", "failed", "errored"]


class AssertionResult(BaseModel):
    type: str
    passed: bool
    reason: str = Field(description="Why it passed or failed, in words.")
    score: Optional[float] = Field(None, description="A number behind the verdict (similarity, latency, cost...).")


class CostPartResult(BaseModel):
    """One part of a call's cost: its tokens, the unit price and the price-map field that price came from."""

    part: str = Field(description="input, cache_read, cache_write, output or reasoning.")
    tokens: int
    unit_price: float = Field(description="USD per token.")
    cost: float = Field(description="USD: tokens x unit price.")
    price_field: str = Field(description="The price-map field, e.g. cache_read_input_token_cost or input_cost_per_token_batches.")
    note: Optional[str] = Field(None, description="Why the price is not the one asked for (a tier the map does not price).")


class Location(BaseModel):
    path: str
    line: int = Field(description="Zero-based line of the case in its suite or cases file.")
    column: int = 0


class CaseResult(BaseModel):
    suite: str
    case: str
    case_index: int
    model: str
    repeat: int = Field(0, description="Zero-based repeat index.")
    status: Status = Field(description="passed: every assertion holds; failed: one does not; errored: the case could not run.")
    output: Optional[str] = None
    tool_calls: Optional[list[dict]] = None
    error: Optional[str] = None
    assertions: list[AssertionResult] = Field(default_factory=list)
    prompt_tokens: Optional[int] = Field(None, description="Every input token, cached and written ones included.")
    cached_tokens: Optional[int] = Field(None, description="Of the prompt tokens, read from the provider's prompt cache.")
    cache_write_tokens: Optional[int] = Field(None, description="Of the prompt tokens, written to the prompt cache (providers that charge for it).")
    completion_tokens: Optional[int] = Field(None, description="Every output token, reasoning included, as providers bill it.")
    reasoning_tokens: Optional[int] = Field(None, description="Of the completion tokens, hidden reasoning.")
    reasoning_effort: Optional[str] = Field(None, description="The reasoning effort the call was made with (null when not set).")
    cost: Optional[float] = Field(None, description="USD for the model call, from real usage (null when unpriced).")
    cost_parts: Optional[list[CostPartResult]] = Field(
        None, description="The cost as the provider bills it: uncached input, cached input, cache write, visible output, reasoning."
    )
    grading_cost: Optional[float] = Field(None, description="USD for judge and embedding calls.")
    latency_ms: Optional[float] = None
    cached: bool = Field(False, description="The response came from the cache: this run did not pay for it.")
    attempts: int = 0
    location: Optional[Location] = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def failures(self) -> list[AssertionResult]:
        return [a for a in self.assertions if not a.passed]

    @property
    def label(self) -> str:
        return self.case if self.repeat == 0 else f"{self.case} (repeat {self.repeat + 1})"


class ModelSummary(BaseModel):
    model: str
    cases: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = Field(0, description="Of the prompt tokens, read from the provider's prompt cache.")
    cache_write_tokens: int = Field(0, description="Of the prompt tokens, written to the prompt cache.")
    completion_tokens: int = 0
    reasoning_tokens: int = Field(0, description="Of the completion tokens, hidden reasoning.")
    cost: Optional[float] = Field(0.0, description="USD for all calls, cached ones included (null when unpriced).")
    spent: float = Field(0.0, description="USD this run actually paid (cached responses excluded).")
    cached: int = 0
    mean_latency_ms: Optional[float] = None

    @property
    def cost_per_call(self) -> Optional[float]:
        ran = self.passed + self.failed
        return None if self.cost is None or not ran else self.cost / ran


class SuiteSummary(BaseModel):
    path: str
    prompt: Optional[str] = None
    models: list[str] = Field(default_factory=list)
    cases: int = 0
    prompt_sha256: Optional[str] = Field(None, description="sha256 of the prompt file's text the calls were made with (newlines as \\n).")
    service_tier: str = Field("standard", description="The service tier whose prices the calls' costs use (the calls go out as usual).")
    problems: list[str] = Field(default_factory=list, description="Errors that kept the suite, or part of it, from running.")
    warnings: list[str] = Field(default_factory=list, description="Settings that were ignored, and why (e.g. routing a repository may not set).")


class CallDestination(BaseModel):
    """Where one model's calls went and who decided it (the key's variable name, never its value)."""

    model: str
    role: Literal["model", "judge", "embedding"] = "model"
    host: str
    source: str = Field(description="Who chose the host: the provider's own endpoint, the user config, a flag.")
    key_env: Optional[str] = Field(None, description="The environment variable whose value was sent as the key.")


class CandidateTrial(BaseModel):
    model: str
    reasoning_effort: Optional[str] = Field(None, description="The reasoning effort the candidate was tried at (null: the model's own, or it does not reason).")
    passed: int
    failed: int
    errored: int
    cost_per_call: Optional[float] = Field(None, description="Measured mean USD per call in this run.")
    estimated_cost_per_call: Optional[float] = Field(None, description="Catalog price of the prompt with its reserved output.")
    verdict: str


class CheapestResult(BaseModel):
    suite: str
    current: str
    current_passed: int
    total: int
    current_cost_per_call: Optional[float] = None
    current_effort: Optional[str] = Field(None, description="The reasoning effort the current model runs at (null when it does not reason).")
    tried: list[CandidateTrial] = Field(default_factory=list)
    chosen: Optional[str] = Field(None, description="The cheapest candidate that passes as many cases as the current model.")
    chosen_effort: Optional[str] = Field(None, description="The reasoning effort of the chosen configuration (null: the model's own, or it does not reason).")
    saving_per_call: Optional[float] = None
    saving_per_1000_calls: Optional[float] = None
    note: str = ""


class UsageStat(BaseModel):
    median: float
    p95: float


class MeasuredGroup(BaseModel):
    """Usage measured on one prompt file x model x reasoning effort in a run: calls this run made (cached replies left out)."""

    suite: str
    prompt: str = Field(description="The prompt file, relative to the config root.")
    prompt_sha256: str = Field(description="sha256 of the prompt file's text the calls were made with.")
    model: str = Field(description="The model's canonical catalog name.")
    label: str = Field(description="The model as the suite names it.")
    reasoning_effort: Optional[str] = None
    calls: int
    prompt_tokens: UsageStat
    cached_tokens: UsageStat
    output_tokens: UsageStat = Field(description="Visible output: completion minus reasoning.")
    reasoning_tokens: UsageStat


class RunResult(BaseModel):
    version: str
    started_at: str
    seconds: float = 0.0
    cancelled: bool = False
    suites: list[SuiteSummary] = Field(default_factory=list)
    models: list[ModelSummary] = Field(default_factory=list)
    results: list[CaseResult] = Field(default_factory=list)
    cheapest: list[CheapestResult] = Field(default_factory=list)
    destinations: list[CallDestination] = Field(default_factory=list, description="Where each model's calls went.")
    usage: list[MeasuredGroup] = Field(
        default_factory=list, description="Medians and p95 of the tokens measured per prompt file, model and reasoning effort."
    )
    spent: float = Field(0.0, description="USD this run paid, grading included.")
    cached: int = 0
    run_dir: Optional[str] = None

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "errored": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when every case passes, 1 when any fails, 2 when cases could not run (errors, bad suites, cancelled)."""
        counts = self.counts
        if self.cancelled or counts["errored"] or any(s.problems for s in self.suites):
            return 2
        if counts["failed"]:
            return 1
        return 0


def summarize(results: list[CaseResult]) -> list[ModelSummary]:
    """Per-model totals, in the order models first appear."""
    by_model: dict[str, ModelSummary] = {}
    latencies: dict[str, list[float]] = {}
    for r in results:
        s = by_model.get(r.model)
        if s is None:
            s = by_model[r.model] = ModelSummary(model=r.model)
            latencies[r.model] = []
        s.cases += 1
        if r.status == "passed":
            s.passed += 1
        elif r.status == "failed":
            s.failed += 1
        else:
            s.errored += 1
        s.prompt_tokens += r.prompt_tokens or 0
        s.cached_tokens += r.cached_tokens or 0
        s.cache_write_tokens += r.cache_write_tokens or 0
        s.completion_tokens += r.completion_tokens or 0
        s.reasoning_tokens += r.reasoning_tokens or 0
        if r.status != "errored":
            if r.cost is None:
                s.cost = None
            elif s.cost is not None:
                s.cost += r.cost
        if not r.cached:
            s.spent += r.cost or 0.0
        s.spent += r.grading_cost or 0.0
        if r.cached:
            s.cached += 1
        if r.latency_ms is not None:
            latencies[r.model].append(r.latency_ms)
    for model, values in latencies.items():
        if values:
            by_model[model].mean_latency_ms = sum(values) / len(values)
    return list(by_model.values())
