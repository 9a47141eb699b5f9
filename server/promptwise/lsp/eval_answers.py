"""What the eval commands answer: the run's summary (counts, per model, failures, results) and the cheapest model found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import eval_results, labels

if TYPE_CHECKING:
    from ..evals import CheapestResult, LoadedSuite, RunResult


MAX_FAILURES = 50  # failures listed with their output in a command's answer
MAX_RESULTS = 1000  # case results listed in a command's answer (all are in results.json)


def line(result: "RunResult") -> str:
    counts = result.counts
    text = f"{counts['passed']}/{len(result.results)} passed"
    if counts["failed"]:
        text += f", {counts['failed']} failed"
    if counts["errored"]:
        text += f", {counts['errored']} errored"
    return text + f" in {result.seconds:.1f} s"


def summary(
    suite: Path,
    loaded: "LoadedSuite",
    result: "RunResult",
    saved: Path | None,
    report: Path | None,
    cancelled: bool,
    stopped_by: str | None,
) -> dict[str, Any]:
    counts = result.counts
    failures = []
    for r in result.results:
        if r.status == "passed" or len(failures) >= MAX_FAILURES:
            continue
        location = r.location
        written = next((c.location for c in loaded.cases if c.index == r.case_index and c.name == r.case), None)
        failures.append(
            {
                "case": r.case,
                "index": r.case_index,
                "model": r.model,
                "repeat": r.repeat,
                "status": r.status,
                "reason": eval_results._why(r),
                "output": r.output,
                "uri": written.path.absolute().as_uri() if written else None,
                "line": written.line if written else (location.line if location else None),
            }
        )
    results = [
        {
            "case": r.case,
            "index": r.case_index,
            "model": r.model,
            "repeat": r.repeat,
            "status": r.status,
            "cost": r.cost,
            "cached": r.cached,
            "reason": eval_results._why(r) if r.status != "passed" else None,
        }
        for r in result.results[:MAX_RESULTS]
    ]
    cost = sum((r.cost or 0.0) + (r.grading_cost or 0.0) for r in result.results)
    return {
        "suite": str(suite),
        "suiteUri": suite.as_uri(),
        "prompt": str(loaded.prompt_path) if loaded.prompt_path else None,
        "cancelled": cancelled,
        "stoppedBy": stopped_by if cancelled else None,
        "ran": len(result.results),
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errored": counts["errored"],
        "models": [
            {
                "model": m.model,
                "cases": m.cases,
                "passed": m.passed,
                "failed": m.failed,
                "errored": m.errored,
                "cost": m.cost,
                "spent": m.spent,
                "cached": m.cached,
                "meanLatencyMs": m.mean_latency_ms,
            }
            for m in result.models
        ],
        "cost": cost,
        "spent": result.spent,
        "cached": result.cached,
        "seconds": result.seconds,
        "results": results,
        "failures": failures,
        "problems": [p for s in result.suites for p in s.problems],
        "resultsPath": str(saved) if saved else None,
        "reportPath": str(report) if report else None,
        "reportUri": report.as_uri() if report else None,
    }


def cheapest(found: "CheapestResult") -> dict[str, Any]:
    chosen = next((t for t in found.tried if t.model == found.chosen and t.reasoning_effort == found.chosen_effort), None)
    return {
        "current": found.current,
        "currentEffort": found.current_effort,
        "effort": found.chosen_effort,
        "currentPassed": found.current_passed,
        "total": found.total,
        "currentCostPerCall": found.current_cost_per_call,
        "model": found.chosen,
        "costPerCall": (chosen.cost_per_call if chosen.cost_per_call is not None else chosen.estimated_cost_per_call) if chosen else None,
        "savingPerCall": found.saving_per_call,
        "savingPer1000Calls": found.saving_per_1000_calls,
        "tried": [
            {
                "model": t.model,
                "effort": t.reasoning_effort,
                "passed": t.passed,
                "failed": t.failed,
                "errored": t.errored,
                "costPerCall": t.cost_per_call if t.cost_per_call is not None else t.estimated_cost_per_call,
                "verdict": t.verdict,
            }
            for t in found.tried
        ],
        "note": found.note,
    }


def cascade(found: Any) -> dict[str, Any]:
    """The proposal: its lines as `eval --cascade` prints them, the plan's figures, and the LiteLLM Router
    config (YAML) to save, when there is a plan."""
    from ..evals.cascade import describe_cascade, router_yaml

    if found is None:
        return {"lines": ["the suite could not run on the candidate models"], "plan": None, "routerConfig": None}
    plan = found.chosen
    return {
        "lines": describe_cascade(found, labels.money),
        "plan": None
        if plan is None
        else {
            "summary": plan.summary,
            "first": plan.first,
            "then": plan.then,
            "passed": plan.passed,
            "calls": plan.calls,
            "escalations": plan.escalations,
            "costPer1000Calls": plan.cost_per_1000_calls,
        },
        "savingPer1000Calls": found.saving_per_1000_calls,
        "spent": found.spent,
        "routerConfig": router_yaml(found) if plan is not None else None,
        "note": found.note,
    }
