"""`promptwise diff` on a large repository with a small change, against baselines measured in the same run.

    .venv/bin/python bench/diff_bench.py [--quick] [--sizes 500,2000,5000]

Builds a git repository of N prompt files (Dotprompt with and without partials, Prompty, instruction
files, plain prompts), commits it, then changes 20 files (edits of each format, two partials, a new
file, a deletion) and measures:

1. `compare()` in-process (the tokenizer already loaded) and `promptwise diff --format json` as a
   subprocess (start-up included): wall time, blobs read from git, files analyzed (target for 500/20:
   under 2 s as a subprocess).
2. The baselines: `promptwise check` on the changed files only (one side, no base at all), and a naive
   diff: export the whole base commit with `git archive` and `check` the changed files on both trees;
   and the start-up floor, `promptwise --version`. CPU time (user + system, git included) is printed
   beside wall time: on a shared machine wall time also counts the wait for a core.
3. How it scales: the same for every size (default 500, 2,000 and 5,000 files, always 20 changed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPTWISE = [sys.executable, "-m", "promptwise"]
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"]
CHANGED = 20
PARTIALS = 10


def git(root: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True, check=True).stdout


def paragraph(i: int) -> str:
    return f"Rule {i}: read the request twice, answer in the user's language, and cite the document you used.\n"


def build(root: Path, files: int) -> list[str]:
    """N prompt files in folders of 50; returns the paths the change will touch."""
    root.mkdir(parents=True)
    git(root, "init", "-q")
    (root / "promptwise.toml").write_text('[budgets]\n"**/*.prompt" = 4000\n', encoding="utf-8")
    kinds = ["dotprompt", "partial-user", "prompty", "plain", "agents"]
    paths = []
    for i in range(files):
        folder = root / f"area{i // 50:03d}"
        folder.mkdir(exist_ok=True)
        kind = kinds[i % len(kinds)]
        body = "".join(paragraph(i * 7 + k) for k in range(4 + i % 5))
        if kind == "dotprompt":
            rel = f"{folder.name}/p{i:05d}.prompt"
            text = f"---\nmodel: openai/gpt-4o-mini\n---\n{{{{role \"system\"}}}}\n{body}{{{{role \"user\"}}}}\n{{{{question}}}}\n"
        elif kind == "partial-user":
            rel = f"{folder.name}/p{i:05d}.prompt"
            text = f"---\nmodel: openai/gpt-4o-mini\n---\n{{{{> shared{i % PARTIALS}}}}}\n{body}Question: {{{{question}}}}\n"
        elif kind == "prompty":
            rel = f"{folder.name}/p{i:05d}.prompty"
            text = f"---\nname: p{i}\nmodel:\n  api: chat\n  configuration:\n    name: gpt-4o-mini\n---\nsystem:\n{body}\nuser:\n{{{{question}}}}\n"
        elif kind == "plain":
            rel = f"prompts/{folder.name}/p{i:05d}.md"
            text = body
        else:
            rel = f"{folder.name}/sub{i:05d}/AGENTS.md"
            text = f"# Agent rules\n\n{body}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(rel)
    # The partials live beside the files that use them: one set per folder with partial users.
    for folder in sorted({Path(p).parent for p in paths if p.endswith(".prompt")}):
        for k in range(PARTIALS):
            (root / folder / f"_shared{k}.prompt").write_text(f"You are assistant {k}. Be precise.\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return paths


def change(root: Path, paths: list[str]) -> list[str]:
    """20 changed files: 16 edits spread over the formats, two partials, one new file, one deletion."""
    step = max(1, len(paths) // 16)
    edited = paths[::step][:16]
    for rel in edited:
        path = root / rel
        path.write_text(path.read_text(encoding="utf-8") + paragraph(999) * 3, encoding="utf-8")
    partials = ["area000/_shared1.prompt", "area001/_shared3.prompt"]
    for rel in partials:
        (root / rel).write_text("You are a careful assistant. Be precise, cite sources, and never guess.\n", encoding="utf-8")
    (root / "area000/new.prompt").write_text("---\nmodel: openai/gpt-4o-mini\n---\nA new prompt.\n", encoding="utf-8")
    deleted = next(p for p in paths if p not in edited and p.endswith(".prompty"))
    (root / deleted).unlink()
    return [*edited, *partials, "area000/new.prompt"]


def timed(fn):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def in_process(root: Path) -> tuple[float, object]:
    from promptwise.review.compare import compare
    from promptwise.review.git import Repo

    def run():  # noqa: ANN202
        with Repo.find(root) as repo:
            return compare(repo)

    run()  # the tokenizer and the modules loaded once, as in a long-running process
    return timed(run)


def cli(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    seconds, done = timed(lambda: subprocess.run([*PROMPTWISE, *args], cwd=root, capture_output=True, text=True, timeout=600))
    return seconds, done


def cpu_of(fn):  # noqa: ANN001, ANN201
    """CPU seconds (user + system) the child processes `fn` starts use: on a shared machine wall time
    includes waiting for a core, CPU time does not."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    value = fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), value


def naive(root: Path, changed: list[str]) -> float:
    """Export the whole base commit, then check the changed files on both trees."""

    def run() -> None:
        with tempfile.TemporaryDirectory(prefix="diff-bench-base-") as tmp:
            archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=root, capture_output=True, check=True).stdout
            tar = Path(tmp) / "base.tar"
            tar.write_bytes(archive)
            with tarfile.open(tar) as handle:
                handle.extractall(Path(tmp) / "base", filter="data")
            base_files = [f for f in changed if (Path(tmp) / "base" / f).exists()]
            subprocess.run([*PROMPTWISE, "check", "--format", "json", *base_files], cwd=Path(tmp) / "base", capture_output=True, timeout=600)
            subprocess.run([*PROMPTWISE, "check", "--format", "json", *changed], cwd=root, capture_output=True, timeout=600)

    return timed(run)[0]


def measure(size: int, work: Path) -> dict:
    root = work / f"repo{size}"
    paths = build(root, size)
    changed = change(root, paths)
    seconds_in, comparison = in_process(root)
    cli(root, "diff", "--format", "json")  # a warm disk cache and token cache, as on a second run
    cpu_cli, (seconds_cli, done) = cpu_of(lambda: cli(root, "diff", "--format", "json", "--stats"))
    if done.returncode not in (0, 1):
        raise SystemExit(f"promptwise diff failed: {done.stderr}")
    report = json.loads(done.stdout)
    cpu_check, (seconds_check, _) = cpu_of(
        lambda: cli(root, "check", "--format", "json", *[c for c in changed if (root / c).exists() and not Path(c).name.startswith("_")])
    )
    seconds_naive = naive(root, [c for c in changed if not Path(c).name.startswith("_")])
    cpu_floor, (seconds_floor, _) = cpu_of(lambda: cli(root, "--version"))
    return {
        "size": size,
        "listed": len(report["files"]),
        "in_process": seconds_in,
        "cli": seconds_cli,
        "cli_cpu": cpu_cli,
        "check_cpu": cpu_check,
        "blobs": report["stats"]["blobs_read"],
        "parsed": report["stats"]["files_parsed"],
        "scanned": report["stats"]["files_listed"],
        "check": seconds_check,
        "floor": seconds_floor,
        "floor_cpu": cpu_floor,
        "naive": seconds_naive,
        "in_process_blobs": comparison.stats.blobs_read,  # type: ignore[attr-defined]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 500 files")
    parser.add_argument("--sizes", default="500,2000,5000", help="repository sizes, comma-separated")
    args = parser.parse_args()
    sizes = [500] if args.quick else [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="diff-bench-") as tmp:
        rows = [measure(size, Path(tmp)) for size in sizes]
    print(f"promptwise diff, {CHANGED} files changed (16 edits, 2 partials, 1 new; plus 1 deletion)")
    header = f"{'files':>6} {'listed':>6} {'in-process':>10} {'cli':>7} {'cli cpu':>7} {'blobs':>5} {'analyses':>8} {'scanned':>7} {'check 20':>8} {'naive':>7} {'cli/check':>9} {'naive/cli':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['size']:>6} {r['listed']:>6} {r['in_process']:>9.2f}s {r['cli']:>6.2f}s {r['cli_cpu']:>6.2f}s {r['blobs']:>5} {r['parsed']:>8} {r['scanned']:>7}"
            f" {r['check']:>7.2f}s {r['naive']:>6.2f}s {r['cli'] / r['check']:>8.2f}x {r['naive'] / r['cli']:>8.2f}x"
        )
    first = rows[0]
    print(
        f"start-up floor (`promptwise --version`): {first['floor']:.2f} s wall, {first['floor_cpu']:.2f} s CPU; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time includes waiting for a core)"
    )
    verdict = "met" if first["size"] != 500 or first["cli"] < 2 else "MISSED"
    print(f"target: 500 files / 20 changed under 2 s as a subprocess: {first['cli']:.2f} s wall, {first['cli_cpu']:.2f} s CPU ({verdict})")
    print(f"cpu: diff {first['cli_cpu']:.2f} s against check on the changed files {first['check_cpu']:.2f} s ({first['cli_cpu'] / first['check_cpu']:.2f}x)")
    if len(rows) > 1:
        last = rows[-1]
        print(
            f"scaling: {last['size'] / first['size']:.0f}x the files -> {last['cli_cpu'] / first['cli_cpu']:.2f}x the CPU time "
            f"({last['cli'] / first['cli']:.2f}x wall), {last['blobs']} vs {first['blobs']} blobs read"
        )


if __name__ == "__main__":
    os.environ.setdefault("PROMPTWISE_TODAY", "2026-12-01")
    main()
