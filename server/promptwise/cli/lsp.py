"""`promptwise lsp`: start the language server on stdio, or TCP for debugging."""

from __future__ import annotations

import argparse
import os


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lsp", help="start the language server (stdio)", description="Start the promptwise language server.")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (for debugging)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # pydantic looks for plugins (observability hooks) by scanning the entry points of every installed
    # package when it builds its first model; the server has no use for them and starts ~10 ms sooner.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from ..lsp.server import start

    return start(args.tcp)
