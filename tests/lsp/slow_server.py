"""The real language server, with analysis made slow for files named `slow-*`: a stand-in for a file
that takes long to analyze (huge, or hostile), without depending on any engine limit.

    python tests/lsp/slow_server.py

The analysis of such a file spins on the CPU (holding the GIL in turns, as a template render does)
until a file named `release` appears beside it, so a test decides when it ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "server"))

from promptwise.lsp import documents  # noqa: E402

_analyze = documents.Workspace.analyze


def slow_analyze(self, job):
    if job.path.name.startswith("slow-"):
        release = job.path.parent / "release"
        n = 0
        while not release.exists():
            n += sum(range(20_000))  # pure Python work, as a hostile template's loop
    return _analyze(self, job)


documents.Workspace.analyze = slow_analyze  # type: ignore[method-assign]

if __name__ == "__main__":
    from promptwise.lsp.server import start

    sys.exit(start())
