"""The `promptwise` command: a subcommand per job, all over the same engine."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from . import failures

# Subcommand -> (module, one-line help). Only the module of the command being run is imported,
# so `check` does not pay for the language server's or the eval runner's imports.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "analyze prompt files: tokens, cost per call, budgets and findings"),
    "count": ("count", "count the tokens of a prompt file, stdin, or a chat request (.json)"),
    "models": ("models", "list models with prices per million tokens and context windows"),
    "suggest": ("suggest", "suggest cheaper models that fit a prompt and support what it uses"),
    "diff": ("diff", "compare prompt files' tokens and cost with a git base (a PR's cost in review)"),
    "eval": ("eval", "run evaluation suites (NAME.evals.yaml) against models"),
    "schema": ("schema", "write JSON Schemas for the config, frontmatter and suites to schemas/"),
    "lsp": ("lsp", "start the language server (stdio)"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promptwise",
        description="Token counts, costs, budgets and evals for LLM prompt files.",
    )
    parser.add_argument("--version", action="version", version=f"promptwise {__version__}")
    failures.add_debug_arguments(parser, prefix="global_")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(f"{__package__}.{module}").add_parser(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    log = getattr(args, "debug_log", None) or args.global_debug_log
    try:
        failures.set_debug(bool(getattr(args, "debug", False) or args.global_debug), log)
    except OSError as exc:
        print(f"promptwise: cannot open the debug log {log}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except failures.FILE_FAILURES as exc:
        # Each file's failure is already a finding; this is a failure of the run itself.
        failures.log_failure(f"promptwise {args.command} failed", exc)
        print(f"promptwise {args.command}: internal error: {failures.describe(exc)}{failures.debug_hint()}", file=sys.stderr)
        return 2
    finally:
        _save_cache()
        failures.set_debug(False)


def _save_cache() -> None:
    try:
        from ..tokens import CACHE

        CACHE.save()
    except failures.FILE_FAILURES as exc:  # a full disk must not turn a finished run into a traceback
        failures.log_failure("saving the token cache failed", exc)
