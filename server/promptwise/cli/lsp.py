"""`promptwise lsp`: start the language server on stdio, or TCP for debugging."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lsp", help="start the language server (stdio)", description="Start the promptwise language server.")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (for debugging)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..lsp.server import start

    return start(args.tcp)
