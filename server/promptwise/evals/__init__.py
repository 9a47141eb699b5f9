"""Evaluations: suite files beside prompts, a cached concurrent runner over litellm, assertions, results and reports.

Importing this package does not import litellm; the first model call does.
"""

from .results import AssertionResult, CaseResult, CheapestResult, ModelSummary, RunResult, SuiteSummary
from .runner import CancelToken, Progress, RunOptions, find_cheapest, run_suite, run_suites
from .suite import CaseLocation, LoadedCase, LoadedSuite, Suite, SuiteProblem, case_locations, find_suites, load_suite

__all__ = [
    "AssertionResult",
    "CancelToken",
    "CaseLocation",
    "CaseResult",
    "CheapestResult",
    "LoadedCase",
    "LoadedSuite",
    "ModelSummary",
    "Progress",
    "RunOptions",
    "RunResult",
    "Suite",
    "SuiteProblem",
    "SuiteSummary",
    "case_locations",
    "find_cheapest",
    "find_suites",
    "load_suite",
    "run_suite",
    "run_suites",
]
