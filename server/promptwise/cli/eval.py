"""`promptwise eval`: run evaluation suites, show progress and a summary, write results and reports."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from ..config import load_config
from ..evals import reports
from ..evals.results import RunResult
from ..evals.runner import CancelToken, Progress, RunOptions, find_cheapest, prepare, run_prepared
from ..evals.suite import LoadedSuite, find_suites, load_suite
from . import output

SHOWN_FAILURES = 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="run evaluation suites (NAME.evals.yaml) against models",
        description="Run evaluation suites: each case renders the prompt with its vars, calls every model, and checks "
        "the assertions. PATHS are suite files, prompt files (their NAME.evals.yaml beside them) or folders "
        "(default: the current folder). Exit 0 when every case passes, 1 when any fails, 2 when cases could not run.",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATHS", help="suites, prompt files or folders")
    p.add_argument("--model", action="append", dest="models", metavar="M", help="run on this model instead of the suites' (repeatable)")
    p.add_argument("--concurrency", type=int, metavar="N", help="model calls in flight at once")
    p.add_argument("--repeat", type=int, metavar="N", help="run every case N times per model")
    p.add_argument("--timeout", type=float, metavar="S", help="seconds before a model call times out")
    p.add_argument("--no-cache", action="store_true", help="call the models even when a cached response exists")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON ('-' for stdout)")
    p.add_argument("--report", type=Path, metavar="FILE", help="write a readable report (.md or .html)")
    p.add_argument("--cheapest", action="store_true", help="also try cheaper models and report the cheapest that passes as many cases")
    p.add_argument("--max-candidates", type=int, default=5, metavar="N", help="cheaper models to try with --cheapest (default 5)")
    p.set_defaults(run=run)


class ProgressPrinter:
    """A one-line bar on a terminal; a line per tenth of the run otherwise (CI logs)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.last_step = -1
        self.phase = ""

    def __call__(self, p: Progress) -> None:
        if p.phase != self.phase:
            self.finish()
            self.phase = p.phase
            self.started = time.monotonic()
            self.last_step = -1
            if not self.tty:
                self.stream.write(f"{p.phase}: {p.total} case runs\n")
                self.stream.flush()
        if self.tty:
            now = time.monotonic()
            if p.done != p.total and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            width = 30
            filled = int(width * p.done / p.total) if p.total else width
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(
                f"\r{p.phase} [{bar}] {p.done}/{p.total}  passed {p.passed}  failed {p.failed}  errored {p.errored}"
                f"  {now - self.started:.1f}s\x1b[K"
            )
            self.stream.flush()
            return
        step = (p.done * 10) // p.total if p.total else 10
        if p.done and (step != self.last_step or p.done == p.total):
            self.last_step = step
            self.stream.write(f"{p.phase}: {p.done}/{p.total} ({p.passed} passed, {p.failed} failed, {p.errored} errored)\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.phase:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    for name in ("concurrency", "repeat", "max_candidates"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"promptwise eval: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    paths = args.paths or [Path.cwd()]
    found, missing = find_suites(paths)
    for problem in missing:
        print(f"promptwise eval: {problem}", file=sys.stderr)
    if not found:
        if not missing:
            print(f"promptwise eval: no *.evals.yaml suites under {', '.join(str(p) for p in paths)}", file=sys.stderr)
        return 2
    loaded = [load_suite(path) for path in found]
    for suite in loaded:
        for problem in suite.problems:
            print(f"{output.display_path(problem.path)}:{problem.line + 1}:{problem.column + 1}: {problem.severity} {problem.message}", file=sys.stderr)
    options = RunOptions(
        models=args.models,
        concurrency=args.concurrency,
        repeat=args.repeat,
        use_cache=not args.no_cache,
        timeout=args.timeout,
    )
    printer = ProgressPrinter()
    result = asyncio.run(_run(loaded, options, printer, args.cheapest, args.max_candidates))
    printer.finish()
    root = load_config(found[0]).root
    saved = reports.save_run(result, root)
    _write_outputs(args, result)
    _print_summary(result, saved, json_to_stdout=args.json is not None and str(args.json) == "-")
    if result.cancelled:
        return 130
    return 2 if missing else result.exit_code


async def _run(loaded: list[LoadedSuite], options: RunOptions, printer: ProgressPrinter, cheapest: bool, limit: int) -> RunResult:
    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, cancel.cancel)  # first Ctrl-C stops the run and keeps what finished
    except (NotImplementedError, RuntimeError):
        pass
    try:
        prepared = [prepare(s, options) for s in loaded]
        result = await run_prepared(prepared, options, printer, cancel)
        if cheapest and not result.cancelled:
            for suite in loaded:
                if not suite.ok:
                    continue
                found = await find_cheapest(suite, result, options, printer, cancel, limit)
                if found is not None:
                    result.cheapest.append(found)
        return result
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass


def _write_outputs(args: argparse.Namespace, result: RunResult) -> None:
    if args.json is not None:
        if str(args.json) == "-":
            sys.stdout.writelines(reports.json_chunks(result))
        else:
            reports.write_file(args.json, reports.json_chunks(result))
    if args.junit is not None:
        reports.write_file(args.junit, reports.junit_chunks(result))
    if args.report is not None:
        html = args.report.suffix.lower() in (".html", ".htm")
        reports.write_file(args.report, reports.html_report(result) if html else reports.markdown(result))


def _print_summary(result: RunResult, saved: Path, json_to_stdout: bool) -> None:
    out = sys.stderr if json_to_stdout else sys.stdout
    for suite in result.suites:
        for problem in suite.problems:
            print(f"{suite.path}: could not run: {problem}", file=out)
    if result.models:
        print(output.table(reports.SUMMARY_HEADERS, reports.summary_rows(result), right=range(1, 8)), file=out)
    bad = [r for r in result.results if r.status != "passed"]
    for r in bad[:SHOWN_FAILURES]:
        where = f"{r.location.path}:{r.location.line + 1}" if r.location else r.suite
        why = r.error if r.status == "errored" else "; ".join(f"{a.type}: {a.reason}" for a in r.failures)
        print(f"{r.status.upper()} {where} {r.label} [{r.model}]: {why}", file=out)
    if len(bad) > SHOWN_FAILURES:
        print(f"... and {len(bad) - SHOWN_FAILURES} more (see {output.display_path(saved)})", file=out)
    for c in result.cheapest:
        if c.chosen:
            print(
                f"cheapest passing model for {c.suite}: {c.chosen} ({c.current_passed}/{c.total} like {c.current}), saving "
                f"{output.money(c.saving_per_call)} per call, {output.money(c.saving_per_1000_calls)} per 1,000 calls",
                file=out,
            )
        else:
            print(f"cheapest passing model for {c.suite}: {c.note}", file=out)
    counts = result.counts
    state = "cancelled after" if result.cancelled else "ran"
    print(
        f"{state} {len(result.results)} case runs in {result.seconds:.1f}s: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['errored']} errored; {result.cached} from cache; spent {output.money(result.spent)}",
        file=out,
    )
    print(f"results: {output.display_path(saved)}", file=out)
