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
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    cost: Optional[float] = Field(None, description="USD for the model call, from real usage (null when unpriced).")
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
    completion_tokens: int = 0
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
    tried: list[CandidateTrial] = Field(default_factory=list)
    chosen: Optional[str] = Field(None, description="The cheapest candidate that passes as many cases as the current model.")
    saving_per_call: Optional[float] = None
    saving_per_1000_calls: Optional[float] = None
    note: str = ""


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
        s.completion_tokens += r.completion_tokens or 0
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
