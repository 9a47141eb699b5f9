"""Language server latency and memory, driven over stdio by a real LSP client, against baselines from the same run.

    .venv/bin/python bench/lsp_bench.py [--quick]

1. Cold start: spawn `python -m promptwise lsp` to the first inlay-hint response (target: under 1 s), next to
   the floor any pygls server pays, measured here too: a python that only imports pygls and builds its converter.
2. On a 1 MiB prompt file, the round trip of a one-character `didChange` plus an `inlayHint` request for
   the visible lines (targets: p50 under 10 ms, p95 under 20 ms), and how many times faster that is than
   analyzing the whole file from scratch with a cold segment cache, measured here too (target: 5x).
   Measured on a .prompty (role sections, Jinja), a .prompt (Dotprompt: Handlebars role tags) and an AGENTS.md
   (one big instruction message).
3. Resident memory of the server with 50 prompt files open and analyzed (target: under 150 MB).

What the cost model adds per keystroke, against the code before it in the same run: `bench/cost_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.protocol import default_converter

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SERVER = [sys.executable, "-m", "promptwise", "lsp"]
MiB = 1024 * 1024

WORDS = (
    "customer order refund policy agent escalate shipping invoice warranty reply always never must should "
    "summary priority ticket account billing address delivery carrier schedule escalation tone brief cite "
    "section evidence 注文 返金 配送 客户 订单 👩‍💻 🎉 🇯🇵"
).split()


FILES = {"prompty": "big.prompty", "dotprompt": "big.prompt", "instructions": "AGENTS.md"}
HEADS = {
    "prompty": "---\nname: Support agent\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\n"
    "  parameters:\n    max_tokens: 800\nsample:\n  question: Where is my order NW-1234? 🎉\n---\nsystem:\n",
    "dotprompt": "---\nmodel: openai/gpt-4o\nconfig:\n  maxOutputTokens: 800\ninput:\n  schema:\n    question: string\n"
    "  default:\n    question: Where is my order NW-1234? 🎉\n---\n{{role \"system\"}}\n",
    "instructions": "# Agent instructions 👩‍💻\n\nThese rules apply to every reply.\n\n",
}
EXAMPLES_EVERY_500 = {
    "prompty": "\nuser:\nExample question {i}: {{{{question}}}}\n\nassistant:\nExample answer {i}.\n\nsystem:\n",
    "dotprompt": '\n{{{{role "user"}}}}\nExample question {i}: {{{{question}}}}\n\n{{{{role "model"}}}}\nExample answer {i}.\n\n{{{{role "system"}}}}\n',
}
TAILS = {"prompty": "user:\n{{question}}\n", "dotprompt": '{{role "user"}}\n{{question}}\n', "instructions": ""}


def big_prompt(kind: str, size: int = MiB, seed: int = 7) -> str:
    """A realistic long prompt: numbered rule sections of a few sentences, a few examples, sample inputs."""
    rnd = random.Random(seed)
    out = [HEADS[kind]]
    size_now = len(out[0].encode())
    i = 0
    while size_now < size:
        i += 1
        if kind in EXAMPLES_EVERY_500 and i % 500 == 0:
            block = EXAMPLES_EVERY_500[kind].format(i=i)
        else:
            sentences = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 16))).capitalize() + "." for _ in range(rnd.randint(2, 6))]
            block = f"## Rule {i}\n" + "\n".join(sentences) + "\n\n"
        out.append(block)
        size_now += len(block.encode())
    out.append(TAILS[kind])
    return "".join(out)


def typing_line(lines: list[str]) -> int:
    """A sentence in the middle of the long instructions (not a heading, role line or example)."""
    rules = [i for i, line in enumerate(lines) if line.startswith("## Rule ")]
    return rules[len(rules) // 2] + 1


class Client:
    def __init__(self) -> None:
        self.lc = LanguageClient("lsp-bench", "1", converter_factory=default_converter)
        self.lc.feature(t.WORKSPACE_CONFIGURATION)(lambda params: [None for _ in params.items])
        self.lc.feature(t.WINDOW_SHOW_MESSAGE)(lambda params: None)
        self.lc.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: None)
        self.lc.feature(t.WINDOW_LOG_MESSAGE)(lambda params: None)
        self.versions: dict[str, int] = {}

    async def start(self, root: Path) -> float:
        began = time.perf_counter()
        await self.lc.start_io(*SERVER)
        caps = t.ClientCapabilities(
            text_document=t.TextDocumentClientCapabilities(
                inlay_hint=t.InlayHintClientCapabilities(), diagnostic=t.DiagnosticClientCapabilities()
            ),
            workspace=t.WorkspaceClientCapabilities(configuration=True),
        )
        await self.lc.initialize_async(t.InitializeParams(capabilities=caps, root_uri=root.as_uri(), process_id=None))
        self.lc.initialized(t.InitializedParams())
        return began

    @property
    def pid(self) -> int:
        return self.lc._server.pid  # type: ignore[union-attr]

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.versions[uri] = 1
        self.lc.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "prompt", 1, text)))
        return uri

    def insert(self, uri: str, at: t.Position, text: str) -> None:
        self.versions[uri] += 1
        self.lc.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
                [t.TextDocumentContentChangePartial(range=t.Range(at, at), text=text)],
            )
        )

    async def hints(self, uri: str, first: int, last: int) -> list[t.InlayHint]:
        params = t.InlayHintParams(t.TextDocumentIdentifier(uri), t.Range(t.Position(first, 0), t.Position(last, 0)))
        return await self.lc.text_document_inlay_hint_async(params)

    async def stop(self) -> None:
        await self.lc.shutdown_async(None)
        self.lc.exit(None)
        await self.lc.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PYGLS_FLOOR = [sys.executable, "-c", "import pygls.lsp.server; from pygls.protocol import default_converter; default_converter()"]


def compile_server() -> None:
    """Bytecode for the server's sources, as an installed package has: with PYTHONDONTWRITEBYTECODE set,
    every source edited since its last .pyc would otherwise be compiled again by each spawned server."""
    compileall.compile_dir(ROOT / "server" / "promptwise", quiet=1)


def pygls_floor() -> float:
    """The baseline: spawn a python that imports pygls (and so lsprotocol) and builds pygls' converter, to its exit."""
    began = time.perf_counter()
    subprocess.run(PYGLS_FLOOR, check=True)
    return time.perf_counter() - began


async def cold_start(root: Path) -> float:
    path = EXAMPLES / "support" / "triage.prompty"
    client = Client()
    began = await client.start(root)
    uri = client.open(path, path.read_text(encoding="utf-8"))
    hints = await client.hints(uri, 0, 200)
    elapsed = time.perf_counter() - began
    assert hints, "no hints on the first request"
    await client.stop()
    return elapsed


async def typing(kind: str, folder: Path, keystrokes: int) -> tuple[list[float], int, str, float, float]:
    text = big_prompt(kind)
    path = folder / FILES[kind]
    path.write_text(text, encoding="utf-8")
    client = Client()
    await client.start(folder)
    uri = client.open(path, text)
    lines = text.split("\n")
    line = typing_line(lines)
    first_hints = await client.hints(uri, 0, 40)
    column = len(lines[line].encode("utf-16-le")) // 2  # typing at the end of a line in the middle
    typed = "and always cite the policy section you used 🎉 "
    times = []
    for i in range(keystrokes):
        ch = typed[i % len(typed)]
        began = time.perf_counter()
        client.insert(uri, t.Position(line, column), ch)
        await client.hints(uri, max(0, line - 30), line + 30)
        times.append(time.perf_counter() - began)
        column += len(ch.encode("utf-16-le")) // 2
    top = await client.hints(uri, 0, 40)
    rss = rss_mib(client.pid)
    await asyncio.sleep(2.5)  # the server hands freed heap back when typing pauses
    paused = rss_mib(client.pid)
    await client.stop()
    return times, len(text.encode()), (top or first_hints)[0].label, rss, paused


def full_analysis_ms(kind: str, folder: Path, repeat: int = 3) -> float:
    """The baseline: analyze the whole file from scratch (as `promptwise check` does) with a cold segment cache."""
    from promptwise.analysis import analyze_text
    from promptwise.config import load_config
    from promptwise.tokens import CACHE, get_encoder

    path = folder / FILES[kind]
    text = path.read_text(encoding="utf-8")
    get_encoder("o200k_base")  # the tokenizer itself stays loaded, as in a running server
    best = []
    store, CACHE.store = CACHE.store, None  # cold means cold: no counts from the on-disk store either
    try:
        for i in range(repeat):
            CACHE.clear()
            edited = text[: len(text) // 2] + "xyz"[i] + text[len(text) // 2 :]
            began = time.perf_counter()
            analyze_text(path, edited, load_config(path))
            best.append(time.perf_counter() - began)
    finally:
        CACHE.store = store
    return statistics.median(best) * 1000


def fifty_files(folder: Path) -> list[tuple[Path, str]]:
    sources = [p for p in sorted(EXAMPLES.rglob("*")) if p.is_file() and p.suffix in (".prompty", ".prompt", ".md", ".txt") and not p.name.startswith("_")]
    files = []
    for i in range(50):
        src = sources[i % len(sources)]
        target = folder / f"f{i:02d}" / src.relative_to(EXAMPLES)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text(encoding="utf-8") + f"\n\nVariant {i}: keep replies under {100 + i} words.\n"
        target.write_text(text, encoding="utf-8")
        for partial in src.parent.glob("_*.prompt"):
            (target.parent / partial.name).write_text(partial.read_text(encoding="utf-8"), encoding="utf-8")
        files.append((target, text))
    return files


async def memory(folder: Path) -> tuple[float, float]:
    """Open 50 prompt files the way an editor does (hints and diagnostics for each), then read VmRSS."""
    client = Client()
    await client.start(folder)
    first = None
    for path, text in fifty_files(folder):
        uri = client.open(path, text)
        await client.hints(uri, 0, 10_000)
        await client.lc.text_document_diagnostic_async(t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
        if first is None:
            first = rss_mib(client.pid)
    await asyncio.sleep(1.5)  # the server trims its heap a second after heavy work
    used = rss_mib(client.pid)
    await client.stop()
    return first, used


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer keystrokes")
    parser.add_argument("--keystrokes", type=int, default=None)
    args = parser.parse_args()
    keystrokes = args.keystrokes or (60 if args.quick else 300)
    with tempfile.TemporaryDirectory(prefix="promptwise-lsp-bench-") as tmp:
        folder = Path(tmp)
        compile_server()
        starts, floors = [], []
        for _ in range(3):  # interleaved, so both see the same load on the machine
            floors.append(pygls_floor())
            starts.append(await cold_start(folder))
        print(f"cold start, spawn to first inlay hints: median {statistics.median(starts):.2f} s, best {min(starts):.2f} s   (target < 1 s); "
              f"of that, the pygls/lsprotocol floor: {statistics.median(floors):.2f} s")
        for kind in FILES:
            times, size, label, rss, paused = await typing(kind, folder, keystrokes)
            ms = [x * 1000 for x in times[10:]]
            p50, p95 = statistics.median(ms), pct(ms, 0.95)
            baseline = full_analysis_ms(kind, folder)
            print(f"{size / MiB:.2f} MiB {FILES[kind]}, one-char didChange + inlayHint ({len(ms)} keystrokes): "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms   (targets 10 / 20 ms)")
            print(f"    full re-analysis from scratch, cold cache: {baseline:.0f} ms -> {baseline / p50:.0f}x faster at p50, "
                  f"{baseline / p95:.0f}x at p95   (target >= 5x)")
            print(f"    the model line's hint after typing: {label!r}; server RSS {rss:.0f} MB, {paused:.0f} MB after a pause")
        idle, used = await memory(folder)
        print(f"resident memory: {idle:.0f} MB with one prompt file open, {used:.0f} MB with 50   (target < 150 MB)")


if __name__ == "__main__":
    asyncio.run(main())
