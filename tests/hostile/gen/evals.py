"""Eval suites and cases files that cannot be checked in: a CSV field over 128 KiB, a 65 MiB cases file
(sparse), a FIFO, links to /dev/zero and to a secret outside the workspace, and suites that are a FIFO,
a link to /dev/zero, a symlink loop and a link to the secret; and a run store whose usage.json files are
not files to read."""

from __future__ import annotations

import os
from pathlib import Path


def generate(workspace: Path, ctx) -> None:
    cases = workspace / "evals-cases"
    (cases / "big-field.csv").write_text("ticket,assert.contains\n" + "x" * (129 * 1024) + ",x\n", encoding="utf-8")
    with open(cases / "huge.jsonl", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # over the 64 MiB limit, without the disk
    os.mkfifo(cases / "fifo.jsonl")  # a plain open() waits for a writer forever
    os.symlink("/dev/zero", cases / "zero.jsonl")  # a plain read() never ends
    (ctx.secret_file.parent / "cases.jsonl").write_text('{"vars": {"ticket": "%s"}}\n' % ctx.all_secrets()[-1], encoding="utf-8")
    os.symlink(ctx.secret_file.parent / "cases.jsonl", workspace / "evals-outside" / "outside.jsonl")
    os.mkfifo(workspace / "evals-fifo.evals.yaml")
    os.symlink("/dev/zero", workspace / "evals-zero.evals.yaml")
    os.symlink("evals-loop.evals.yaml", workspace / "evals-loop.evals.yaml")
    os.symlink(ctx.secret_file, workspace / "evals-secret.evals.yaml")
    generate_run_store(workspace, ctx)


def generate_run_store(workspace: Path, ctx) -> None:
    """A run store the repository carries itself (the editor reads `.promptwise/runs/*/usage.json` on a
    keystroke): a FIFO, a link to /dev/zero, a link to a file outside the workspace, and a sparse 65 MiB file."""
    runs = workspace / ".promptwise" / "runs"
    for name in ("zz-fifo", "zz-zero", "zz-outside", "zz-huge"):
        (runs / name).mkdir(parents=True)
    os.mkfifo(runs / "zz-fifo" / "usage.json")
    os.symlink("/dev/zero", runs / "zz-zero" / "usage.json")
    os.symlink(ctx.secret_file, runs / "zz-outside" / "usage.json")
    with open(runs / "zz-huge" / "usage.json", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)
