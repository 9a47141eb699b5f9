"""Counting throughput and cold `check` time, each against a baseline measured in the same run.

    .venv/bin/python bench/tokens_bench.py

1. Bulk counting of the same text: promptwise (cold segment cache) vs raw tiktoken
   `encode_ordinary` (target: at least 0.85x its speed) and vs `litellm.token_counter`
   (target: at least 1.5x faster).
2. Cold wall time of `promptwise check examples/` in a fresh process (target: under 1 s),
   beside the bare interpreter start-up measured the same way.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def corpus(target_chars: int = 2_000_000) -> str:
    """Realistic prompt text: every example file, numbered so no paragraph repeats."""
    sources = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*")) if p.is_file() and p.suffix in (".md", ".prompty", ".prompt", ".txt")]
    parts: list[str] = []
    size = 0
    round_ = 0
    while size < target_chars:
        for i, text in enumerate(sources):
            block = "\n\n".join(f"[{round_}.{i}.{j}] {para}" for j, para in enumerate(text.split("\n\n")))
            parts.append(block)
            size += len(block)
        round_ += 1
    return "\n\n".join(parts)


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_counting() -> None:
    from promptwise.tokens import SegmentCache, get_encoder

    text = corpus()
    encoder = get_encoder("o200k_base")
    raw = encoder._encoding  # the tiktoken Encoding promptwise uses

    def ours() -> int:
        return SegmentCache().count(encoder, text)  # a new cache each time: nothing is reused

    def baseline() -> int:
        return len(raw.encode_ordinary(text))

    assert ours() == baseline(), "counts differ"
    t_ours, t_raw = best_of(ours), best_of(baseline)
    mb = len(text.encode()) / 1e6
    print(f"text: {len(text):,} chars ({mb:.1f} MB), {baseline():,} tokens")
    print(f"  tiktoken encode_ordinary : {t_raw * 1000:8.1f} ms  ({mb / t_raw:5.1f} MB/s)")
    print(f"  promptwise (cold cache)  : {t_ours * 1000:8.1f} ms  ({mb / t_ours:5.1f} MB/s)")
    print(f"  ratio vs tiktoken        : {t_raw / t_ours:5.2f}x  (target >= 0.85x)")

    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    def litellm_count() -> int:
        return litellm.token_counter(model="gpt-4o", text=text)

    theirs = litellm_count()
    t_litellm = best_of(litellm_count, 3)
    print(f"  litellm.token_counter    : {t_litellm * 1000:8.1f} ms  (counts {theirs:,}: it encodes 1,024-char pieces on threads, "
          f"{theirs - baseline():+,} tokens off)")
    print(f"  speedup vs litellm       : {t_litellm / t_ours:5.2f}x  (target >= 1.5x)")
    bench_messages(litellm)


def bench_messages(litellm) -> None:
    """The everyday job: count chat requests (messages with framing) built from realistic prompts."""
    from promptwise.analysis import Analysis, analyze_file
    from promptwise.tokens import CACHE, SegmentCache, tokenizer_for
    import promptwise.tokens.counter as counter

    requests = []
    for path in sorted(EXAMPLES.rglob("*")):
        result = analyze_file(path) if path.is_file() and path.suffix in (".prompty", ".prompt", ".md") else None
        if isinstance(result, Analysis) and result.exact:
            requests.append([{"role": m.role, "content": m.content} for m in result.document.messages])
    # 1,000 distinct requests: every message gets a unique first line so no cache can help.
    batch = [[{"role": m["role"], "content": f"Request {i}.\n{m['content']}"} for m in req] for i in range(1000 // len(requests) + 1) for req in requests][:1000]
    tok = tokenizer_for("gpt-4o")

    def ours() -> int:
        counter.CACHE = SegmentCache()  # cold: nothing reused, nothing read from disk
        total = 0
        for req in batch:
            total += sum(tok.count_message(tok.count(m["content"]), None, m["role"]) for m in req) + 3
        return total

    def theirs() -> int:
        return sum(litellm.token_counter(model="gpt-4o", messages=req) for req in batch)

    saved = counter.CACHE
    try:
        n_ours = ours()
        t_ours, t_theirs = best_of(ours, 3), best_of(theirs, 3)
    finally:
        counter.CACHE = saved
    chars = sum(len(m["content"]) for req in batch for m in req)
    print(f"1,000 chat requests from the examples ({chars / 1e6:.1f} M chars, {n_ours:,} prompt tokens, cold caches)")
    print(f"  promptwise               : {t_ours * 1000:8.1f} ms")
    print(f"  litellm.token_counter    : {t_theirs * 1000:8.1f} ms  (counts {theirs():,})")
    print(f"  speedup vs litellm       : {t_theirs / t_ours:5.2f}x  (target >= 1.5x)")


def bench_cold_check(runs: int = 7) -> None:
    python = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}

    def wall(args: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    check = [python, "-m", "promptwise", "check", "examples/"]
    bare = [python, "-c", "pass"]
    wall(check)  # warm the OS file cache and .pyc files once
    check_times = [wall(check) for _ in range(runs)]
    bare_times = [wall(bare) for _ in range(runs)]
    median = statistics.median(check_times)
    print(f"cold `promptwise check examples/` ({runs} fresh processes)")
    print(f"  median {median * 1000:.0f} ms, best {min(check_times) * 1000:.0f} ms  (target < 1000 ms)")
    print(f"  bare interpreter start-up {statistics.median(bare_times) * 1000:.0f} ms; check is {median / statistics.median(bare_times):.1f}x that")


if __name__ == "__main__":
    bench_counting()
    print()
    bench_cold_check()
