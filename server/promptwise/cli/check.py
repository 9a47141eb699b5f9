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
from ..config import LoadedConfig, load_config
from ..formats import Finding, Format, Severity, detect_format, glob_match, is_partial
from ..text import LineIndex, Span
from . import output

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
    p.set_defaults(run=run)


def discover(paths: list[Path]) -> Iterator[tuple[Path, Format | None, LoadedConfig]]:
    """Prompt files under the paths; a file named directly is analyzed even if its name is unusual."""
    seen: set[Path] = set()
    for root in paths:
        if root.is_file():
            config = load_config(root)
            fmt = detect_format(root, config.settings.plain_prompts, config.root)
            if root.resolve() not in seen:
                seen.add(root.resolve())
                yield root, fmt or Format.PLAIN, config
            continue
        if not root.exists():
            yield root, None, load_config(Path.cwd())
            continue
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            folder = Path(directory)
            config = load_config(folder)
            for name in sorted(filenames):
                path = folder / name
                fmt = detect_format(path, config.settings.plain_prompts, config.root)
                if fmt is None or is_partial(path):
                    continue
                relative = config.relative(path)
                if relative is not None and any(glob_match(relative, g) for g in config.settings.exclude):
                    continue
                if path.resolve() in seen:
                    continue
                seen.add(path.resolve())
                yield path, fmt, config


def check_paths(paths: list[Path], model: str | None = None) -> tuple[list[FileResult], list[tuple[Path, int, str]]]:
    results: list[FileResult] = []
    config_problems: dict[tuple[Path, str], tuple[Path, int, str]] = {}
    for path, fmt, config in discover(paths):
        for problem in config.problems:
            config_problems[(problem.path, problem.message)] = (problem.path, problem.line, problem.message)
        if fmt is None:
            missing = Finding("unreadable-file", Severity.ERROR, f"{path} does not exist", Span(0, 0))
            results.append(FileResult(path, None, None, [missing]))
            continue
        analysis = analyze_file(path, config, fmt, model)
        if isinstance(analysis, Analysis):
            results.append(FileResult(path, fmt, analysis, analysis.findings, analysis.document.lines))
        else:
            results.append(FileResult(path, fmt, None, analysis))
    return results, list(config_problems.values())


def run(args: argparse.Namespace) -> int:
    paths = args.paths or [Path(".")]
    results, config_problems = check_paths(paths, args.model)
    if getattr(args, "fix", False):
        results, config_problems = _fix(results, paths, args)
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
    from ..fixes.apply import fix_file

    stream = sys.stdout if args.format == "text" else sys.stderr
    fixed = [fix_file(r.path, r.analysis, r.findings) for r in results]
    for f in fixed:
        if f.changed or f.skipped:
            print(f"{output.display_path(f.path)}: {f.describe()}", file=stream)
    changed = [f for f in fixed if f.changed]
    saved = sum(f.tokens_saved for f in changed)
    print(f"fixed {len(changed)} file{'s' if len(changed) != 1 else ''}, {saved:,} tokens saved per call\n", file=stream)
    return check_paths(paths, args.model)


def print_text(results: list[FileResult], config_problems: list[tuple[Path, int, str]]) -> None:
    if not results:
        print("no prompt files found")
    rows = []
    for r in results:
        a = r.analysis
        counts = _count_findings(r.findings)
        if a is None:
            rows.append([output.display_path(r.path), r.format.value if r.format else "-", "-", "-", "-", "-", counts])
            continue
        tokens = output.tokens(a.prompt_tokens) + ("" if a.exact else "~")
        budget = f"{output.percent(a.budget_share)} of {a.budget:,}" if a.budget else "-"
        rows.append([output.display_path(r.path), r.format.value if r.format else "-", a.model, tokens, output.money(a.cost_per_call), budget, counts])
    if rows:
        print(output.table(["file", "format", "model", "tokens", "cost/call", "budget", "findings"], rows, right=(3, 4)))
        if any(r.analysis is not None and not r.analysis.exact for r in results):
            print("~ estimate: no exact offline tokenizer for that model")
    lines = [f"{output.display_path(p)}:{line + 1}:1: error invalid-config {msg}" for p, line, msg in config_problems]
    for r in results:
        lines.extend(output.finding_line(r.path, r.lines, f) for f in r.findings)
    if lines:
        print()
        print("\n".join(lines))
    errors = sum(1 for r in results for f in r.findings if f.severity is Severity.ERROR) + len(config_problems)
    warnings = sum(1 for r in results for f in r.findings if f.severity is Severity.WARNING)
    total = sum(r.analysis.prompt_tokens for r in results if r.analysis)
    print(f"\n{len(results)} files, {total:,} tokens, {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")


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
    start, end = r.lines.position(span.start), r.lines.position(span.end)
    return {"line": start.line + 1, "column": start.character + 1, "end_line": end.line + 1, "end_column": end.character + 1}


def to_json(results: list[FileResult], config_problems: list[tuple[Path, int, str]]) -> dict[str, Any]:
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
                prompt_tokens=a.prompt_tokens,
                tools_tokens=a.tools_tokens,
                expected_output_tokens=a.expected_output_tokens,
                input_cost=a.input_cost,
                cost_per_call=a.cost_per_call,
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
                    }
                    for m in a.messages
                ],
            )
        entry["findings"] = [
            {"code": f.code, "severity": f.severity.value, "message": f.message, **_location(r, f.span)} for f in r.findings
        ]
        files.append(entry)
    errors = sum(1 for r in results for f in r.findings if f.severity is Severity.ERROR) + len(config_problems)
    return {
        "files": files,
        "config_problems": [{"path": str(p), "line": line + 1, "message": m} for p, line, m in config_problems],
        "summary": {
            "files": len(results),
            "prompt_tokens": sum(r.analysis.prompt_tokens for r in results if r.analysis),
            "errors": errors,
            "warnings": sum(1 for r in results for f in r.findings if f.severity is Severity.WARNING),
        },
    }


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.HINT: "note"}


def to_sarif(results: list[FileResult], config_problems: list[tuple[Path, int, str]]) -> dict[str, Any]:
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
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": Path(output.display_path(r.path)).as_posix()},
                                "region": {
                                    "startLine": loc["line"],
                                    "startColumn": loc["column"],
                                    "endLine": loc["end_line"],
                                    "endColumn": loc["end_column"],
                                },
                            }
                        }
                    ],
                }
            )
    for path, line, message in config_problems:
        sarif_results.append(
            {
                "ruleId": "invalid-config",
                "level": "error",
                "message": {"text": message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": Path(output.display_path(path)).as_posix()}, "region": {"startLine": line + 1}}}],
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
                "results": sarif_results,
            }
        ],
    }


def _escape_github(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def print_github(results: list[FileResult], config_problems: list[tuple[Path, int, str]]) -> None:
    kinds = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice", Severity.HINT: "notice"}
    for path, line, message in config_problems:
        print(f"::error file={_escape_github(output.display_path(path), True)},line={line + 1},title=invalid-config::{_escape_github(message)}")
    for r in results:
        for f in r.findings:
            loc = _location(r, f.span)
            props = (
                f"file={_escape_github(output.display_path(r.path), True)},line={loc['line']},col={loc['column']},"
                f"endLine={loc['end_line']},endColumn={loc['end_column']},title={f.code}"
            )
            print(f"::{kinds[f.severity]} {props}::{_escape_github(f.message)}")
