"""Evaluations: suite files beside prompts, a cached concurrent runner over litellm, assertions, results and reports.

Importing this package does not import litellm; the first model call does.
"""

from .cheapest import find_cheapest
from .results import AssertionResult, CallDestination, CaseResult, CheapestResult, ModelSummary, RunResult, SuiteSummary
from .routing import Routing
from .runner import CancelToken, Progress, RunOptions, destinations, run_suite, run_suites
from .suite import CaseLocation, LoadedCase, LoadedSuite, Suite, SuiteProblem, case_locations, find_suites, load_suite

__all__ = [
    "AssertionResult",
    "CallDestination",
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
    "Routing",
    "case_locations",
    "destinations",
    "find_cheapest",
    "find_suites",
    "load_suite",
    "run_suite",
    "run_suites",
]
