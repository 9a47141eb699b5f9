"""Eval runner benchmark: promptwise vs a bare litellm.acompletion loop, the cached re-run, and peak memory.

Runs against the fake OpenAI-compatible server (tests/evals/fake_server.py) started as a separate process on
127.0.0.1 with a fixed latency, so it does not share this process's GIL. Prints ratios measured in the same run:

- wall time of `promptwise eval` on N cases (default 1,000) at concurrency 50 over the time of a bare
  `litellm.acompletion` loop making the same calls at the same concurrency (target: at most 1.15x);
- the first run over a cached re-run (target: at least 20x);
- peak RSS of a subprocess running `promptwise eval` on a 10,000-case suite (target: under 300 MB).

Usage: .venv/bin/python bench/evals_bench.py [--cases 1000] [--concurrency 50] [--latency 0.05] [--memory-cases 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

PROMPT = ROOT / "examples" / "support" / "triage.prompty"
TICKETS = [
    "My {item} arrived with a cracked {part}. Order NW-{n:06d}. Can you send a replacement?",
    "I was charged twice for order NW-{n:06d}. Please refund the duplicate {item} charge.",
    "Where is my {item}? Tracking for NW-{n:06d} has not moved in a week.",
    "Please cancel order NW-{n:06d}; I ordered the wrong {item} and the {part} does not fit.",
]
ITEMS = ["standing desk frame", "bamboo desktop", "monitor arm", "task chair", "cable tray"]
PARTS = ["leg column", "clamp", "caster", "hinge", "bracket"]


def write_project(folder: Path, url: str, cases: int, concurrency: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROMPT, folder / "triage.prompty")
    (folder / "server-url").write_text(url, encoding="utf-8")
    (folder / "promptwise.toml").write_text(
        f"[evals]\nretries = 0\ntimeout = 60\nconcurrency = {concurrency}\n", encoding="utf-8"
    )
    with open(folder / "tickets.jsonl", "w", encoding="utf-8") as handle:
        for n in range(cases):
            ticket = TICKETS[n % len(TICKETS)].format(item=ITEMS[n % len(ITEMS)], part=PARTS[(n // 3) % len(PARTS)], n=n)
            case = {"name": f"ticket {n}", "vars": {"customer_name": f"Customer {n}", "ticket_body": ticket, "order_history": ""}}
            handle.write(json.dumps(case) + "\n")
    (folder / "triage.evals.yaml").write_text(
        "models: [gpt-4o-mini]\n"
        "params:\n  temperature: 0\n"
        "defaults:\n"
        "  assert:\n"
        "    - type: contains\n      value: 'echo:'\n"
        "    - type: regex\n      value: 'NW-\\d{6}'\n"
        "    - type: not-icontains\n      value: we apologize for any inconvenience\n"
        "    - type: max-tokens\n      value: 800\n"
        "    - type: cost\n      value: 0.01\n"
        "cases_file: tickets.jsonl\n",
        encoding="utf-8",
    )
    return folder / "triage.evals.yaml"


def _routing(suite: Path):
    """The fake server is the user's choice of host (a repository's config cannot choose one)."""
    from promptwise.evals.routing import Routing

    return Routing(api_base=(suite.parent / "server-url").read_text().strip(), source="the bench")


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "evals" / "fake_server.py"), "--latency", str(latency), "--lifetime", "1200"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().split()
    return process, line[1]


async def bare_loop(calls: list[dict], concurrency: int) -> float:
    """The baseline: the same acompletion calls, the same concurrency, nothing else."""
    import litellm

    semaphore = asyncio.Semaphore(concurrency)

    async def one(kwargs: dict) -> None:
        async with semaphore:
            response = await litellm.acompletion(**kwargs)
            assert response.choices[0].message.content

    started = time.perf_counter()
    await asyncio.gather(*(one(k) for k in calls))
    return time.perf_counter() - started


def same_calls(suite: Path) -> list[dict]:
    """The exact requests promptwise makes for this suite (rendered outside the timed part)."""
    from promptwise.evals import RunOptions, load_suite
    from promptwise.evals.calls import Secrets
    from promptwise.evals.runner import prepare, render_case

    prepared = prepare(load_suite(suite), RunOptions(use_cache=False, routing=_routing(suite)))
    target = prepared.targets[0]
    secrets = Secrets()
    calls = []
    for case in prepared.loaded.cases:
        rendered = render_case(prepared, case, secrets)
        calls.append(
            {
                **prepared.params,
                "model": target.model,
                "messages": rendered.messages,
                "api_base": target.api_base,
                "api_key": target.api_key(),
                "timeout": prepared.timeout,
                "num_retries": 0,
                "max_retries": 0,
                "drop_params": True,
            }
        )
    return calls


async def promptwise_run(suite: Path, cache_dir: Path, use_cache: bool) -> tuple[float, dict]:
    from promptwise.evals import RunOptions, run_suite

    started = time.perf_counter()
    result = await run_suite(suite, RunOptions(use_cache=use_cache, cache_dir=cache_dir, routing=_routing(suite)))
    elapsed = time.perf_counter() - started
    return elapsed, {**result.counts, "cached": result.cached}


def runner_cpu_per_case(suite: Path, calls: list[dict], work: Path) -> float:
    """CPU that promptwise itself spends per case (render, cache, assertions, results), measured with
    litellm.acompletion replaced by a stub that returns a real response: the bare loop's cost is subtracted."""
    import litellm

    real = litellm.acompletion
    response = asyncio.run(real(**calls[0]))

    async def stub(**kwargs):
        await asyncio.sleep(0.001)
        return response

    litellm.acompletion = stub
    try:
        started = time.process_time()
        asyncio.run(bare_loop(calls, 50))
        bare = time.process_time() - started
        started = time.process_time()
        asyncio.run(promptwise_run(suite, work / "cache-stub", use_cache=True))
        ours = time.process_time() - started
    finally:
        litellm.acompletion = real
    return max(0.0, ours - bare) / len(calls)


def memory_run(folder: Path) -> tuple[float, int, str]:
    """`promptwise eval` (results.json included) in a fresh process; returns seconds, peak RSS in bytes, summary."""
    script = (
        "import resource, sys\n"
        "from promptwise.cli.main import main\n"
        "url = open('server-url').read().strip()\n"
        "code = main(['eval', 'triage.evals.yaml', '--no-cache', '--junit', 'junit.xml', '--api-base', url])\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(f'MAXRSS {rss * (1 if sys.platform == \"darwin\" else 1024)}')\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    rss = next((int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("MAXRSS")), 0)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("ran ")), done.stderr[-500:])
    return elapsed, rss, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each side, interleaved")
    parser.add_argument("--memory-cases", type=int, default=10000, help="0 skips the memory run")
    args = parser.parse_args()

    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    server, url = start_server(args.latency)
    work = Path(tempfile.mkdtemp(prefix="promptwise-evals-bench-"))
    try:
        suite = write_project(work / "speed", url, args.cases, args.concurrency)
        calls = same_calls(suite)
        import litellm

        litellm.suppress_debug_info = True
        # Warm both paths once (imports, connection pools) before timing.
        asyncio.run(bare_loop(calls[:5], 5))
        asyncio.run(promptwise_run(suite, work / "warm-cache", use_cache=False))

        bare_times, ours_times, ratios = [], [], []
        for round_ in range(args.rounds):
            # Alternate which side goes first; compare each round's pair, so load drifting on a shared
            # machine cancels out instead of landing on one side.
            pair = {}
            for side in ("bare", "ours") if round_ % 2 == 0 else ("ours", "bare"):
                if side == "bare":
                    pair[side] = asyncio.run(bare_loop(calls, args.concurrency))
                else:
                    elapsed, counts = asyncio.run(promptwise_run(suite, work / f"cache-{round_}", use_cache=True))
                    assert counts["passed"] == args.cases, counts
                    pair[side] = elapsed
            bare_times.append(pair["bare"])
            ours_times.append(pair["ours"])
            ratios.append(pair["ours"] / pair["bare"])
        cached_times = []
        for _ in range(3):
            elapsed, counts = asyncio.run(promptwise_run(suite, work / "cache-0", use_cache=True))
            assert counts["cached"] == args.cases, counts
            cached_times.append(elapsed)
        cached = statistics.median(cached_times)
        own = runner_cpu_per_case(suite, calls, work)
        bare, ours = statistics.median(bare_times), statistics.median(ours_times)
        print(f"{args.cases} cases, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms, {os.cpu_count()} cores")
        print(f"  bare litellm.acompletion loop: median {bare:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in bare_times)})")
        print(f"  promptwise eval, uncached:     median {ours:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in ours_times)})")
        print(f"  promptwise eval, cached:       median {cached:6.3f} s   (runs: {', '.join(f'{t:.3f}' for t in cached_times)})")
        print(f"  promptwise's own CPU per case (litellm stubbed out): {own * 1000:.2f} ms")
        print(f"  overhead ratio (target <= 1.15x):      {statistics.median(ratios):.3f}x (median of paired rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
        print(f"  cached speedup (target >= 20x):        {ours / cached:.1f}x")

        if args.memory_cases:
            memory_suite = write_project(work / "memory", url, args.memory_cases, args.concurrency)
            seconds, rss, summary = memory_run(memory_suite.parent)
            print(f"{args.memory_cases} cases in a fresh `promptwise eval` process: {seconds:.1f} s; {summary}")
            print(f"  peak memory (target < 300 MB):         {rss / 1e6:.0f} MB")
    finally:
        server.stdin.close()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
