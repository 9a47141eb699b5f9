"""`promptwise eval`: run evaluation suites, show progress and a summary, write results and reports."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from .. import access
from ..config import load_config
from ..config.user import load_user_config
from ..evals import reports
from ..evals.cheapest import find_cheapest, trial_suites
from ..evals.preflight import check_models, over_limit
from ..evals.results import RunResult
from ..evals.routing import Routing
from ..evals.runner import CancelToken, PreparedSuite, Progress, RunOptions, destinations, key_envs, prepare, run_prepared
from ..evals.secrets import Secrets
from ..evals.spend import estimate_run
from ..evals.suite import LoadedSuite, SuiteProblem, find_suites, load_suite
from . import failures, output
from .cascade import Cascades, add_arguments as add_cascade_arguments

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
    add_cascade_arguments(p)
    p.add_argument(
        "--max-spend",
        type=float,
        metavar="USD",
        help="refuse the run, before any call, when its estimate is above this many dollars (default: evals.max_spend in the config)",
    )
    p.add_argument(
        "--api-base",
        metavar="URL",
        help="send every call to this OpenAI-compatible gateway (e.g. a LiteLLM Proxy); a repository's config cannot set this",
    )
    p.add_argument("--api-key-env", metavar="VAR", help="the environment variable whose value is sent as the key")
    p.add_argument(
        "--service-tier",
        choices=("standard", "batch", "flex", "priority"),
        help="price the run's calls at this tier's prices (e.g. batch, to estimate a batch job); the calls themselves "
        "still go out normally (default: the prompt's promptwise.service_tier, else the config's service_tier, else standard)",
    )
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


class ProgressPrinter:
    """A one-line bar on a terminal; a line per tenth of the run otherwise (CI logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr  # looked up now: a test (or caller) may have redirected it
        self.tty = self.stream.isatty()
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


class _Printer:
    """Everything the command prints passes through the scrubber: no key reaches the terminal or a CI log."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets

    def __call__(self, text: str, file: TextIO | None = None) -> None:
        print(self.secrets.scrub(text), file=file or sys.stdout)


def run(args: argparse.Namespace) -> int:
    for name in ("concurrency", "repeat", "max_candidates"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"promptwise eval: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    limit = getattr(args, "max_spend", None)
    if limit is not None and not (limit >= 0 and limit != float("inf")):
        print("promptwise eval: --max-spend must be a number of dollars, 0 or more", file=sys.stderr)
        return 2
    if args.api_key_env and not args.api_base and not os.environ.get(args.api_key_env):
        print(f"promptwise eval: --api-key-env {args.api_key_env}: that environment variable is not set", file=sys.stderr)
        return 2
    say = _Printer(Secrets([args.api_key_env] if args.api_key_env else []))
    try:
        return _run_command(args, say)
    except failures.FILE_FAILURES as exc:  # an internal error is one line; the traceback goes to the debug log
        message = say.secrets.scrub(failures.describe(exc)) or ""
        # The log gets the traceback with the scrubbed message: an exception may quote a key.
        failures.log_failure("promptwise eval failed", RuntimeError(message).with_traceback(exc.__traceback__))
        say(f"promptwise eval: internal error: {message}{failures.debug_hint()}", sys.stderr)
        return 2


def _run_command(args: argparse.Namespace, say: _Printer) -> int:
    paths = args.paths or [Path.cwd()]
    # The folders named on the command line (their repositories) are the workspace: suites and cases
    # files may read inside them, not beside them.
    access.set_workspace(access.project_root(p) for p in paths)
    found, missing = find_suites(paths)
    for problem in missing:
        say(f"promptwise eval: {problem}", sys.stderr)
    if not found:
        if not missing:
            say(f"promptwise eval: no *.evals.yaml suites under {', '.join(str(p) for p in paths)}", sys.stderr)
        return 2
    loaded = [_load(path) for path in found]
    printed: list[str] = []
    for suite in loaded:
        for problem in suite.problems:
            printed.append(problem.message)
            say(f"{output.display_path(problem.path)}:{problem.line + 1}:{problem.column + 1}: {problem.severity} {problem.message}", sys.stderr)
    for problem in load_user_config().problems:
        say(f"promptwise eval: user config: {problem}", sys.stderr)
    routing = None
    if args.api_base or args.api_key_env:
        flags = " ".join(f for f, v in (("--api-base", args.api_base), ("--api-key-env", args.api_key_env)) if v)
        routing = Routing(api_base=args.api_base, api_key_env=args.api_key_env, source=flags)
    options = RunOptions(
        models=args.models,
        concurrency=args.concurrency,
        repeat=args.repeat,
        use_cache=not args.no_cache,
        timeout=args.timeout,
        routing=routing,
        service_tier=getattr(args, "service_tier", None),
    )
    prepared = [prepare(s, options) for s in loaded]
    say = _Printer(Secrets(key_envs(prepared, options)))
    _show_plan(prepared, options, say, printed)
    if not _before_the_first_call(args, loaded, prepared, options, say):
        return 2
    printer = ProgressPrinter()
    cascades = Cascades.wanted(args)
    result, signalled = asyncio.run(_run(loaded, prepared, options, printer, args.cheapest, args.max_candidates, cascades))
    printer.finish()
    root = load_config(found[0]).root
    saved = reports.save_run(result, root)
    _write_outputs(args, result)
    _print_summary(result, saved, json_to_stdout=args.json is not None and str(args.json) == "-", say=say)
    cascade_code = cascades.report(say, sys.stderr if args.json is not None and str(args.json) == "-" else None) if cascades else 0
    if result.cancelled:
        return 128 + signalled if signalled else 130
    return 2 if missing or cascade_code else result.exit_code


def _load(path: Path) -> LoadedSuite:
    try:
        return load_suite(path)
    except Exception as exc:  # a bug in reading one suite costs that suite, not the run
        return LoadedSuite(path=path, suite=None, problems=[SuiteProblem(path, f"cannot read the suite: {type(exc).__name__}: {str(exc)[:200]}")])


def _show_plan(prepared: list[PreparedSuite], options: RunOptions, say: _Printer, printed: list[str]) -> None:
    """Before any call: what cannot run, what was ignored, and where each model's calls (and its key) will go.
    A problem already printed with its position (a suite's own errors) is not printed again."""
    shown: set[str] = set()
    for p in prepared:
        above = 0
        for problem in p.problems:
            if any(problem.endswith(f": {message}") or problem == message for message in printed):
                above += 1
            else:
                say(f"{p.display}: cannot run: {problem}", sys.stderr)
        if above:
            say(f"{p.display}: cannot run: {above} error{'s' if above != 1 else ''} above", sys.stderr)
        for warning in p.warnings:
            if warning not in shown and not any(warning.endswith(f": {message}") for message in printed):
                shown.add(warning)
                say(f"warning: {warning}", sys.stderr)
    found = destinations(prepared, options)
    if found:
        say("calls go to:", sys.stderr)
        for d in found:
            role = "" if d.role == "model" else f" ({d.role})"
            key = f", key from ${d.key_env}" if d.key_env else ""
            say(f"  {d.model}{role} -> {d.host} [{d.source}{key}]", sys.stderr)


def _before_the_first_call(
    args: argparse.Namespace, loaded: list[LoadedSuite], prepared: list[PreparedSuite], options: RunOptions, say: _Printer
) -> bool:
    """The estimate, then the checks that refuse a run before it spends anything; False when refused."""
    trials = [t for s in loaded if s.ok for t in trial_suites(s, options, args.max_candidates)] if args.cheapest else []
    cascades = Cascades.wanted(args)
    trials += cascades.trial_suites(loaded, options) if cascades else []
    estimate = estimate_run(prepared)
    estimate_run(trials, estimate)
    estimate.trials = len(trials)
    if any(p.runnable for p in prepared):
        say(f"estimate: {estimate.describe()}", sys.stderr)
    checks = check_models([*prepared, *trials], estimate)
    for c in checks:
        say(f"promptwise eval: {'error' if c.fatal else 'warning'}: {c.message}", sys.stderr)
    if any(c.fatal for c in checks):
        say("promptwise eval: no call was made", sys.stderr)
        return False
    limit, name = args.max_spend, "--max-spend"
    if limit is None:
        configured = [(p.config.settings.evals.max_spend, p.config) for p in prepared if p.config.settings.evals.max_spend is not None]
        if configured:
            limit, config = min(configured, key=lambda c: c[0])
            name = f"evals.max_spend in {output.display_path(config.path) if config.path else 'the config'}"
    refused = over_limit(estimate, limit, name)
    if refused:
        say(f"promptwise eval: refused: {refused}", sys.stderr)
        return False
    return True


async def _run(
    loaded: list[LoadedSuite],
    prepared: list[PreparedSuite],
    options: RunOptions,
    printer: ProgressPrinter,
    cheapest: bool,
    limit: int,
    cascades: Cascades | None = None,
) -> tuple[RunResult, int]:
    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        cancel.cancel()

    # The first Ctrl-C, or a SIGTERM (CI cancelling a job, `timeout`), stops the run and keeps what finished.
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop, signum)
            handled.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        result = await run_prepared(prepared, options, printer, cancel)
        if cheapest and not result.cancelled:
            for suite in loaded:
                if not suite.ok:
                    continue
                found = await find_cheapest(suite, result, options, printer, cancel, limit)
                if found is not None:
                    result.cheapest.append(found)
        if cascades is not None and not result.cancelled:
            await cascades.find(loaded, result, options, printer, cancel)
        return result, (received[0] if received and received[0] != signal.SIGINT else 0)
    finally:
        for signum in handled:
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError, ValueError):
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


def _print_summary(result: RunResult, saved: Path, json_to_stdout: bool, say: _Printer | None = None) -> None:
    out = sys.stderr if json_to_stdout else sys.stdout
    say = say or _Printer(Secrets())
    if result.models:
        say(output.table(reports.SUMMARY_HEADERS, reports.summary_rows(result), right=range(1, len(reports.SUMMARY_HEADERS))), file=out)
        tiers = sorted({s.service_tier for s in result.suites if s.service_tier != "standard"})
        if tiers:
            say(f"costs at the {' and '.join(tiers)} tier's prices (the calls went out as usual)", file=out)
    bad = [r for r in result.results if r.status != "passed"]
    for r in bad[:SHOWN_FAILURES]:
        where = f"{r.location.path}:{r.location.line + 1}" if r.location else r.suite
        why = r.error if r.status == "errored" else "; ".join(f"{a.type}: {a.reason}" for a in r.failures)
        say(f"{r.status.upper()} {where} {r.label} [{r.model}]: {why}", file=out)
    if len(bad) > SHOWN_FAILURES:
        say(f"... and {len(bad) - SHOWN_FAILURES} more (see {output.display_path(saved)})", file=out)
    for c in result.cheapest:
        if c.chosen:
            say(
                f"cheapest passing model for {c.suite}: {c.chosen}{f' at {c.chosen_effort} effort' if c.chosen_effort else ''} "
                f"({c.current_passed}/{c.total} like {c.current}), saving "
                f"{output.money(c.saving_per_call)} per call, {output.money(c.saving_per_1000_calls)} per 1,000 calls",
                file=out,
            )
        else:
            say(f"cheapest passing model for {c.suite}: {c.note}", file=out)
    counts = result.counts
    state = "cancelled after" if result.cancelled else "ran"
    say(
        f"{state} {len(result.results)} case runs in {result.seconds:.1f}s: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['errored']} errored; {result.cached} from cache; spent {output.money(result.spent)}",
        file=out,
    )
    say(f"results: {output.display_path(saved)}", file=out)
