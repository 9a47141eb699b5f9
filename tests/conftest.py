"""Shared fixtures: the bundled examples, a CLI runner, and an independent tiktoken for cross-checks."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# Deprecations are judged against this date, here and in every server and CLI the tests start: the
# expectations were written on it, and a model retiring later must not change them.
os.environ["PROMPTWISE_TODAY"] = "2026-12-01"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(monkeypatch):
    """Run `promptwise ARGS` in-process, optionally from a folder and with stdin."""
    from promptwise.cli.main import main

    def run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse --help / errors
                code = int(exc.code or 0)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def run_subprocess(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None):
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def reference_encoding():
    """tiktoken loaded the way its users load it (independent of promptwise's loader)."""
    import tiktoken

    from promptwise.tokens.encodings import tokenizers_dir

    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(tokenizers_dir())
    try:
        encodings = {name: tiktoken.get_encoding(name) for name in ("o200k_base", "cl100k_base")}
    finally:
        if saved is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved
    return encodings


def openai_prompt_tokens(encoding, messages: list[dict], tools: list[dict] | None = None, func_init: int = 7) -> int:
    """OpenAI's published counting rule (the cookbook's num_tokens_from_messages / num_tokens_for_tools)."""
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(encoding.encode(value))
            if key == "name":
                total += 1
    total += 3
    if tools:
        for tool in tools:
            f = tool["function"]
            total += func_init
            desc = f.get("description", "")
            desc = desc[:-1] if desc.endswith(".") else desc
            total += len(encoding.encode(f"{f['name']}:{desc}"))
            props = f.get("parameters", {}).get("properties", {})
            if props:
                total += 3
                for key, prop in props.items():
                    total += 3
                    if "enum" in prop:
                        total -= 3
                        for item in prop["enum"]:
                            total += 3 + len(encoding.encode(item))
                    p_desc = prop.get("description", "")
                    p_desc = p_desc[:-1] if p_desc.endswith(".") else p_desc
                    total += len(encoding.encode(f"{key}:{prop['type']}:{p_desc}"))
        total += 12
    return total
