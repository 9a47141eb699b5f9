"""The `promptwise` command: a subcommand per job, all over the same engine."""

from __future__ import annotations

import argparse
import sys

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    from . import check, count, lsp, models, schema

    commands = [check, count, models, schema, lsp]
    parser = argparse.ArgumentParser(
        prog="promptwise",
        description="Token counts, costs, budgets and evals for LLM prompt files.",
    )
    parser.add_argument("--version", action="version", version=f"promptwise {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
