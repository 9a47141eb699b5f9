"""Evaluations: suite files beside prompts, a cached concurrent runner over litellm, assertions, results and reports.

Importing this package does not import litellm; the first model call does. Its names are imported on first
use, so `promptwise.evals.usage` (which the analysis reads on every keystroke) loads without the runner,
and the runner, which imports the analysis, can be imported from it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "find_cheapest": "cheapest",
    "AssertionResult": "results",
    "CallDestination": "results",
    "CaseResult": "results",
    "CheapestResult": "results",
    "ModelSummary": "results",
    "RunResult": "results",
    "SuiteSummary": "results",
    "Routing": "routing",
    "CancelToken": "runner",
    "Progress": "runner",
    "RunOptions": "runner",
    "destinations": "runner",
    "run_suite": "runner",
    "run_suites": "runner",
    "CaseLocation": "suite",
    "LoadedCase": "suite",
    "LoadedSuite": "suite",
    "Suite": "suite",
    "SuiteProblem": "suite",
    "case_locations": "suite",
    "find_suites": "suite",
    "load_suite": "suite",
    "MeasuredUsage": "usage",
    "Stat": "usage",
    "measured_usage": "usage",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
