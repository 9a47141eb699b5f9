"""`promptwise count`: tokens and cost of one prompt file, stdin, or an OpenAI chat request body."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .. import access
from ..analysis import Analysis, analyze, analyze_file, analyze_text
from ..config import LoadedConfig, load_config
from ..formats import Finding, Format, Severity, too_large
from ..formats.chat_request import InvalidRequest, RequestDocument, request_document
from ..text import LineIndex, Span
from . import costs, failures, output


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "count",
        help="count the tokens of a prompt file, stdin, or a chat request (.json)",
        description="Count prompt tokens and cost. FILE is a prompt file, '-' for stdin, or a .json OpenAI chat "
        "request body with model, messages and optional tools.",
    )
    p.add_argument("file", help="prompt file, '-' for stdin, or a .json request body")
    p.add_argument("--model", help="model to count and price with (default: the file's, else the config's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


class InputError(ValueError):
    """A usage error: the argument names no file."""


class Uncountable(Exception):
    """The file exists but could not be counted; its findings say why."""

    def __init__(self, path: Path, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.path, self.findings = path, findings


def count(file: str, model: str | None) -> Analysis:
    if file == "-":
        config = load_config(Path.cwd())
        # Bounded like a file: one character more than the limit is enough to report it.
        text = sys.stdin.read(config.settings.max_file_size + 1)
        stripped = text.lstrip()
        if stripped.startswith("{") and too_large(text, config.settings.max_file_size) is None:
            try:
                body = json.loads(text)
            except (ValueError, RecursionError):
                body = None
            if isinstance(body, dict) and "messages" in body:
                try:
                    return analyze_request(request_document(body, Path("<stdin>")), config, model)
                except InvalidRequest as exc:
                    raise Uncountable(Path("<stdin>"), [_problem("invalid-request", str(exc))]) from None
        result = analyze_text(Path("stdin.txt"), text, config, Format.PLAIN, model)
        if not isinstance(result, Analysis):
            raise Uncountable(Path("<stdin>"), list(result))
        return result
    path = Path(file)
    if os.path.isdir(path):
        # One file's parts are what count shows; check gives the same figures per file for a folder.
        raise InputError(
            f"{output.printable(file)} is a folder: count takes one file; "
            f"`promptwise check {output.printable(file)}` counts every prompt file in it"
        )
    why = failures.not_a_regular_file(path)
    if why is not None and not os.path.lexists(path):
        raise InputError(f"{file}: no such file")
    why = why or failures.link_outside(path)
    if why is not None:
        raise Uncountable(path, [failures.unreadable(why)])
    config = load_config(path)
    if path.suffix == ".json":
        return analyze_request(_request_file(path, config), config, model)
    from ..formats import detect_format

    fmt = detect_format(path, config.settings.plain_prompts, config.root) or Format.PLAIN
    result = analyze_file(path, config, fmt, model)
    if not isinstance(result, Analysis):
        raise Uncountable(path, list(result))
    return result


def analyze_request(doc: RequestDocument, config: LoadedConfig, model: str | None) -> Analysis:
    a = analyze(doc, config, model=model)
    if doc.tool_calls:
        # No published rule frames tool calls: their JSON is counted as text.
        why = f"tool calls in {doc.tool_calls} message{'s' if doc.tool_calls != 1 else ''} are counted as their JSON"
        a.exact = False
        a.exact_reason = f"{a.exact_reason}; {why}" if a.exact_reason else why
    return a


def _request_file(path: Path, config: LoadedConfig) -> RequestDocument:
    data, why = access.read_bytes(path, config.settings.max_file_size)
    if data is None:
        raise Uncountable(path, [failures.unreadable(why or "cannot read the file")])
    try:
        body = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else failures.one_line(str(exc))
        raise Uncountable(path, [_problem("invalid-request", f"not valid JSON: {reason}")]) from None
    try:
        return request_document(body, path)
    except InvalidRequest as exc:
        raise Uncountable(path, [_problem("invalid-request", str(exc))]) from None


def _problem(code: str, message: str) -> Finding:
    return Finding(code, Severity.ERROR, message, Span(0, 0))


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the input was counted without errors (its findings go to stderr), 1 when a finding or a
    setting is an error or it could not be counted (as `check`), 2 for no such file or a folder."""
    # Imports and samples are read from the project of the file counted (stdin: the current folder).
    access.set_workspace([Path.cwd() if args.file == "-" else failures.workspace_root(Path(args.file))])
    try:
        a = count(args.file, args.model)
    except InputError as exc:
        print(f"promptwise count: {exc}", file=sys.stderr)
        return 2
    except Uncountable as exc:
        return _report_uncountable(exc.path, exc.findings, args.json)
    except failures.FILE_FAILURES as exc:
        path = Path("<stdin>") if args.file == "-" else Path(args.file)
        return _report_uncountable(path, [failures.failure_finding(exc, path)], args.json)
    finally:
        access.set_workspace(None)
    config_errors = _print_config_problems(Path.cwd() if args.file == "-" else Path(args.file))
    shown = [f for f in a.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
    status = 1 if config_errors or a.errors else 0
    if args.json:
        print(
            json.dumps(
                {
                    "prompt_tokens": a.prompt_tokens,
                    "model": a.model,
                    "catalog_model": a.card.name if a.card else None,
                    "tokenizer": a.tokenizer.encoding,
                    "exact": a.exact,
                    "exact_reason": a.exact_reason,
                    "cost": a.input_cost,
                    "expected_output_tokens": a.expected_output_tokens,
                    "cost_per_call": a.cost_per_call,  # warm when the provider caches the prefix: see basis
                    **costs.cost_json(a),
                    "tools_tokens": a.tools_tokens,
                    "on_use_tokens": a.on_use_tokens,
                    "messages": [_message_json(m) for m in a.messages],
                    "context_window": a.context_window,
                    "findings": [_finding_json(a.document.lines, f) for f in shown],
                }
            )
        )
        return status
    kind = "exact" if a.exact else "estimate"
    print(f"{a.prompt_tokens:,} prompt tokens ({kind}, {a.tokenizer.encoding}) on {output.printable(a.model)}")
    for m in a.messages:
        if m.message.on_use:
            continue
        label = m.message.role + (f" ({m.message.name})" if m.message.name else "")
        print(f"  {output.printable(label):<24}{m.tokens:>10,}")
    if a.tools_tokens:
        print(f"  {'tool definitions':<24}{a.tools_tokens:>10,}")
    if a.reply_priming:
        print(f"  {'reply priming' + ('' if a.tokenizer.framing.published else ' (assumed)'):<24}{a.reply_priming:>10,}")
    if not a.tokenizer.framing.published:
        print(f"  framing: {a.tokenizer.framing.rule}")
    if a.on_use_tokens:
        print(f"  {'on use (not per call)':<24}{a.on_use_tokens:>10,}")
    for line in costs.text_lines(a):
        print(line)
    if a.exact_reason:
        print(f"~ estimate: {output.message_line(a.exact_reason)}")
    for f in shown:
        print(output.finding_line(a.document.path, a.document.lines, f), file=sys.stderr)
    return status


def _print_config_problems(start: Path) -> int:
    """A bad setting in the config that applied: its default was used, and the user is told so. Returns how many."""
    try:
        problems = load_config(start).problems
    except failures.FILE_FAILURES:
        return 0
    for p in problems:
        print(output.config_problem_line(p.path, p.line, p.message, p.column), file=sys.stderr)
    return len(problems)


def _report_uncountable(path: Path, findings: list[Finding], as_json: bool) -> int:
    """A file that could not be counted: its findings, naming it; exit status 1."""
    if as_json:
        entries = [_finding_json(None, f) for f in findings]
        print(json.dumps({"path": output.display_path(path), "counted": False, "findings": entries}))
    else:
        for f in findings:
            print(output.finding_line(path, None, f), file=sys.stderr)
    return 1


def _message_json(m: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": m.message.role, "tokens": m.tokens}
    if m.message.on_use:
        entry["on_use"] = True  # not in prompt_tokens
    return entry


def _finding_json(lines: LineIndex | None, f: Finding) -> dict[str, Any]:
    line = column = 1
    if lines is not None:
        try:
            pos = lines.position(f.span.start)
            line, column = pos.line + 1, pos.character + 1
        except (IndexError, ValueError):
            pass
    return {"code": f.code, "severity": f.severity.value, "message": f.message, "line": line, "column": column}
