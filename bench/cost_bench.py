"""What the cost model adds to a keystroke: the LSP round trip on the 1 MiB files, this code against a baseline.

    git worktree add /tmp/base12 f179756        # the code before the cost model (remove it afterwards)
    .venv/bin/python bench/cost_bench.py --baseline /tmp/base12/server [--keystrokes 200] [--rounds 2] [--analyze]

For each of the three 1 MiB kinds (.prompty, .prompt, AGENTS.md) the same typing as `lsp_bench.py` (a
one-character `didChange` plus an `inlayHint` request for the visible lines) is timed on a server started
from this checkout and on one started from the baseline sources (`PYTHONPATH`), alternating rounds so that
both see the same load on a shared machine. Prints p50/p95 of each, the server's CPU time per keystroke
(less moved by other work on the machine than latency), and the ratios current / baseline (target: at
most 1.10, the issue's "does not grow by more than 10%").

`--analyze` times the engine alone, in-process: the same keystrokes through `reparse_document` and
`analyze(previous=...)` as the server runs them, without the LSP transport and the debounce, and the
CPU time of each (the steadier figure on a busy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as t

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lsp_bench  # noqa: E402  (the same client, files and typing as the latency bench)

CURRENT = lsp_bench.ROOT / "server"


class SourcedClient(lsp_bench.Client):
    """A bench client whose server runs the promptwise sources under `server_path`."""

    def __init__(self, server_path: Path) -> None:
        super().__init__()
        self.env = {**os.environ, "PYTHONPATH": str(server_path)}

    async def start(self, root: Path) -> float:
        began = time.perf_counter()
        await self.lc.start_io(*lsp_bench.SERVER, env=self.env)
        caps = t.ClientCapabilities(
            text_document=t.TextDocumentClientCapabilities(inlay_hint=t.InlayHintClientCapabilities(), diagnostic=t.DiagnosticClientCapabilities()),
            workspace=t.WorkspaceClientCapabilities(configuration=True),
        )
        await self.lc.initialize_async(t.InitializeParams(capabilities=caps, root_uri=root.as_uri(), process_id=None))
        self.lc.initialized(t.InitializedParams())
        return began


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process: unlike latency, barely moved by other work on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def keystrokes(server_path: Path, kind: str, folder: Path, count: int) -> tuple[list[float], float, str]:
    """Milliseconds per keystroke round trip (the first 10 dropped as warm-up), the server's CPU milliseconds
    per keystroke over the same ones, and the model line's hint."""
    text = lsp_bench.big_prompt(kind)
    path = folder / lsp_bench.FILES[kind]
    path.write_text(text, encoding="utf-8")
    client = SourcedClient(server_path)
    await client.start(folder)
    uri = client.open(path, text)
    lines = text.split("\n")
    line = lsp_bench.typing_line(lines)
    await client.hints(uri, 0, 40)
    column = len(lines[line].encode("utf-16-le")) // 2
    typed = "and always cite the policy section you used 🎉 "
    times = []
    cpu_began = 0.0
    for i in range(count):
        if i == 10:
            cpu_began = cpu_seconds(client.pid)
        ch = typed[i % len(typed)]
        began = time.perf_counter()
        client.insert(uri, t.Position(line, column), ch)
        await client.hints(uri, max(0, line - 30), line + 30)
        times.append((time.perf_counter() - began) * 1000)
        column += len(ch.encode("utf-16-le")) // 2
    cpu = (cpu_seconds(client.pid) - cpu_began) * 1000 / max(1, count - 10)
    top = await client.hints(uri, 0, 40)
    await client.stop()
    return times[10:], cpu, (top[0].label if top else "")


WORKER = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import lsp_bench
from promptwise.analysis import analyze, catalog_for
from promptwise.config import load_config
from promptwise.formats import detect_format, parse_document, reparse_document
from promptwise.text import Edit, LineIndex

kind, folder, count = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
text = lsp_bench.big_prompt(kind)
path = folder / lsp_bench.FILES[kind]
path.write_text(text, encoding="utf-8")
config = load_config(path)
catalog = catalog_for(config)
fmt = detect_format(path, config.settings.plain_prompts, config.root)
doc = parse_document(path, text, fmt, max_bytes=config.settings.max_file_size)
previous = analyze(doc, config, catalog, duplicates=False)
lines = text.split("\n")
line = lsp_bench.typing_line(lines)
at = sum(len(l) + 1 for l in lines[:line]) + len(lines[line])  # the end of a line in the middle, as the LSP bench types
typed = "and always cite the policy section you used 🎉 "
wall, cpu = [], []
for i in range(count):
    ch = typed[i % len(typed)]
    text = text[:at] + ch + text[at:]
    began, began_cpu = time.perf_counter(), time.process_time()
    doc = reparse_document(previous.document, text, Edit(at, at, at + len(ch)))
    doc._lines = LineIndex(text)  # as the server does: the editor's index of the new version
    previous = analyze(doc, config, catalog, duplicates=False, previous=previous)
    wall.append((time.perf_counter() - began) * 1000)
    cpu.append((time.process_time() - began_cpu) * 1000)
    at += len(ch)
print(json.dumps({"wall": wall[10:], "cpu": cpu[10:], "cost": previous.cost_per_call}))
"""


def analyze_round(server_path: Path, kind: str, count: int) -> dict:
    """One run of reparse + analyze() per keystroke, in a python that imports promptwise from `server_path`."""
    import json
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(server_path)}
    with tempfile.TemporaryDirectory(prefix="promptwise-cost-bench-analyze-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(Path(__file__).resolve().parent), kind, tmp, str(count)],
            env=env, capture_output=True, text=True, check=True, timeout=600,
        )
    return json.loads(done.stdout.splitlines()[-1])


def analyze_mode(servers: dict[str, Path], keystrokes: int, rounds: int) -> None:
    """`analyze()` per keystroke (the engine alone, no LSP transport), this code against the baseline."""
    worst = 0.0
    for kind in lsp_bench.FILES:
        wall: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, where in servers.items():
                got = analyze_round(where, kind, keystrokes)
                wall[name] += got["wall"]
                cpu[name] += got["cpu"]
        f = {n: (statistics.median(wall[n]), lsp_bench.pct(wall[n], 0.95), statistics.median(cpu[n])) for n in servers}
        (c50, c95, ccpu), (b50, b95, bcpu) = f["current"], f["baseline"]
        worst = max(worst, c50 / b50)
        print(f"{lsp_bench.FILES[kind]:<12} analyze() per keystroke: current p50 {c50:.2f} ms, p95 {c95:.2f} ms, CPU p50 {ccpu:.2f} ms | "
              f"baseline p50 {b50:.2f} ms, p95 {b95:.2f} ms, CPU p50 {bcpu:.2f} ms | ratio p50 {c50 / b50:.2f}, p95 {c95 / b95:.2f}, "
              f"CPU {ccpu / bcpu:.2f}   (target <= 1.10)")
    print(f"worst analyze() p50 ratio: {worst:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the `server` folder of the baseline sources")
    parser.add_argument("--keystrokes", type=int, default=200, help="keystrokes per round (default 200)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per server (default 2)")
    parser.add_argument("--analyze", action="store_true", help="time reparse + analyze() per keystroke in-process instead of the LSP round trip")
    args = parser.parse_args()
    servers = {"current": CURRENT, "baseline": args.baseline.resolve()}
    for where in servers.values():
        compileall.compile_dir(where / "promptwise", quiet=1)  # no compiling inside the timed servers
    if args.analyze:
        print(f"current: {CURRENT}; baseline: {servers['baseline']}; {args.keystrokes} keystrokes x {args.rounds} rounds each")
        analyze_mode(servers, args.keystrokes, args.rounds)
        return
    print(f"current: {CURRENT}; baseline: {servers['baseline']}; {args.keystrokes} keystrokes x {args.rounds} rounds per server")
    worst = worst_cpu = 0.0
    for kind in lsp_bench.FILES:
        ms: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        labels: dict[str, str] = {}
        for _ in range(args.rounds):
            for name, where in servers.items():
                with tempfile.TemporaryDirectory(prefix=f"promptwise-cost-bench-{name}-") as tmp:
                    times, used, labels[name] = await keystrokes(where, kind, Path(tmp), args.keystrokes)
                ms[name].extend(times)
                cpu[name].append(used)
        figures = {name: (statistics.median(v), lsp_bench.pct(v, 0.95), statistics.median(cpu[name])) for name, v in ms.items()}
        (c50, c95, ccpu), (b50, b95, bcpu) = figures["current"], figures["baseline"]
        worst = max(worst, c50 / b50)
        worst_cpu = max(worst_cpu, ccpu / bcpu)
        print(f"{lsp_bench.FILES[kind]:<12} current p50 {c50:.1f} ms, p95 {c95:.1f} ms, CPU {ccpu:.1f} ms | baseline p50 {b50:.1f} ms, "
              f"p95 {b95:.1f} ms, CPU {bcpu:.1f} ms | ratio p50 {c50 / b50:.2f}, p95 {c95 / b95:.2f}, CPU {ccpu / bcpu:.2f}   (target <= 1.10)")
        print(f"    model line's hint: current {labels['current']!r}; baseline {labels['baseline']!r}")
    print(f"worst ratio: p50 {worst:.2f}, server CPU per keystroke {worst_cpu:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
