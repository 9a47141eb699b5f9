"""Modules at the top of a repository that a Python started in it would import instead of the real ones.

The VS Code extension starts its interpreter probe (`python -c`) and the server (`python -m promptwise lsp`)
outside the workspace and with `-I`/`-P`, so these never run there (vscode-extension/test/launch.test.ts and
the end-to-end test open a folder like this one). Here they check the same of `check`, `count`, the language
server and `eval` run with the workspace as the working folder: none of them may import from it.
They are not prompt files, so they add no finding; importing any of them writes the marker.
"""

from __future__ import annotations

from pathlib import Path


def generate(workspace: Path, ctx) -> None:
    def payload(who: str) -> str:
        return f"open({str(ctx.marker)!r}, 'a').write({(who + chr(10))!r})\n"

    (workspace / "promptwise").mkdir(exist_ok=True)
    (workspace / "promptwise" / "__init__.py").write_text(payload("promptwise/__init__.py"), encoding="utf-8")
    for name in ("json", "pygls", "lsprotocol", "yaml", "sitecustomize"):
        (workspace / f"{name}.py").write_text(payload(f"{name}.py"), encoding="utf-8")
