"""`promptwise eval --cascade`: propose "try A, escalate to B" from the suite's per-case results, and write it as a LiteLLM Router config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, TextIO

from ..evals.cascade import CascadeResult, cascade_suites, describe_cascade, find_cascade, router_yaml
from ..evals.results import RunResult
from ..evals.runner import CancelToken, PreparedSuite, ProgressCallback, RunOptions
from ..evals.suite import LoadedSuite
from . import output

Say = Callable[..., None]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cascade",
        action="store_true",
        help="propose a cascade (try a cheap model, escalate to another when deterministic assertions fail) from the "
        "per-case results on the suite's models (with one model: on it and up to --max-candidates cheaper models suggest offers)",
    )
    p.add_argument("--cascade-out", type=Path, metavar="FILE", help="write the proposed cascade as a LiteLLM Router / Proxy config (YAML)")


class Cascades:
    """The cascades of one `promptwise eval` run: found after the suites ran, printed after the summary."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.out: Path | None = getattr(args, "cascade_out", None)
        self.limit: int = getattr(args, "max_candidates", None) or 3
        self.found: list[CascadeResult] = []

    @classmethod
    def wanted(cls, args: argparse.Namespace) -> "Cascades | None":
        return cls(args) if getattr(args, "cascade", False) or getattr(args, "cascade_out", None) is not None else None

    def trial_suites(self, loaded: list[LoadedSuite], options: RunOptions) -> list[PreparedSuite]:
        """The extra runs a cascade may make, for the estimate before the first call."""
        return [t for s in loaded if s.ok for t in cascade_suites(s, options, self.limit)]

    async def find(
        self, loaded: list[LoadedSuite], result: RunResult, options: RunOptions, progress: ProgressCallback | None, cancel: CancelToken | None
    ) -> None:
        for suite in loaded:
            if suite.ok and not (cancel is not None and cancel.cancelled):
                found = await find_cascade(suite, result, options, progress, cancel, self.limit)
                if found is not None:
                    self.found.append(found)

    def report(self, say: Say, file: TextIO | None = None) -> int:
        """Print each proposal; write the config. 0, or 2 when --cascade-out was asked for and nothing can be written."""
        out = file or sys.stdout
        for found in self.found:
            for line in describe(found):
                say(line, file=out)
        if self.out is None:
            return 0
        chosen = [f for f in self.found if f.chosen is not None]
        if not chosen:
            say(f"promptwise eval: --cascade-out {self.out}: no cascade to write", sys.stderr)
            return 2
        if len(chosen) > 1:
            say(f"promptwise eval: --cascade-out: {len(chosen)} suites have a cascade; writing the first ({chosen[0].suite})", sys.stderr)
        self.out.write_text(router_yaml(chosen[0]), encoding="utf-8")
        say(f"cascade config: {output.display_path(self.out)} (run it with: litellm --config {output.display_path(self.out)})", file=out)
        return 0


def describe(found: CascadeResult) -> list[str]:
    return describe_cascade(found, output.money)
