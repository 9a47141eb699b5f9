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

    .venv/bin/python bench/lsp_bench.py --edits [--baseline /tmp/base/server] [--rounds 2] [--keystrokes 60]

4. `--edits`: every kind of edit of `lsp_edits.py` (typing in a sentence, at a line start, on a role line,
   on a blank line, in a frontmatter value, inside a template tag) on each 1 MiB file, each key a didChange,
   an inlayHint request for the 60 lines around it and a diagnostics pull, as VS Code sends them: p50, p95
   and max per kind (targets 10 / 20 / 50 ms) and the server's CPU per keystroke. With `--baseline` (the
   `server` folder of another checkout, e.g. `git worktree add /tmp/base HEAD`), the same keys are typed
   into a server running those sources, in alternating rounds, and the ratios printed.

What the cost model adds per keystroke, against the code before it in the same run: `bench/cost_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import gc
import os
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lsp_edits  # noqa: E402  (the kinds of edit the bench types)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SERVER = [sys.executable, "-m", "promptwise", "lsp"]
MiB = 1024 * 1024
WARM_UP_SECONDS = 2.5

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
    def __init__(self, server_path: Path | None = None) -> None:
        # With `server_path`, the server runs the promptwise sources there (a baseline checkout).
        self.env = {**os.environ, "PYTHONPATH": str(server_path)} if server_path is not None else None
        self.lc = LanguageClient("lsp-bench", "1", converter_factory=default_converter)
        self.lc.feature(t.WORKSPACE_CONFIGURATION)(lambda params: [None for _ in params.items])
        self.lc.feature(t.WINDOW_SHOW_MESSAGE)(lambda params: None)
        self.lc.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: None)
        self.lc.feature(t.WINDOW_LOG_MESSAGE)(lambda params: None)
        self.versions: dict[str, int] = {}

    async def start(self, root: Path) -> float:
        began = time.perf_counter()
        await self.lc.start_io(*SERVER, env=self.env)
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

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self.versions[uri] += 1
        where = t.Range(t.Position(*start), t.Position(*end))
        self.lc.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
                [t.TextDocumentContentChangePartial(range=where, text=text)],
            )
        )

    async def hints(self, uri: str, first: int, last: int) -> list[t.InlayHint]:
        params = t.InlayHintParams(t.TextDocumentIdentifier(uri), t.Range(t.Position(first, 0), t.Position(last, 0)))
        return await self.lc.text_document_inlay_hint_async(params)

    async def pull(self, uri: str, previous: str | None) -> str | None:
        """A diagnostics pull; the result id to send with the next one."""
        params = t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri), previous_result_id=previous)
        report = await self.lc.text_document_diagnostic_async(params)
        return getattr(report, "result_id", None) or previous

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


@contextlib.contextmanager
def client_heap_frozen():
    """Keep this client's own garbage collector out of the timed keys. A full collection here walks
    everything pygls and lsprotocol built (40 ms and more, growing with each server started), and the
    key it lands on would be timed as the server's; VS Code's client pays nothing like it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    with client_heap_frozen():
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


async def typing_edits(kind: str, folder: Path, keystrokes: int, server_path: Path | None) -> dict[str, dict[str, list[float]]]:
    """Each kind of edit of `lsp_edits`, typed into the 1 MiB file as VS Code sends it: a one-key
    didChange, an inlayHint request for the 60 lines around the edit, and a diagnostics pull (with the
    last result id) that is not waited for: the next key goes as soon as the hints are back, as a user
    types on. Milliseconds per keystroke until the hints arrive ("hints"; the first 5 are warm-up), the
    server's CPU milliseconds per keystroke ("cpu"), and how long the pull after the last key took."""
    text = big_prompt(kind)
    path = folder / FILES[kind]
    path.write_text(text, encoding="utf-8")
    out: dict[str, dict[str, list[float]]] = {}
    for edit in lsp_edits.edit_kinds(kind, text):
        client = Client(server_path)  # a fresh server per kind: no edit pays for the one before
        await client.start(folder)
        uri = client.open(path, text)
        cursor = lsp_edits.Cursor(text, edit.anchor)
        first_line = cursor.position(edit.anchor)[0]
        await client.hints(uri, max(0, first_line - 30), first_line + 30)
        result_id = await client.pull(uri, None)
        # The server loads its tokenizer a second after it starts (lsp/server.py, _warm_up), which holds
        # the interpreter for about half a second once: a keystroke in that second waits for it. That is
        # start-up, which the default mode measures (start to first hints); these keys come after it.
        await asyncio.sleep(WARM_UP_SECONDS)
        hints: list[float] = []
        pulls: list[asyncio.Future] = []
        cpu_began = 0.0
        with client_heap_frozen():
            for i in range(keystrokes + 5):
                if i == 5:
                    cpu_began = cpu_seconds(client.pid)
                start, end, typed = cursor.press(edit.keys[i % len(edit.keys)])
                line = start[0]
                began = time.perf_counter()
                client.change(uri, start, end, typed)
                pulls.append(asyncio.ensure_future(client.pull(uri, result_id)))
                await client.hints(uri, max(0, line - 30), line + 30)
                hints.append((time.perf_counter() - began) * 1000)
            cpu = (cpu_seconds(client.pid) - cpu_began) * 1000 / keystrokes
        began = time.perf_counter()
        last = await asyncio.gather(*pulls, return_exceptions=True)
        settled = (time.perf_counter() - began) * 1000
        assert not isinstance(last[-1], BaseException), f"the last pull failed: {last[-1]!r}"
        await client.stop()
        out[edit.name] = {"hints": hints[5:], "cpu": [cpu], "pull": [settled]}
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process: less moved than latency by other work on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def summary(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):5.1f}, p95 {pct(ms, 0.95):5.1f}, max {max(ms):5.1f}"


async def edits_mode(keystrokes: int, rounds: int, baseline: Path | None, only: list[str] | None) -> None:
    """Every kind of edit on each 1 MiB file, this code and the baseline in alternating rounds."""
    servers = {"current": ROOT / "server"}
    if baseline is not None:
        servers["baseline"] = baseline.resolve()
        compileall.compile_dir(servers["baseline"] / "promptwise", quiet=1)
    got: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    rounds_p50: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(rounds):
        for name, where in servers.items():
            for kind in only or FILES:
                with tempfile.TemporaryDirectory(prefix=f"promptwise-lsp-bench-{name}-") as tmp:
                    found = await typing_edits(kind, Path(tmp), keystrokes, where)
                for edit, times in found.items():
                    into = got.setdefault((name, kind, edit), {"hints": [], "cpu": [], "pull": []})
                    for key in into:
                        into[key] += times[key]
                    rounds_p50.setdefault((name, kind, edit), []).append(statistics.median(times["hints"]))
    print(f"keystroke latency, one-key didChange -> inlayHint for 60 lines (+ a diagnostics pull), ms; {keystrokes} keystrokes x {rounds} rounds "
          "(targets: p50 < 10, p95 < 20, max < 50); server CPU ms per keystroke; the last pull, ms after the last hints; "
          "noise = the spread of the rounds' p50s")
    worst = {"p50": 0.0, "p95": 0.0, "max": 0.0}
    for kind in only or FILES:
        for name_kind, edit in [(k[1], k[2]) for k in got if k[0] == "current" and k[1] == kind]:
            cur = got[("current", kind, edit)]
            line = (f"  {FILES[kind]:<12} {edit:<13} hints {summary(cur['hints'])} | CPU {statistics.median(cur['cpu']):4.1f}/key"
                    f" | last pull {statistics.median(cur['pull']):4.0f}")
            spread = rounds_p50[("current", kind, edit)]
            line += f" | noise {min(spread):.1f}-{max(spread):.1f}"
            worst = {"p50": max(worst["p50"], statistics.median(cur["hints"])), "p95": max(worst["p95"], pct(cur["hints"], 0.95)), "max": max(worst["max"], max(cur["hints"]))}
            base = got.get(("baseline", kind, edit))
            if base is not None:
                b = base["hints"]
                line += (f" || baseline {summary(b)} | CPU {statistics.median(base['cpu']):4.1f}/key || ratio p50 "
                         f"{statistics.median(cur['hints']) / statistics.median(b):.2f}, p95 {pct(cur['hints'], 0.95) / pct(b, 0.95):.2f}, "
                         f"max {max(cur['hints']) / max(b):.2f}, CPU {statistics.median(cur['cpu']) / statistics.median(base['cpu']):.2f}")
            print(line)
    print(f"worst over every kind: p50 {worst['p50']:.1f} ms, p95 {worst['p95']:.1f} ms, max {worst['max']:.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer keystrokes")
    parser.add_argument("--keystrokes", type=int, default=None)
    parser.add_argument("--edits", action="store_true", help="only the keystroke latency of every kind of edit (lsp_edits.py)")
    parser.add_argument("--baseline", type=Path, default=None, help="with --edits: the `server` folder of baseline sources, timed in the same run")
    parser.add_argument("--rounds", type=int, default=2, help="with --edits: alternating rounds per server (default 2)")
    parser.add_argument("--files", nargs="*", choices=list(FILES), default=None, help="with --edits: only these kinds of file")
    args = parser.parse_args()
    keystrokes = args.keystrokes or (60 if args.quick else 300)
    if args.edits:
        compile_server()
        await edits_mode(args.keystrokes or (30 if args.quick else 60), args.rounds, args.baseline, args.files)
        return
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
