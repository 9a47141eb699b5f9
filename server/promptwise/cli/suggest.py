"""`promptwise suggest`: cheaper models for one prompt file, with savings, reasons and what was ruled out."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .. import access
from ..analysis import Analysis, analyze_file
from ..config import load_config
from ..routing import CAPABILITY_NAMES, DEFAULT_LIMIT, Suggestions, suggest_models
from ..routing.efforts import effort_json, effort_lines, options_for_file
from . import failures, output

_SHOWN_EXCLUSIONS = 5


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suggest",
        help="suggest cheaper models that fit a prompt and support what it uses",
        description="Price the prompt on every current chat model from the allowed providers (allowed_providers in "
        "config, else the current provider plus those whose API key is set) by the full cost of a call (warm when the "
        "provider caches the stable prefix, reasoning included) and list the cheapest that hold the prompt, its "
        "reserved output and reasoning, support its tools, images, JSON output and reasoning settings, and do not "
        "retire within suggest_min_days_left days.",
    )
    p.add_argument("file", type=Path, help="prompt file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help=f"at most N candidates (default {DEFAULT_LIMIT})")
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not os.path.lexists(path) or os.path.isdir(path):
        print(f"promptwise suggest: {path} is not a file", file=sys.stderr)
        return 2
    if args.limit < 1:
        print("promptwise suggest: --limit must be at least 1", file=sys.stderr)
        return 2
    why = failures.not_a_regular_file(path) or failures.link_outside(path)
    if why is not None:
        print(output.finding_line(path, None, failures.unreadable(why)), file=sys.stderr)
        return 2
    access.set_workspace([failures.workspace_root(path)])
    try:
        config = load_config(path)
        analysis = analyze_file(path, config)
    except failures.FILE_FAILURES as exc:
        print(output.finding_line(path, None, failures.failure_finding(exc, path)), file=sys.stderr)
        return 2
    finally:
        access.set_workspace(None)
    if not isinstance(analysis, Analysis):
        for finding in analysis:
            print(output.finding_line(path, None, finding), file=sys.stderr)
        return 2
    found = suggest_models(analysis, config, limit=args.limit)
    meant = did_you_mean(analysis)
    efforts = options_for_file(analysis, config)  # the reasoning-effort lever, on a reasoning model
    if args.json:
        extra = {"did_you_mean": meant} if meant else {}
        extra["reasoning_efforts"] = effort_json(efforts)
        print(json.dumps({"path": output.display_path(path), **found.to_json(), **extra}, indent=2, ensure_ascii=False))
    else:
        print_text(path, found, meant)
        for line in effort_lines(efforts):
            print(line)
    return 0


def did_you_mean(analysis: Analysis) -> str | None:
    """The catalog name the unknown-model finding suggests, when the file's model is not in the catalog."""
    if analysis.card is not None:
        return None
    return next((f.data["suggestion"] for f in analysis.findings if f.code == "unknown-model" and f.data.get("suggestion")), None)


def print_text(path: Path, found: Suggestions, meant: str | None = None) -> None:
    print(output.display_path(path))
    if found.card is None or found.current_cost is None:
        print(f"  {found.reason}")
        if meant:
            print(f"  did you mean {meant}? With that name in {output.printable(path.name)}, suggest can compare prices")
        return
    print(
        f"  {found.current}: {found.prompt_tokens:,} prompt tokens + {found.reserved_output:,} reserved for output, "
        f"{output.money(found.current_cost)} per call, priced {found.current_basis}"
    )
    needs = ", ".join(CAPABILITY_NAMES[r] for r in found.requirements) or "nothing special"
    print(f"  needs: {needs}")
    print(f"  providers: {found.providers_source or ', '.join(found.providers)}")
    print()
    if found.candidates:
        rows = []
        for c in found.candidates:
            rows.append(
                [
                    c.model,
                    output.money(c.cost_per_call) + ("" if c.exact else "~"),
                    # Savings read as savings: positive, in the column that says so.
                    f"{c.saving_share:.0%}",
                    output.money(c.saving * 1000) + " less",
                    output.tokens(c.card.context_window),
                    ",".join(s for s in CAPABILITY_NAMES if s in c.card.supports),
                    f"{c.pass_rate[0]}/{c.pass_rate[1]}" if c.pass_rate else "-",
                ]
            )
        print(
            output.table(
                ["model", "cost/call", "saving", "per 1,000 calls", "context", "supports", "evals"], rows, right=(1, 2, 3, 4)
            )
        )
        print()
        for c in found.candidates:
            print(f"  {c.model}: " + "; ".join(c.reasons))
            print(f"    priced: {c.basis}")
            for caveat in c.caveats:
                print(f"    note: {caveat}")
            if not c.edits and c.edit_note:
                print(f"    no edit: {c.edit_note}")
        print()
    print(found.reason)
    if found.excluded:
        shown = found.excluded[:_SHOWN_EXCLUSIONS]
        more = len(found.excluded) - len(shown)
        print("ruled out, though cheaper:")
        for e in shown:
            print(f"  {e.model}: {e.reason}")
        if more:
            print(f"  ... and {more} more")
    if found.skipped:
        parts = [f"{n:,} {why}" for why, n in sorted(found.skipped.items(), key=lambda kv: -kv[1])]
        print("not considered: " + ", ".join(parts))
