"""`promptwise check`: find prompt files, analyze them, print a table and linter-style findings."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..analysis import Analysis, analyze_file
from ..analysis.rules import RULES
from .. import access
from ..config import Config, LoadedConfig, find_config_file, load_config
from ..formats import Finding, Format, Severity, detect_format, glob_match, is_partial
from ..text import LineIndex, Span
from . import costs, failures, output

SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", "dist", "build"}


@dataclass
class FileResult:
    path: Path
    format: Format | None
    analysis: Analysis | None
    findings: list[Finding] = field(default_factory=list)
    lines: LineIndex | None = None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="analyze prompt files: tokens, cost per call, budgets and findings",
        description="Find prompt files under PATHS (default: the current folder), print tokens, cost per call and "
        "budget use per file, and findings like a linter. Exits 1 when any finding is an error.",
    )
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text", help="output format")
    p.add_argument("--model", help="count and price every file with this model")
    p.add_argument(
        "--fix",
        action="store_true",
        help="apply safe trims (trailing whitespace, blank-line runs, exact duplicate paragraphs) to the files, "
        "report what changed, then check again",
    )
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


@dataclass
class Candidate:
    """A file `check` found; `problem` says why it is reported instead of analyzed."""

    path: Path
    format: Format | None
    config: LoadedConfig
    problem: str | None = None


# (config file, zero-based line, message, zero-based column) by (file, message): each problem once.
ConfigProblem = tuple[Path, int, str, int]
ConfigProblems = dict[tuple[Path, str], ConfigProblem]


def discover(paths: list[Path], problems: ConfigProblems | None = None) -> Iterator[Candidate]:
    """Prompt files under the paths; a file named directly is analyzed even if its name is unusual.

    Folders are walked without following symlinked folders (no loops, nothing outside the tree); a
    FIFO, device, socket, symlink loop or broken link with a prompt's name is reported, never opened.
    Problems of the configs found on the way go to `problems`.
    """
    problems = {} if problems is None else problems
    seen: set[Path] = set()
    for root in paths:
        config = _config(root, problems)
        if not os.path.isdir(root):
            why = failures.not_a_regular_file(root)
            real = _real(root)
            if why is None and real not in seen:
                seen.add(real)
                yield Candidate(root, _detect(root, config) or Format.PLAIN, config, failures.link_outside(root))
            elif why is not None:
                yield Candidate(root, _detect(root, config), config, why)
            continue
        walk_errors: list[OSError] = []
        for directory, dirnames, filenames in os.walk(root, onerror=walk_errors.append):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            folder = Path(directory)
            config = _config(folder, problems)
            for name in sorted(filenames):
                path = folder / name
                fmt = _detect(path, config)
                if fmt is None or is_partial(path) or _excluded(path, config, problems):
                    continue
                why = failures.not_a_regular_file(path)
                # A file reached twice (a symlink beside its target) is analyzed once; a loop or a
                # broken link has no target to share, so each is reported under its own name.
                key = _real(path) if why is None else Path(os.path.abspath(path))
                if key in seen:
                    continue
                seen.add(key)
                yield Candidate(path, fmt, config, why or failures.link_outside(path))
            yield from _unlisted(walk_errors, folder, config)
        yield from _unlisted(walk_errors, root, config)


def _unlisted(errors: list[OSError], folder: Path, config: LoadedConfig) -> Iterator[Candidate]:
    """Folders the walk could not list (permissions, a folder removed meanwhile), each reported once."""
    for error in errors:
        where = Path(error.filename) if error.filename else folder
        yield Candidate(where, None, config, f"cannot list the folder {where}: {error.strerror or error}")
    errors.clear()


def _config(start: Path, problems: ConfigProblems) -> LoadedConfig:
    """The config for a file or folder; a config that makes loading fail is a problem, and defaults apply."""
    try:
        config = load_config(start)
    except failures.FILE_FAILURES as exc:
        try:
            where = find_config_file(start) or start
        except failures.FILE_FAILURES:
            where = start
        failures.log_failure(f"loading the config for {start} failed", exc)
        message = f"{where.name} could not be loaded: {failures.describe(exc)}; defaults are used"
        problems.setdefault((where, message), (where, 0, message, 0))
        return _defaults()
    for problem in config.problems:
        problems.setdefault((problem.path, problem.message), (problem.path, problem.line, failures.one_line(problem.message), problem.column))
    return config


def _defaults() -> LoadedConfig:
    return LoadedConfig(Config(), None, [])


def _detect(path: Path, config: LoadedConfig) -> Format | None:
    try:
        return detect_format(path, config.settings.plain_prompts, config.root)
    except failures.FILE_FAILURES:
        # A symlink loop cannot be resolved against the plain_prompts globs: go by the name alone.
        return detect_format(path)


def _excluded(path: Path, config: LoadedConfig, problems: ConfigProblems) -> bool:
    try:
        relative = config.relative(path)
    except failures.FILE_FAILURES:  # a symlink loop: reported as such, not excluded
        return False
    if relative is None:
        return False
    for pattern in config.settings.exclude:
        try:
            if glob_match(relative, pattern):
                return True
        except failures.FILE_FAILURES as exc:
            where = config.path or Path("<settings>")
            message = f"exclude pattern {pattern!r} is not a valid glob ({failures.describe(exc)}); it is ignored"
            problems.setdefault((where, message), (where, 0, failures.one_line(message), 0))
    return False


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_paths(paths: list[Path], model: str | None = None) -> tuple[list[FileResult], list[ConfigProblem]]:
    """Every file found is one result: analyzed, or reported with why it was not (never an exception)."""
    results: list[FileResult] = []
    config_problems: ConfigProblems = {}
    for item in discover(paths, config_problems):
        results.append(check_one(item, model))
    return results, list(config_problems.values())


def check_one(item: Candidate, model: str | None = None) -> FileResult:
    if item.problem is not None or item.format is None:
        reason = item.problem or f"{item.path} does not exist"
        return FileResult(item.path, item.format, None, [failures.unreadable(reason)])
    try:
        analysis = analyze_file(item.path, item.config, item.format, model)
        if isinstance(analysis, Analysis):
            return FileResult(item.path, item.format, analysis, analysis.findings, analysis.document.lines)
        return FileResult(item.path, item.format, None, list(analysis))
    except failures.FILE_FAILURES as exc:
        return FileResult(item.path, item.format, None, [failures.failure_finding(exc, item.path)])


def run(args: argparse.Namespace) -> int:
    paths = args.paths or [Path(".")]
    # Includes, partials and samples may be read from the folders the user chose, not beyond.
    access.set_workspace([failures.workspace_root(p) for p in paths])
    try:
        results, config_problems = check_paths(paths, args.model)
        if getattr(args, "fix", False):
            results, config_problems = _fix(results, paths, args)
    finally:
        access.set_workspace(None)
    if args.format == "json":
        print(json.dumps(to_json(results, config_problems), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(results, config_problems), indent=2, ensure_ascii=False))
    elif args.format == "github":
        print_github(results, config_problems)
    else:
        print_text(results, config_problems)
    failed = bool(config_problems) or any(f.severity is Severity.ERROR for r in results for f in r.findings)
    return 1 if failed else 0


def _fix(results: list[FileResult], paths: list[Path], args: argparse.Namespace):
    """Write the safe trims, report them (on stderr when stdout carries JSON or SARIF), and check again."""
    from ..fixes.apply import FileFix, fix_file

    stream = sys.stdout if args.format == "text" else sys.stderr
    fixed = []
    for r in results:
        try:
            fixed.append(fix_file(r.path, r.analysis, r.findings))
        except failures.FILE_FAILURES as exc:
            failures.log_failure(f"fixing {r.path} failed", exc)
            skipped = FileFix(r.path)
            skipped.skipped = f"not fixed: {failures.describe(exc)}"
            fixed.append(skipped)
    for f in fixed:
        if f.changed or f.skipped:
            print(f"{output.printable(output.display_path(f.path))}: {f.describe()}", file=stream)
    changed = [f for f in fixed if f.changed]
    saved = sum(f.tokens_saved for f in changed)
    print(f"fixed {len(changed)} file{'s' if len(changed) != 1 else ''}, {saved:,} tokens saved per call\n", file=stream)
    return check_paths(paths, args.model)


def print_text(results: list[FileResult], config_problems: list[ConfigProblem]) -> None:
    if not results:
        print(
            "no prompt files found: check reads .prompty, .prompt, agent and Copilot instruction files, and the plain "
            "prompts that the plain_prompts globs in promptwise.toml match (by default prompts/**/*.txt and prompts/**/*.md)"
        )
    rows = []
    monthly = costs.has_volume([r.analysis for r in results])  # the column only when some file has a volume
    for r in results:
        a = r.analysis
        counts = _count_findings(r.findings)
        if a is None:
            rows.append([output.printable(output.display_path(r.path)), r.format.value if r.format else "-", "-", "-", "-", *(["-"] if monthly else []), "-", counts])
            continue
        tokens = output.tokens(a.prompt_tokens) + ("" if a.exact else "~")
        budget = f"{output.percent(a.budget_share)} of {a.budget:,}" if a.budget else "-"
        month = [costs.per_month_cell(a)] if monthly else []
        rows.append([output.printable(output.display_path(r.path)), r.format.value if r.format else "-", output.printable(a.model), tokens, costs.per_call_cell(a), *month, budget, counts])
    if rows:
        headers = ["file", "format", "model", "tokens", "cost/call", *(["per month"] if monthly else []), "budget", "findings"]
        print(output.table(headers, rows, right=(3, 4, 5) if monthly else (3, 4)))
        if any(r.analysis is not None and costs.basis(r.analysis.estimate) == "warm" for r in results):
            print(costs.WARM_FOOTER)
        reasoned = [r.analysis.reasoning for r in results if r.analysis is not None and r.analysis.reasoning.tokens]
        if reasoned:
            kinds = ", ".join(f"{sum(1 for x in reasoned if x.kind == k)} {k}" for k in ("measured", "configured", "assumed") if any(x.kind == k for x in reasoned))
            print(f"cost/call includes reasoning tokens for {len(reasoned)} file{'s' if len(reasoned) != 1 else ''} ({kinds}); `promptwise count FILE` says where each figure comes from")
        reasons = {r.analysis.exact_reason: None for r in results if r.analysis is not None and r.analysis.exact_reason}
        if 0 < len(reasons) <= 3:
            for reason in reasons:
                print(f"~ estimate: {output.message_line(reason)}")
        elif reasons:
            print("~ estimate: the tokenizer or text is not the provider's; `promptwise check --format json` gives each file's exact_reason")
    lines = [output.config_problem_line(p, line, msg, column) for p, line, msg, column in config_problems]
    for r in results:
        lines.extend(output.finding_line(r.path, r.lines, f) for f in r.findings)
    if lines:
        print()
        print("\n".join(lines))
    errors = sum(1 for r in results for f in r.findings if f.severity is Severity.ERROR) + len(config_problems)
    warnings = sum(1 for r in results for f in r.findings if f.severity is Severity.WARNING)
    total = sum(r.analysis.prompt_tokens for r in results if r.analysis)
    priced = [r.analysis.cost_per_call for r in results if r.analysis and r.analysis.cost_per_call is not None]
    spend = f", {output.money(sum(priced))} for one call of each" if priced else ""
    print(f"\n{len(results)} file{'s' if len(results) != 1 else ''}, {total:,} tokens{spend}, {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")


def _count_findings(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    parts = []
    if errors:
        parts.append(f"{errors} error" + ("s" if errors > 1 else ""))
    if warnings:
        parts.append(f"{warnings} warning" + ("s" if warnings > 1 else ""))
    return ", ".join(parts) or "ok"


def _location(r: FileResult, span: Span) -> dict[str, int]:
    if r.lines is None:
        return {"line": 1, "column": 1, "end_line": 1, "end_column": 1}
    try:
        start, end = r.lines.position(span.start), r.lines.position(span.end)
    except (IndexError, ValueError):  # a span outside the text: the file start still names the file
        return {"line": 1, "column": 1, "end_line": 1, "end_column": 1}
    return {"line": start.line + 1, "column": start.character + 1, "end_line": end.line + 1, "end_column": end.character + 1}


def to_json(results: list[FileResult], config_problems: list[ConfigProblem]) -> dict[str, Any]:
    files = []
    for r in results:
        a = r.analysis
        entry: dict[str, Any] = {"path": output.display_path(r.path), "format": r.format.value if r.format else None}
        if a is not None:
            entry.update(
                model=a.model,
                catalog_model=a.card.name if a.card else None,
                tokenizer=a.tokenizer.encoding,
                exact=a.exact,
                exact_reason=a.exact_reason,
                prompt_tokens=a.prompt_tokens,
                tools_tokens=a.tools_tokens,
                on_use_tokens=a.on_use_tokens,
                expected_output_tokens=a.expected_output_tokens,
                input_cost=a.input_cost,
                cost_per_call=a.cost_per_call,
                **costs.cost_json(a),
                budget=a.budget,
                budget_share=a.budget_share,
                context_window=a.context_window,
                context_share=a.context_share,
                messages=[
                    {
                        "role": m.message.role,
                        "name": m.message.name,
                        "tokens": m.tokens,
                        "content_tokens": m.content_tokens,
                        "line": a.document.lines.position(m.message.span.start).line + 1,
                        "includes": [{"target": i.include.target, "tokens": i.tokens} for i in m.includes],
                        **({"on_use": True} if m.message.on_use else {}),
                    }
                    for m in a.messages
                ],
            )
        entry["findings"] = [
            {"code": f.code, "severity": f.severity.value, "message": f.message, **_location(r, f.span), **({"data": costs.finding_properties(f)} if f.data else {})}
            for f in r.findings
        ]
        files.append(entry)
    errors = sum(1 for r in results for f in r.findings if f.severity is Severity.ERROR) + len(config_problems)
    return {
        "files": files,
        "config_problems": [{"path": str(p), "line": line + 1, "column": column + 1, "message": m} for p, line, m, column in config_problems],
        "summary": {
            "files": len(results),
            "prompt_tokens": sum(r.analysis.prompt_tokens for r in results if r.analysis),
            # One call of each priced file, warm where cached (as each file's cost_per_call).
            "cost_per_call": sum(a.cost_per_call for r in results if (a := r.analysis) and a.cost_per_call is not None),
            "per_month": _monthly_total(results),
            "errors": errors,
            "warnings": sum(1 for r in results for f in r.findings if f.severity is Severity.WARNING),
        },
    }


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.HINT: "note"}


def to_sarif(results: list[FileResult], config_problems: list[ConfigProblem]) -> dict[str, Any]:
    from .. import __version__

    sarif_results = []
    for r in results:
        for f in r.findings:
            loc = _location(r, f.span)
            sarif_results.append(
                {
                    "ruleId": f.code,
                    "level": _SARIF_LEVEL[f.severity],
                    "message": {"text": f.message},
                    "locations": [_sarif_location(r.path, loc)],
                    **({"relatedLocations": _sarif_related(r, f)} if f.related else {}),
                    **({"properties": costs.finding_properties(f)} if f.data else {}),
                }
            )
    for path, line, message, column in config_problems:
        sarif_results.append(
            {
                "ruleId": "invalid-config",
                "level": "error",
                "message": {"text": message},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(path), "region": {"startLine": line + 1, "startColumn": column + 1}}}],
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "promptwise",
                        "version": __version__,
                        "rules": [{"id": code, "shortDescription": {"text": text}} for code, text in RULES.items()],
                    }
                },
                "columnKind": "utf16CodeUnits",
                # Locations are relative to the folder check ran in, so code scanning maps them onto the checkout.
                "originalUriBaseIds": {SRCROOT: {"uri": Path(os.path.abspath(".")).as_uri().rstrip("/") + "/"}},
                "results": sarif_results,
            }
        ],
    }


SRCROOT = "%SRCROOT%"


def _artifact(path: Path) -> dict[str, str]:
    """A file's SARIF artifactLocation: relative to %SRCROOT% (the folder check ran in), or an absolute
    file URI for a file outside it."""
    shown = Path(output.display_path(path))
    if shown.is_absolute() or shown.parts[:1] == ("..",):
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": shown.as_posix(), "uriBaseId": SRCROOT}


def _sarif_location(path: Path, loc: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": loc["line"], "startColumn": loc["column"], "endLine": loc["end_line"], "endColumn": loc["end_column"]}
    return {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}


def _sarif_related(r: FileResult, f: Finding) -> list[dict[str, Any]]:
    """Where a finding points besides its own span (the static text a cache-busting variable keeps out of the cache)."""
    related = []
    for i, rel in enumerate(f.related):
        if rel.span is not None and rel.path == r.path:
            loc = _location(r, rel.span)
        else:  # another file, placed by line and column
            loc = {"line": rel.line + 1, "column": rel.character + 1, "end_line": rel.line + 1, "end_column": rel.character + 1}
        related.append({"id": i, **_sarif_location(rel.path, loc), "message": {"text": rel.message}})
    return related


def _monthly_total(results: list[FileResult]) -> float | None:
    months = [a.estimate.per_month for r in results if (a := r.analysis) and a.estimate and a.estimate.per_month is not None]
    return sum(months) if months else None


def _escape_github(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    value = output.printable(value)  # no terminal escapes in the workflow log
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def print_github(results: list[FileResult], config_problems: list[ConfigProblem]) -> None:
    kinds = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice", Severity.HINT: "notice"}
    for path, line, message, column in config_problems:
        print(f"::error file={_escape_github(output.display_path(path), True)},line={line + 1},col={column + 1},title=invalid-config::{_escape_github(message)}")
    for r in results:
        for f in r.findings:
            loc = _location(r, f.span)
            props = (
                f"file={_escape_github(output.display_path(r.path), True)},line={loc['line']},col={loc['column']},"
                f"endLine={loc['end_line']},endColumn={loc['end_column']},title={f.code}"
            )
            print(f"::{kinds[f.severity]} {props}::{_escape_github(f.message)}")
